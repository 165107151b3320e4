"""The verification page of a signature, the attestation that points to it, and the
deliberation a moderator made public.

The attestation's QR code leads to `/verifier/<public id>/`: the page shows the
signature's public record while it is published, says when it was withdrawn or
refused after publication, and answers 404 for every other reference.
"""

from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from signatures.models import Signature
from signatures.proof.storage import deliberation_response

from .filters import public_row

Status = Signature.Status


@require_safe
def verify(request, public_id):
    """A published signature's public record, or the date it was withdrawn."""
    signature = _verifiable_or_none(public_id)
    if signature is None:
        # The reference is not repeated: the page would print whatever text a link puts there.
        return render(request, "public/verify_unknown.html", status=404)
    # Only public fields reach the template: never the signature itself, which
    # holds the email address, phone and IP address.
    context = {
        "declaration": signature.declaration,
        "public_id": signature.public_id,
        "is_published": signature.status == Status.PUBLISHED,
        # Withdrawn by the territory, or refused by moderators after publication: either
        # way the attestation no longer stands, and the page says since when.
        "withdrawn_at": signature.withdrawn_at or signature.rejected_at,
        "verification_url": signature.verification_url,
    }
    if context["is_published"]:
        context |= {
            "record": public_row(signature),
            "signed_at": signature.confirmed_at or signature.submitted_at,
            "published_at": signature.published_at,
            "verification": signature.get_verification_display(),
            "departement_code": _departement_code(signature),
        }
    return render(request, "public/verify.html", context)


@require_safe
def attestation(request, public_id):
    """The PDF attestation of a published signature.

    Public on purpose, like the list it repeats: it holds only public data, and
    proves nothing by itself. The verification page its QR code leads to is what
    says whether the signature still stands.
    """
    signature = _verifiable_or_none(public_id)
    if signature is None or signature.status != Status.PUBLISHED:
        raise Http404("no published signature has this reference")
    name = slugify(signature.territory.name) or slugify(signature.territory.code)
    # reportlab weighs 14 MiB in every web process: loaded by the one view that draws a PDF.
    from signatures.proof.attestation import attestation_pdf  # noqa: PLC0415

    response = HttpResponse(attestation_pdf(signature), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="attestation-{name}-{signature.public_id}.pdf"'
    )
    return response


@require_safe
def deliberation(request, public_id):
    """A published signature's deliberation (PDF), once a moderator made it public.

    Every other case answers 404, as an unknown reference: no deliberation, one
    kept private, a signature not or no longer published.
    """
    signature = (
        Signature.objects.published()
        .filter(public_id=public_id, deliberation_is_public=True)
        .exclude(deliberation="")
        .first()
    )
    if signature is None:
        raise Http404("no public deliberation has this reference")
    return deliberation_response(signature)


def _verifiable_or_none(public_id: str) -> Signature | None:
    """The signature if it is published, or was published and then withdrawn or refused.

    An attestation printed while it was published leads here: the page must say it
    no longer stands. One withdrawn or refused before publication never had a public
    record, and answers like an unknown reference.
    """
    return (
        Signature.objects.select_related(
            "declaration", "territory__departement", "territory__region"
        )
        .filter(
            Q(status=Status.PUBLISHED)
            | Q(status__in=(Status.WITHDRAWN, Status.REJECTED), published_at__isnull=False),
            public_id=public_id,
        )
        .first()
    )


def _departement_code(signature: Signature) -> str:
    departement = signature.territory.departement
    return departement.code if departement else ""
