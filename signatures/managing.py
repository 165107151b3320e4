"""What a signatory does from their personal ("manage") link: correct their signature,
withdraw it, or ask for the link again. Each function is one state change, its side
effects listed; status changes go through services.change_status."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from territories.normalize import normalize

from .models import Correction, ModerationEvent, OutgoingEmail, Signature
from .services import CORRECTABLE_FIELDS, InvalidTransition, change_status
from .tasks import send_manage_link_email

Status = Signature.Status
Action = ModerationEvent.Action


def correct_signature(*, signature_id: int, fields: dict) -> Signature | Correction:
    """The signatory fixes their name, function or comment from their personal link.

    Side effects: a signature not yet public (suspect, pending, confirmed) is
    updated in place; a published one gets a Correction awaiting a moderator
    (replacing any earlier one still open), and keeps its public text until
    then. Records an audit event either way. Returns what was written.
    Raises InvalidTransition for a withdrawn or rejected signature.
    """
    values = {name: fields[name] for name in CORRECTABLE_FIELDS}
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature_id)
        if signature.status in (Status.WITHDRAWN, Status.REJECTED) or signature.anonymised_at:
            raise InvalidTransition(signature.status)
        ModerationEvent.objects.create(
            signature=signature,
            action=Action.CORRECT,
            from_status=signature.status,
            to_status=signature.status,
        )
        if signature.status != Status.PUBLISHED:
            for name, value in values.items():
                setattr(signature, name, value)
            signature.signatory_search = normalize(f"{signature.first_name} {signature.last_name}")
            signature.save(update_fields=[*values, "signatory_search"])
            return signature
        Correction.objects.filter(signature=signature, decided_at__isnull=True).delete()
        return Correction.objects.create(signature=signature, **values)


def withdraw_signature(*, signature_id: int) -> Signature:
    """The signatory withdraws their territory's signature from their personal link.

    Side effects: as change_status(WITHDRAW): gone from every public output once
    the counts refresh, the territory free to sign again, an email acknowledging
    it; its personal data are erased after RETENTION_ENDED_DAYS.
    """
    return change_status(
        signature_id=signature_id,
        action=Action.WITHDRAW,
        note=_("Retrait demandé par le signataire depuis son lien personnel."),
    )


def send_manage_links(*, email: str) -> int:
    """Send each signature of this address its "manage" link (the public form).

    Side effects: queues one email per signature after commit, within the
    address's caps. Returns how many were queued; the view must not reveal it.
    """
    signatures = list(
        Signature.objects.filter(email__iexact=email, anonymised_at__isnull=True)
        .exclude(status=Status.SUSPECT)
        .values_list("pk", flat=True)
    )
    queued = 0
    with transaction.atomic():
        for pk in signatures:
            if not OutgoingEmail.objects.claim(email=email, kind="manage", now=timezone.now()):
                break
            transaction.on_commit(lambda pk=pk: send_manage_link_email.delay(pk), robust=True)
            queued += 1
    return queued
