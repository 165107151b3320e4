import copy
import time

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core.proxies import client_ip
from core.resilience import count_request, over_limit, retry_once_on_database_restart
from declarations.models import Declaration
from proconnect import session as proconnect
from territories.models import Territory
from territories.normalize import normalize
from territories.search import search_territories

from . import services
from .forms import (
    ContestForm,
    CorrectionForm,
    DeliberationForm,
    ResendForm,
    SignatureForm,
    already_signed_message,
    started_stamp,
)
from .models import CONFIRMATION_VALID_DAYS, Correction, Signature
from .proof import deliberations

# Per IP and hour. Past SIGN_PER_HOUR a submission is kept silently as suspect (a town
# hall behind one address may sign for a few bodies, a script for hundreds); past
# SIGN_HARD_PER_HOUR it is refused before anything is validated or rendered. One
# counter serves both.
SIGN_PER_HOUR = 20
SIGN_HARD_PER_HOUR = 60
RESEND_RATE = "10/h"
CONTEST_RATE = "5/h"
# Sent this soon after the form was served, nobody has filled it: a script posting
# back what it fetched. Kept low on purpose: a person, or a scripted browser test
# that types, is always slower; slower-than-a-script but fast is only flagged.
SUSPECT_FILL_SECONDS = 0.5


