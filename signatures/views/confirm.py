"""The emailed confirmation link, and the page after confirming."""

from django.conf import settings
from django.core import signing
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from core.resilience import retry_once_on_database_restart

from .. import services
from ..forms import already_signed_message
from ..models import CONFIRMATION_VALID_DAYS, Signature

CONFIRMED_SESSION_KEY = "confirmed_signature"


@require_http_methods(["GET", "POST"])
@retry_once_on_database_restart
def confirm(request, token):
    """GET shows a button; only POST confirms, because mail scanners open links."""
    signature, problem = _pending_signature_for(token)
    if problem:
        return _link_problem(request, problem, signature)
    if request.method == "GET":
        context = {"signature": signature, **_rivals(signature)}
        return render(request, "signatures/confirm.html", context)
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


def _pending_signature_for(token) -> tuple[Signature | None, str]:
    """The signature a link confirms, and what is wrong with the link ("" when nothing)."""
    try:
        public_id = Signature.public_id_from_confirmation_token(token)
    except signing.SignatureExpired:
        return None, "expired"
    except signing.BadSignature:
        return None, "invalid"
    signature = (
        Signature.objects.select_related("declaration", "territory")
        .filter(public_id=public_id)
        .first()
    )
    if signature is None:
        return None, "invalid"
    if signature.status != Signature.Status.PENDING:
        return signature, "used"
    return signature, ""


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
