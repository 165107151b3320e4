""" "Gérer ma signature": the signatory's page behind their personal link — see, correct,
withdraw, attach a deliberation, download. GET never changes anything."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from core.forms import refuse_post

from .. import managing, services
from ..forms import CorrectionForm, DeliberationForm
from ..models import Correction, Signature
from ..proof import deliberations

MANAGE_RATE = "30/h"
TEMPLATE = "signatures/manage.html"


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
        response = refuse_post(
            request, scope="manage", rate=MANAGE_RATE, template=TEMPLATE, context=context
        ) or _manage_action(request, signature, action, form, context)
        if response is not None:
            return _private(response)
    context.update(_manage_context(signature))
    invalid = (form.is_bound and form.errors) or context["deliberation_form"].errors
    return _private(render(request, TEMPLATE, context, status=400 if invalid else 200))


def _manage_action(request, signature, action, form, context):
    """Carry out one POSTed action; a response, or None to show the page again."""
    handler = MANAGE_ACTIONS.get(action)
    if handler is None:
        return None
    here = reverse("signatures:manage", kwargs={"token": context["token"]})
    try:
        return handler(request, signature, form=form, context=context, here=here)
    except services.InvalidTransition:  # the signature changed: say why nothing was done
        level, message = REFUSALS[action]
        messages.add_message(request, level, message)
        return redirect(here)


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
    managing.withdraw_signature(signature_id=signature.pk)
    return _done(
        request,
        here,
        _(
            "Votre signature est retirée. Elle disparaît de la liste publique et des "
            "chiffres dans quelques secondes ; un e-mail vous le confirme."
        ),
    )


def _attach_deliberation(request, signature, *, context, here, **_kwargs):
    upload = DeliberationForm(request.POST, request.FILES)
    context["deliberation_form"] = upload
    if not upload.is_valid():
        return None
    deliberations.attach_deliberation(
        signature_id=signature.pk, uploaded_file=upload.cleaned_data["deliberation"]
    )
    return _done(
        request,
        here,
        _(
            "La délibération est jointe. Elle comptera dans le niveau de vérification une "
            "fois acceptée par les modérateurs ; elle n'est publiée que s'ils le décident."
        ),
    )


def _correct(request, signature, *, form, here, **_kwargs):
    if not form.is_valid():
        return None
    result = managing.correct_signature(signature_id=signature.pk, fields=form.cleaned_data)
    if not isinstance(result, Correction):
        return _done(request, here, _("Votre signature est corrigée."))
    return _done(
        request,
        here,
        _(
            "Votre correction est enregistrée. La signature publique reste inchangée "
            "jusqu'à ce qu'un modérateur la vérifie ; vous serez prévenu·e par e-mail."
        ),
    )


def _done(request, here, message):
    """Back to the page, which says what was done (POST/redirect/GET)."""
    messages.success(request, message)
    return redirect(here)


MANAGE_ACTIONS = {
    "download": _download_data,
    "withdraw": _withdraw,
    "deliberation": _attach_deliberation,
    "correct": _correct,
}
# What each action says when the signature's status no longer allows it.
REFUSALS = {
    "withdraw": (messages.INFO, gettext_lazy("Cette signature est déjà retirée.")),
    "deliberation": (
        messages.ERROR,
        gettext_lazy("Cette signature ne peut plus recevoir de document."),
    ),
    "correct": (
        messages.ERROR,
        gettext_lazy("Une signature retirée ou refusée ne peut plus être corrigée."),
    ),
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
        # A refused signature may still join a deliberation: it is how a signatory
        # contests « ne représente pas ce territoire » (proof.deliberations).
        "can_attach": signature.status != Signature.Status.WITHDRAWN
        and not signature.anonymised_at,
    }


def _moment(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


def _filler_data(signature) -> dict | None:
    """Who filled the form on the executive's behalf, when someone did."""
    if not signature.signs_on_behalf:
        return None
    return {
        "first_name": signature.filler_first_name,
        "last_name": signature.filler_last_name,
        "function": signature.filler_function,
    }


def _deliberation_data(signature) -> dict | None:
    """The attached deliberation: when, and what moderators made of it (not the file)."""
    if not signature.deliberation:
        return None
    return {
        "uploaded_at": _moment(signature.deliberation_uploaded_at),
        "review": signature.get_deliberation_review_display(),
        "refusal_reason": signature.get_deliberation_refusal_reason_display() or None,
        "refusal_note": signature.deliberation_refusal_note or None,
        "is_public": signature.deliberation_is_public,
    }


def signature_data(signature) -> dict:
    """Everything held about the signatory, as they may download it (RGPD art. 15 and 20)."""
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
        "civility": signature.get_civility_display(),
        "first_name": signature.first_name,
        "last_name": signature.last_name,
        "function": signature.function_label,
        "filled_on_behalf_by": _filler_data(signature),
        "deliberation": _deliberation_data(signature),
        "email": signature.email,
        "phone": signature.phone,
        "networks": [network.short_name for network in signature.networks.all()],
        "comment": signature.comment,
        "consents_to_publication": signature.consents_to_publication,
        "consent_version": signature.consent_version,
        "consented_at": _moment(signature.consented_at),
        "consents_to_news": signature.consents_to_news,
        "submitted_at": _moment(signature.submitted_at),
        "confirmed_at": _moment(signature.confirmed_at),
        "published_at": _moment(signature.published_at),
        "rejected_at": _moment(signature.rejected_at),
        "withdrawn_at": _moment(signature.withdrawn_at),
        "ip_address": signature.submitted_ip,
        "user_agent": signature.user_agent,
        "seconds_to_fill_the_form": signature.fill_seconds,
        "corrections": [
            {
                "submitted_at": _moment(correction.submitted_at),
                "outcome": correction.get_outcome_display() or None,
                **{name: getattr(correction, name) for name in services.CORRECTABLE_FIELDS},
            }
            for correction in signature.corrections.all()
        ],
    }