@require_http_methods(["GET", "POST"])
@retry_once_on_database_restart
def sign(request, slug):
    if request.method == "GET" and not request.GET:
        declaration = _declaration_to_show(slug)
    else:
        declaration = get_object_or_404(Declaration, slug=slug)
    if not declaration.is_signable():
        status = 403 if request.method == "POST" else 200
        return render(
            request, "signatures/closed.html", {"declaration": declaration}, status=status
        )
    identity = proconnect.identity(request)
    action = request.POST.get("action")
    # len() leaves any flash message for the page, which then renders as usual.
    is_blank = request.method == "GET" and identity is None and not request.GET
    if is_blank and not len(messages.get_messages(request)):
        return _blank_form(request, declaration)
    if action in ("search", "forget_territory"):
        # The no-JavaScript search (and its way to untick a territory, which a radio button
        # cannot do): show results, keep what was typed, judge nothing yet.
        initial = _as_initial(request.POST)
        if action == "forget_territory":
            initial.pop("territory", None)
        form = SignatureForm(initial=initial, declaration=declaration, identity=identity)
    else:
        data = request.POST if request.method == "POST" else None
        files = request.FILES if request.method == "POST" else None
        form = SignatureForm(data, files, declaration=declaration, identity=identity)
    status = 200
    if form.is_bound:
        # Only real submissions count: searching without JavaScript is free.
        sent = count_request(request, "sign", f"{SIGN_HARD_PER_HOUR}/h")
        if sent > SIGN_HARD_PER_HOUR:
            return HttpResponse(
                _("Trop de signatures envoyées depuis votre connexion. Réessayez dans une heure."),
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        is_over_limit = sent > SIGN_PER_HOUR
        if form.is_valid():
            response = _record_signature(request, declaration, form, over_limit=is_over_limit)
            if response:
                return response
        status = 400
    return render(
        request,
        "signatures/sign.html",
        {
            "declaration": declaration,
            "form": form,
            "results": _territory_results(form),
            "proconnect_configured": proconnect.is_configured(),
            "proconnect_identity": identity,
            "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
        },
        status=status,
    )


# The empty form is the same for everyone but for its CSRF token and its start stamp:
# rendered once per declaration and language (crispy-forms makes it the costly part
# of the page), kept a minute in the process, the two values put in per request.
# The declaration it shows is kept as long: its lookup (a query, and the connection's
# health check before it) was then half of the page's time. A save of the declaration
# forgets both in its own process; other processes see it within the minute, as the
# page cache's pages (core/pagecache.py). A submission always reads it afresh.
BLANK_FORM_SECONDS = 60
CSRF_PLACEHOLDER = "csrf-placeholder-7d1c0e"
STARTED_PLACEHOLDER = "started-placeholder-7d1c0e"
_blank_forms: dict[tuple, tuple[float, str]] = {}
_declarations: dict[str, tuple[float, Declaration]] = {}


def clear_blank_forms() -> None:
    _blank_forms.clear()
    _declarations.clear()


def _declaration_to_show(slug: str) -> Declaration:
    cached = _declarations.get(slug)
    if cached is None or cached[0] < time.monotonic():
        declaration = get_object_or_404(Declaration, slug=slug)
        cached = (time.monotonic() + BLANK_FORM_SECONDS, declaration)
        _declarations[slug] = cached
    return copy.copy(cached[1])  # threads share the kept one: each request gets its own


def _blank_form(request, declaration) -> HttpResponse:
    key = (
        declaration.pk,
        declaration.title,
        declaration.moderation,
        get_language(),
        settings.MODERATION_DELAY_DAYS,
        proconnect.is_configured(),
    )
    cached = _blank_forms.get(key)
    if cached is None or cached[0] < time.monotonic():
        form = SignatureForm(declaration=declaration)
        form.fields["started"].initial = STARTED_PLACEHOLDER
        html = render_to_string(
            "signatures/sign.html",
            {
                "declaration": declaration,
                "form": form,
                "results": [],
                "proconnect_configured": key[-1],
                "proconnect_identity": None,
                "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
                "csrf_token": CSRF_PLACEHOLDER,
            },
            request=request,
        )
        cached = (time.monotonic() + BLANK_FORM_SECONDS, html)
        _blank_forms[key] = cached
    html = cached[1].replace(CSRF_PLACEHOLDER, get_token(request))
    return HttpResponse(html.replace(STARTED_PLACEHOLDER, started_stamp()))


def _as_initial(data) -> dict:
    initial = {key: data.get(key) for key in data if key != "csrfmiddlewaretoken"}
    initial["networks"] = data.getlist("networks")
    return initial


def _suspect_reason(form, *, over_limit: bool) -> str:
    """Why a valid submission should be kept aside silently, or "" for a person."""
    if form.is_spam:
        return _("champ piège rempli (robot)")
    if over_limit:
        rate = f"{SIGN_PER_HOUR}/h"
        return _("plus de %(rate)s signatures depuis cette adresse IP") % {"rate": rate}
    seconds = form.elapsed_seconds()
    if seconds is None:
        return _("envoyé sans passer par le formulaire du site")
    if seconds < SUSPECT_FILL_SECONDS:
        return _("formulaire envoyé %(seconds).2f s après son affichage") % {"seconds": seconds}
    return ""


def _record_signature(request, declaration, form, *, over_limit: bool):
    """Save the signature and redirect; None when the territory turned out signed.

    A suspect submission gets the same redirect and page as a person's: the
    sender learns nothing, no email leaves, moderators decide.
    """
    try:
        signature = services.sign_declaration(
            declaration=declaration,
            territory=form.territory_to_sign(),
            signatory=form.signatory(),
            networks=list(form.cleaned_data["networks"]),
            source=services.Source(
                ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
            ),
            suspect_reason=_suspect_reason(form, over_limit=over_limit),
        )
    except services.TerritoryAlreadySigned as exc:
        form.add_territory_error(already_signed_message(declaration, exc.live))
        return None
    if upload := form.cleaned_data.get("deliberation"):
        signature = deliberations.attach_deliberation(
            signature_id=signature.pk, uploaded_file=upload
        )
    if signature.status in Signature.LIVE_STATUSES:  # verified by ProConnect: no email round trip
        messages.success(request, _verified_message(signature))
        return redirect(declaration)
    # The inbox page names the address; a signed cookie for that page alone carries it,
    # rather than a session row written for every signature.
    response = redirect("signatures:check_inbox", slug=declaration.slug)
    response.set_signed_cookie(
        INBOX_COOKIE,
        form.cleaned_data["email"],
        salt=INBOX_COOKIE,
        max_age=INBOX_COOKIE_SECONDS,
        path=reverse("signatures:check_inbox", kwargs={"slug": declaration.slug}),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


INBOX_COOKIE = "signature_email"
INBOX_COOKIE_SECONDS = 3600


def _verified_message(signature) -> str:
    """What a signatory verified by ProConnect reads instead of "check your inbox"."""
    if signature.status == Signature.Status.PUBLISHED:
        return _(
            "Merci ! ProConnect a vérifié que vous représentez ce territoire : votre "
            "signature est confirmée et publiée, sans e-mail de confirmation."
        )
    return _(
        "Merci ! ProConnect a vérifié que vous représentez ce territoire : votre signature "
        "est confirmée, sans e-mail de confirmation. Elle sera publiée après vérification."
    )


def _territory_results(form):
    """Territories matching the typed query, the chosen one first, for the radios."""
    values = form.data if form.is_bound else form.initial
    query = values.get("territory_query") or ""
    results = list(search_territories(query)) if len(normalize(query)) >= 2 else []
    chosen = str(values.get("territory") or "")
    is_pk = chosen.isascii() and chosen.isdigit() and len(chosen) < 19
    if is_pk and all(str(t.pk) != chosen for t in results):
        results = (
            list(Territory.objects.filter(pk=chosen, is_active=True).select_related("departement"))
            + results
        )
    return results


@require_safe
def check_inbox(request, slug):
    declaration = get_object_or_404(Declaration, slug=slug)
    return render(
        request,
        "signatures/check_inbox.html",
        {
            "declaration": declaration,
            "email": request.get_signed_cookie(
                INBOX_COOKIE, default=None, salt=INBOX_COOKIE, max_age=INBOX_COOKIE_SECONDS
            ),
            "valid_days": CONFIRMATION_VALID_DAYS,
            "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
@retry_once_on_database_restart
def confirm(request, token):
    """GET shows a button; only POST confirms, because mail scanners open links."""
    try:
        public_id = Signature.public_id_from_confirmation_token(token)
    except signing.SignatureExpired:
        return _link_problem(request, "expired")
    except signing.BadSignature:
        return _link_problem(request, "invalid")
    signature = (
        Signature.objects.select_related("declaration", "territory")
        .filter(public_id=public_id)
        .first()
    )
    if signature is None:
        return _link_problem(request, "invalid")
    if signature.status != Signature.Status.PENDING:
        return _link_problem(request, "used", signature)
    if request.method == "GET":
        return render(
            request, "signatures/confirm.html", {"signature": signature, **_rivals(signature)}
        )
    try:
        signature = services.confirm_signature(signature_id=signature.pk)
    except services.InvalidTransition:
        return _link_problem(request, "used", signature)
    except services.TerritoryAlreadySigned as exc:
        message = already_signed_message(signature.declaration, exc.live)
        return _link_problem(request, "signed", signature, message=message)
    # The next page reads it from the session: its address names no signature.
    request.session[CONFIRMED_SESSION_KEY] = signature.public_id
    return redirect("signatures:confirmed")


CONFIRMED_SESSION_KEY = "confirmed_signature"


@require_safe
def confirmed(request):
    """After confirming: what happens next, and the links to share the declaration."""
    signature = (
        Signature.objects.select_related("declaration", "territory__departement")
        .filter(public_id=request.session.get(CONFIRMED_SESSION_KEY, ""))
        .exclude(status=Signature.Status.PENDING)
        .first()
    )
    if signature is None:  # another browser, or the session expired: nothing to tell
        return redirect("declarations:home")
    return render(
        request,
        "signatures/confirmed.html",
        {
            "signature": signature,
            "declaration": signature.declaration,
            "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
        },
    )


def _rivals(signature) -> dict:
    """Other signatures for the same territory, told before the button, never who made them.

    A live one (confirmed or published) makes the POST fail; among pending ones, the
    first confirmed wins (the database's partial unique index decides).
    """
    live = services.live_signature_for(
        declaration=signature.declaration, territory=signature.territory
    )
    return {
        "rival_message": already_signed_message(signature.declaration, live) if live else None,
        "rival_pending_count": Signature.objects.pending()
        .for_territory(signature.declaration, signature.territory)
        .exclude(pk=signature.pk)
        .count(),
    }


def _link_problem(request, problem, signature=None, message=None):
    return render(
        request,
        "signatures/link_problem.html",
        {
            "problem": problem,
            "signature": signature,
            "message": message,
            "valid_days": CONFIRMATION_VALID_DAYS,
        },
        status=409 if problem == "signed" else 410 if problem in ("expired", "used") else 400,
    )


@require_http_methods(["GET", "POST"])
def resend(request):
    """A new confirmation link; answers the same whether the address is known or not."""
    return _links_by_email(
        request,
        template="signatures/resend.html",
        send=services.send_new_links,
        sent=_(
            "Si une signature en attente correspond à cette adresse, un nouveau lien "
            "de confirmation vient d'y être envoyé."
        ),
    )


def _links_by_email(request, *, template: str, send, sent: str):
    """The form asking for links by email: rate-limited, and the same answer for any address,
    so it tells nobody which addresses signed."""
    form = ResendForm(request.POST or None)
    if request.method == "POST":
        if over_limit(request, template, RESEND_RATE):
            messages.error(
                request, _("Trop de demandes depuis votre connexion. Réessayez dans une heure.")
            )
            return render(request, template, {"form": form}, status=429)
        if not form.is_valid():
            return render(request, template, {"form": form}, status=400)
        send(email=form.cleaned_data["email"])
        messages.success(request, sent)
        return redirect(request.path)
    return render(request, template, {"form": form})


@require_http_methods(["GET", "POST"])
def contest(request, public_id):
    """ "Ce n'est pas nous ?": report a live signature that does not come from its territory."""
    signature = get_object_or_404(
        Signature.objects.live().select_related("declaration", "territory__departement"),
        public_id=public_id,
    )
    form = ContestForm(request.POST or None)
    context = {"signature": signature, "declaration": signature.declaration, "form": form}
    if request.method == "POST":
        if over_limit(request, "contest", CONTEST_RATE):
            messages.error(
                request, _("Trop de demandes depuis votre connexion. Réessayez dans une heure.")
            )
            return render(request, "signatures/contest.html", context, status=429)
        if not form.is_valid():
            return render(request, "signatures/contest.html", context, status=400)
        if not form.is_spam:  # a robot sees the same answer, nothing is recorded
            services.contest_signature(
                signature_id=signature.pk,
                contester=form.contester(),
                source=services.Source(ip=client_ip(request)),
            )
        messages.success(
            request,
            _(
                "Merci. Les modérateurs examinent votre signalement en priorité et vous "
                "répondront par e-mail."
            ),
        )
        return redirect(signature.declaration)
    return render(request, "signatures/contest.html", context)


MANAGE_RATE = "30/h"


def _private(response):
    """The manage page's token is in its URL: never sent on as a Referer, never cached."""
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def manage(request, token):
    """ "Gérer ma signature": see, correct, withdraw, download. GET never changes anything."""
    signature = Signature.from_manage_token(token)
    if signature is None:
        return _private(render(request, "signatures/manage_invalid.html", status=404))
    action = request.POST.get("action", "")
    form = CorrectionForm(
        request.POST if action == "correct" else None, initial=_correction_initial(signature)
    )
    context = {
        "signature": signature,
        "token": token,
        "form": form,
        "deliberation_form": DeliberationForm(),
    }
    if request.method == "POST":
        if over_limit(request, "manage", MANAGE_RATE):
            messages.error(
                request, _("Trop de demandes depuis votre connexion. Réessayez dans une heure.")
            )
            return _private(render(request, "signatures/manage.html", context, status=429))
        response = _manage_action(request, signature, action, form, context)
        if response is not None:
            return _private(response)
    context.update(_manage_context(signature))
    invalid = (form.is_bound and form.errors) or context["deliberation_form"].errors
    status = 400 if invalid else 200
    return _private(render(request, "signatures/manage.html", context, status=status))


def _manage_action(request, signature, action, form, context):
    """Carry out one POSTed action; a response, or None to show the page again."""
    handler = MANAGE_ACTIONS.get(action)
    if handler is None:
        return None
    here = reverse("signatures:manage", kwargs={"token": context["token"]})
    return handler(request, signature, form=form, context=context, here=here)


def _download_data(request, signature, **_kwargs):
    response = JsonResponse(
        signature_data(signature), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = (
        f'attachment; filename="ma-signature-{signature.public_id}.json"'
    )
    return response


def _withdraw(request, signature, *, context, here, **_kwargs):
    if request.POST.get("confirmed") != "yes":  # first ask, on a page of its own
        return render(request, "signatures/manage_withdraw.html", context)
    try:
        services.withdraw_signature(signature_id=signature.pk)
    except services.InvalidTransition:
        messages.info(request, _("Cette signature est déjà retirée."))
        return redirect(here)
    messages.success(
        request,
        _(
            "Votre signature est retirée. Elle disparaît de la liste publique et des "
            "chiffres dans quelques secondes ; un e-mail vous le confirme."
        ),
    )
    return redirect(here)


def _attach_deliberation(request, signature, *, context, here, **_kwargs):
    upload = DeliberationForm(request.POST, request.FILES)
    context["deliberation_form"] = upload
    if not upload.is_valid():
        return None
    try:
        deliberations.attach_deliberation(
            signature_id=signature.pk, uploaded_file=upload.cleaned_data["deliberation"]
        )
    except services.InvalidTransition:
        messages.error(request, _("Cette signature ne peut plus recevoir de document."))
        return redirect(here)
    messages.success(
        request,
        _(
            "La délibération est jointe. Les modérateurs la verront ; elle n'est publiée "
            "que s'ils le décident."
        ),
    )
    return redirect(here)


def _correct(request, signature, *, form, here, **_kwargs):
    if not form.is_valid():
        return None
    try:
        result = services.correct_signature(signature_id=signature.pk, fields=form.cleaned_data)
    except services.InvalidTransition:
        messages.error(request, _("Une signature retirée ou refusée ne peut plus être corrigée."))
        return redirect(here)
    if isinstance(result, Correction):
        messages.success(
            request,
            _(
                "Votre correction est enregistrée. La signature publique reste inchangée "
                "jusqu'à ce qu'un modérateur la vérifie ; vous serez prévenu·e par e-mail."
            ),
        )
    else:
        messages.success(request, _("Votre signature est corrigée."))
    return redirect(here)


MANAGE_ACTIONS = {
    "download": _download_data,
    "withdraw": _withdraw,
    "deliberation": _attach_deliberation,
    "correct": _correct,
}


def _correction_initial(signature) -> dict:
    """The values to correct from: a correction awaiting review, else the signature's."""
    pending = signature.corrections.filter(decided_at__isnull=True).first()
    source = pending or signature
    return {name: getattr(source, name) for name in services.CORRECTABLE_FIELDS}


def _manage_context(signature) -> dict:
    return {
        "data": signature_data(signature),
        "pending_correction": signature.corrections.filter(decided_at__isnull=True).first(),
        "can_change": signature.status
        not in (Signature.Status.WITHDRAWN, Signature.Status.REJECTED)
        and not signature.anonymised_at,
    }


def signature_data(signature) -> dict:
    """Everything held about the signatory, as they may download it (RGPD art. 15 and 20)."""

    def moment(value):
        return timezone.localtime(value).isoformat() if value else None

    return {
        "reference": signature.public_id,
        "declaration": signature.declaration.title,
        "territory": {
            "name": signature.territory.name,
            "kind": signature.territory.get_kind_display(),
            "code": signature.territory.code,
            "siren": signature.territory.siren,
        },
        "status": signature.get_status_display(),
        "first_name": signature.first_name,
        "last_name": signature.last_name,
        "function": signature.function_label,
        "email": signature.email,
        "phone": signature.phone,
        "networks": [network.short_name for network in signature.networks.all()],
        "comment": signature.comment,
        "consents_to_publication": signature.consents_to_publication,
        "consent_version": signature.consent_version,
        "consented_at": moment(signature.consented_at),
        "consents_to_news": signature.consents_to_news,
        "submitted_at": moment(signature.submitted_at),
        "confirmed_at": moment(signature.confirmed_at),
        "published_at": moment(signature.published_at),
        "rejected_at": moment(signature.rejected_at),
        "withdrawn_at": moment(signature.withdrawn_at),
        "ip_address": signature.submitted_ip,
        "user_agent": signature.user_agent,
        "seconds_to_fill_the_form": signature.fill_seconds,
        "corrections": [
            {
                "submitted_at": moment(correction.submitted_at),
                "outcome": correction.get_outcome_display() or None,
                **{name: getattr(correction, name) for name in services.CORRECTABLE_FIELDS},
            }
            for correction in signature.corrections.all()
        ],
    }


@require_http_methods(["GET", "POST"])
def manage_request(request):
    """A new "manage" link, by email; answers the same whether the address is known or not."""
    return _links_by_email(
        request,
        template="signatures/manage_request.html",
        send=services.send_manage_links,
        sent=_(
            "Si des signatures correspondent à cette adresse, un lien personnel pour "
            "les gérer vient d'y être envoyé."
        ),
    )
