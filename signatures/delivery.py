"""Email delivery: each queued email leaves once, failures are told apart (core.mail's
rule), lost ones recovered."""

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from core.mail import is_transient

from . import emails
from .models import Contest, Correction, ModerationEvent, OutgoingEmail, Signature

Status = Signature.Status


class PermanentEmailError(Exception):
    """The email cannot be delivered by trying again (bad address, broken template…)."""


def deliver_confirmation_email(*, signature_id: int) -> None:
    """Send the confirmation link once per queued request.

    Side effects: locks the row, sends, records `confirmation_sent_at` and
    increments `confirmation_send_count`. A duplicated or retried call finds
    the email sent after the last `confirmation_queued_at` and does nothing.
    Transient SMTP errors propagate for the task to retry; any other error is
    raised as PermanentEmailError, for the task to record with
    record_confirmation_failure once this transaction has rolled back.
    """
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update(of=("self",))
            .select_related("declaration", "territory__departement")
            .filter(pk=signature_id, status=Status.PENDING)
            .first()
        )
        if signature is None or signature.confirmation_sent_after_queued:
            return
        _send_or_classify(emails.send_confirmation, signature)
        Signature.objects.filter(pk=signature_id).update(
            confirmation_sent_at=Now(),
            confirmation_send_count=F("confirmation_send_count") + 1,
            confirmation_failed_at=None,
            confirmation_error="",
            confirmation_retry_at=None,
        )


def _send_or_classify(send, obj) -> None:
    try:
        send(obj)
    except Exception as exc:
        if is_transient(exc):
            raise
        raise PermanentEmailError(exc) from exc


def record_confirmation_failure(*, signature_id: int, error: Exception) -> None:
    """Called once the sending transaction has rolled back, so the record stays."""
    Signature.objects.filter(pk=signature_id).update(
        confirmation_failed_at=Now(), confirmation_error=repr(error)[:300]
    )


def record_decision_failure(*, event_id: int, error: Exception) -> None:
    """The decision email failed for good: the sweeper skips it, moderators see it."""
    ModerationEvent.objects.filter(pk=event_id, notified_at__isnull=True).update(
        notification_failed_at=Now(), notification_error=repr(error)[:300]
    )


def deliver_decision_email(*, event_id: int) -> None:
    """Tell the signatory about a moderation decision, once: `notified_at` is the guard.

    Side effects and errors as deliver_confirmation_email; an anonymised
    signatory (no address) is not written to.
    """
    with transaction.atomic():
        event = (
            ModerationEvent.objects.select_for_update(of=("self",))
            .select_related("signature__declaration", "signature__territory__departement")
            .filter(pk=event_id, notified_at__isnull=True)
            .first()
        )
        if event is None or not event.signature.email:
            return
        _send_or_classify(emails.send_decision, event)
        ModerationEvent.objects.filter(pk=event_id).update(
            notified_at=Now(),
            notification_failed_at=None,
            notification_error="",
            notification_retry_at=None,
        )


def deliver_contest_received(*, contest_id: int) -> None:
    """Tell the moderators about a contest, and acknowledge it to the contester, once.

    The acknowledgement counts against the contester's address caps: a contest
    naming somebody else's address cannot be used to mail-bomb them.
    """
    with transaction.atomic():
        contest = (
            Contest.objects.select_for_update(of=("self",))
            .select_related("signature__territory__departement", "signature__declaration")
            .filter(pk=contest_id, received_notice_sent_at__isnull=True)
            .first()
        )
        if contest is None:
            return
        recipients = emails.moderator_addresses()
        if recipients:
            _send_or_classify(lambda c: emails.send_contest_to_moderators(c, recipients), contest)
        if OutgoingEmail.objects.claim(email=contest.email, kind="contest", now=timezone.now()):
            _send_or_classify(emails.send_contest_acknowledgement, contest)
        Contest.objects.filter(pk=contest_id).update(received_notice_sent_at=Now())


def deliver_contest_answer(*, contest_id: int) -> None:
    """Tell the contester how their contest was decided, once (`answered_at` is the guard)."""
    with transaction.atomic():
        contest = (
            Contest.objects.select_for_update(of=("self",))
            .select_related("signature__territory__departement", "signature__declaration")
            .filter(pk=contest_id, decided_at__isnull=False, answered_at__isnull=True)
            .first()
        )
        if contest is None:
            return
        _send_or_classify(emails.send_contest_answer, contest)
        Contest.objects.filter(pk=contest_id).update(answered_at=Now())


def deliver_manage_link(*, signature_id: int) -> None:
    """Send a signatory their "manage my signature" link (asked for, or renewed)."""
    signature = (
        Signature.objects.select_related("declaration", "territory__departement")
        .filter(pk=signature_id, anonymised_at__isnull=True)
        .exclude(email="")
        .first()
    )
    if signature is not None:
        _send_or_classify(emails.send_manage_link, signature)


def deliver_correction_decision(*, correction_id: int) -> None:
    """Tell the signatory whether their correction was published."""
    correction = (
        Correction.objects.select_related(
            "signature__declaration", "signature__territory__departement"
        )
        .filter(pk=correction_id, decided_at__isnull=False)
        .exclude(signature__email="")
        .first()
    )
    if correction is not None:
        _send_or_classify(emails.send_correction_decision, correction)
