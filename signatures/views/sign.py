"""The signing page and the "check your inbox" page that follows it."""

import copy
import time

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_safe

from core.proxies import client_ip
from core.resilience import count_request, retry_once_on_database_restart
from declarations.models import Declaration
from proconnect import session as proconnect
from territories.models import Territory
from territories.normalize import normalize
from territories.search import search_territories

from ..forms import SignatureForm, already_signed_message, started_stamp
from ..models import CONFIRMATION_VALID_DAYS, Signature
from ..proof import deliberations
from ..services import Source, TerritoryAlreadySigned
from ..signing import sign_declaration

# Per IP and hour. Past SIGN_PER_HOUR a submission is kept silently as suspect (a town
# hall behind one address may sign for a few bodies, a script for hundreds); past
# SIGN_HARD_PER_HOUR it is refused before anything is validated or rendered. One
# counter serves both.
SIGN_PER_HOUR = 20
SIGN_HARD_PER_HOUR = 60
# Sent this soon after the form was served, nobody has filled it: a script posting
# back what it fetched. Kept low on purpose: a person, or a scripted browser test
# that types, is always slower; slower-than-a-script but fast is only flagged.
SUSPECT_FILL_SECONDS = 0.5
# The inbox page names the address; a signed cookie for that page alone carries it,
# rather than a session row written for every signature.
INBOX_COOKIE = "signature_email"
INBOX_COOKIE_SECONDS = 3600


@require_http_methods(["GET", "POST"])
@retry_once_on_database_restart
def sign(request, slug):
    is_plain_get = request.method == "GET" and not request.GET
    declaration = (
        _declaration_to_show(slug) if is_plain_get else get_object_or_404(Declaration, slug=slug)
    )
    if not declaration.is_signable():
        return _closed(request, declaration)
    identity = proconnect.identity(request)
    # len() leaves any flash message for the page, which then renders as usual.
    if is_plain_get and identity is None and not len(messages.get_messages(request)):
        return _blank_form(request, declaration)
    form = _sign_form(request, declaration, identity)
    if not form.is_bound:
        return _sign_page(request, declaration, form, identity)
    # Only real submissions count: searching without JavaScript is free.
    sent = count_request(request, "sign", f"{SIGN_HARD_PER_HOUR}/h")
    if sent > SIGN_HARD_PER_HOUR:
        return _too_many_signatures()
    if form.is_valid():
        response = _record_signature(request, declaration, form, over_limit=sent > SIGN_PER_HOUR)
        if response:
            return response
    return _sign_page(request, declaration, form, identity, status=400)


def _closed(request, declaration) -> HttpResponse:
    status = 403 if request.method == "POST" else 200
    context = {"declaration": declaration}
    return render(request, "signatures/closed.html", context, status=status)


def _too_many_signatures() -> HttpResponse:
    """Refused before anything is validated or rendered: a script, not a town hall."""
    return HttpResponse(
        _("Trop de signatures envoyées depuis votre connexion. Réessayez dans une heure."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )


def _sign_form(request, declaration, identity) -> SignatureForm:
    action = request.POST.get("action")
    if action in ("search", "forget_territory"):
        # The no-JavaScript search (and its way to untick a territory, which a radio button
        # cannot do): show results, keep what was typed, judge nothing yet.
        initial = _as_initial(request.POST)
        if action == "forget_territory":
            initial.pop("territory", None)
        return SignatureForm(initial=initial, declaration=declaration, identity=identity)
    if request.method == "POST":
        return SignatureForm(
            request.POST, request.FILES, declaration=declaration, identity=identity
        )
    return SignatureForm(declaration=declaration, identity=identity)


def _as_initial(data) -> dict:
    initial = {key: data.get(key) for key in data if key != "csrfmiddlewaretoken"}
    initial["networks"] = data.getlist("networks")
    return initial


def _sign_page(request, declaration, form, identity, *, status=200) -> HttpResponse:
    context = _page_context(declaration, form, identity, results=_territory_results(form))
    return render(request, "signatures/sign.html", context, status=status)


def _page_context(declaration, form, identity, *, results) -> dict:
    return {
        "declaration": declaration,
        "form": form,
        "results": results,
        "proconnect_configured": proconnect.is_configured(),
        "proconnect_identity": identity,
        "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
    }


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
        signature = sign_declaration(
            declaration=declaration,
            territory=form.territory_to_sign(),
            signatory=form.signatory(),
            networks=list(form.cleaned_data["networks"]),
            source=Source(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")),
            suspect_reason=_suspect_reason(form, over_limit=over_limit),
        )
    except TerritoryAlreadySigned as exc:
        form.add_territory_error(already_signed_message(declaration, exc.live))
        return None
    if upload := form.cleaned_data.get("deliberation"):
        signature = deliberations.attach_deliberation(
            signature_id=signature.pk, uploaded_file=upload
        )
    if signature.status in Signature.LIVE_STATUSES:  # verified by ProConnect: no email round trip
        messages.success(request, _verified_message(signature))
        return redirect(declaration)
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


# The page names the signatory's address: kept by no cache, shared or the browser's.
@require_safe
@cache_control(private=True, no_store=True)
def check_inbox(request, slug):
    declaration = get_object_or_404(Declaration, slug=slug)
    email = request.get_signed_cookie(
        INBOX_COOKIE, default=None, salt=INBOX_COOKIE, max_age=INBOX_COOKIE_SECONDS
    )
    return render(
        request,
        "signatures/check_inbox.html",
        {
            "declaration": declaration,
            "email": email,
            "valid_days": CONFIRMATION_VALID_DAYS,
            "moderation_delay_days": settings.MODERATION_DELAY_DAYS,
        },
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
        cached = (time.monotonic() + BLANK_FORM_SECONDS, _render_blank_form(request, declaration))
        _blank_forms[key] = cached
    html = cached[1].replace(CSRF_PLACEHOLDER, get_token(request))
    return HttpResponse(html.replace(STARTED_PLACEHOLDER, started_stamp()))


def _render_blank_form(request, declaration) -> str:
    form = SignatureForm(declaration=declaration)
    form.fields["started"].initial = STARTED_PLACEHOLDER
    context = _page_context(declaration, form, None, results=[])
    context["csrf_token"] = CSRF_PLACEHOLDER
    return render_to_string("signatures/sign.html", context, request=request)
