"""The moderators' decisions beyond a signature's status (change_status, in signatures):
links sent again or renewed, corrections decided, a whole source invalidated.

Each function is one state change with its side effects listed, and records an audit event.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from declarations.models import Declaration
from signatures.models import Correction, ModerationEvent, Signature, new_manage_secret
from signatures.services import (
    CORRECTABLE_FIELDS,
    InvalidTransition,
    change_status,
    queue_confirmation,
    queue_stats_refresh,
)
from signatures.tasks import send_correction_decision_email, send_manage_link_email
from territories.normalize import normalize

Status = Signature.Status
Action = ModerationEvent.Action


def resend_link_for_moderator(*, signature_id: int, actor) -> bool:
    """A moderator sends a pending signature its link again.

    Side effects: as send_new_links, for one signature, plus an audit
    event. Returns False (and does nothing) when it is not pending.
    """
    with transaction.atomic():
        signature = Signature.objects.pending().select_for_update().filter(pk=signature_id).first()
        if signature is None:
            return False
        queue_confirmation(signature)
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=Action.RESEND,
            from_status=signature.status,
            to_status=signature.status,
        )
    return True


# Statuses a bulk invalidation takes out; a decided rejection or withdrawal stays as is.
INVALIDATED_STATUSES = (Status.SUSPECT, Status.PENDING, Status.CONFIRMED, Status.PUBLISHED)


def invalidate_by_source(
    *,
    declaration: Declaration,
    source_field: str,
    value: str,
    start: datetime.datetime,
    end: datetime.datetime,
    actor,
    note: str = "",
) -> int:
    """Reject every signature from one source (IP hash, email domain or user agent) in a window.

    Side effects: change_status(REJECT, reason "abusive") for each, with a note
    naming the condition, so each keeps its own audit entry, email and count
    refresh. Returns how many were rejected.
    """
    condition = _("Invalidation groupée : %(field)s = %(value)s, du %(start)s au %(end)s") % {
        "field": source_field,
        "value": value,
        "start": timezone.localtime(start).strftime("%d/%m/%Y %H:%M"),
        "end": timezone.localtime(end).strftime("%d/%m/%Y %H:%M"),
    }
    pks = list(
        Signature.objects.from_source(declaration, source_field, value, start, end)
        .filter(status__in=INVALIDATED_STATUSES)
        .values_list("pk", flat=True)
    )
    rejected = 0
    for pk in pks:
        try:
            change_status(
                signature_id=pk,
                action=Action.REJECT,
                actor=actor,
                reason=ModerationEvent.Reason.ABUSIVE,
                note=f"{condition}. {note}".strip(),
            )
            rejected += 1
        except InvalidTransition:  # decided meanwhile
            continue
    return rejected


def decide_correction(*, correction_id: int, approve: bool, actor) -> Correction:
    """A moderator publishes or refuses a correction of a published signature.

    Side effects: approved, the signature takes the corrected values and
    `corrected_at` (so the counts' version, and the public ETags, change) and
    the counts refresh; records the outcome and an audit event; after commit,
    emails the signatory the decision.
    """
    now = timezone.now()
    with transaction.atomic():
        correction = (
            Correction.objects.select_for_update()
            .select_related("signature")
            .get(pk=correction_id, decided_at__isnull=True)
        )
        signature = correction.signature
        if approve:
            for name in CORRECTABLE_FIELDS:
                setattr(signature, name, getattr(correction, name))
            signature.signatory_search = normalize(f"{signature.first_name} {signature.last_name}")
            signature.corrected_at = now
            signature.save(update_fields=[*CORRECTABLE_FIELDS, "signatory_search", "corrected_at"])
            queue_stats_refresh(signature.declaration_id)
        correction.outcome = (
            Correction.Outcome.APPROVED if approve else Correction.Outcome.REJECTED
        )
        correction.decided_at = now
        correction.save(update_fields=["outcome", "decided_at"])
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=Action.CORRECTION_APPROVED if approve else Action.CORRECTION_REJECTED,
            from_status=signature.status,
            to_status=signature.status,
        )
        transaction.on_commit(
            lambda: send_correction_decision_email.delay(correction.pk), robust=True
        )
    return correction


def renew_manage_link(*, signature_id: int, actor) -> Signature:
    """A moderator revokes a signature's "manage" link and sends a fresh one.

    Side effects: replaces `manage_secret` (every earlier link stops working),
    records an audit event, queues the new link's email after commit.
    """
    with transaction.atomic():
        signature = Signature.objects.select_for_update().get(pk=signature_id)
        signature.manage_secret = new_manage_secret()
        signature.save(update_fields=["manage_secret"])
        ModerationEvent.objects.create(
            signature=signature,
            actor=actor,
            action=Action.NEW_MANAGE_LINK,
            from_status=signature.status,
            to_status=signature.status,
        )
        if signature.email:
            transaction.on_commit(lambda: send_manage_link_email.delay(signature.pk), robust=True)
    return signature
