"""Celery tasks: thin, take primary keys, dispatched after commit."""

import logging
import smtplib

from celery import shared_task
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import emails, services
from .models import ModerationEvent, Signature

logger = logging.getLogger(__name__)

# Errors worth another try: the SMTP server or the network, not our own bugs.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, OSError)


@shared_task(
    name="signatures.send_confirmation_email",
    bind=True,
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def send_confirmation_email(self, signature_id: int) -> None:
    """Send the confirmation link once per queued request.

    The row lock and the sent/queued comparison make a retried or duplicated
    message a no-op once the email is out; the SMTP call happens inside the
    lock so two workers cannot both send it.
    """
    try:
        with transaction.atomic():
            signature = (
                Signature.objects.select_for_update(of=("self",))
                .select_related("declaration", "territory")
                .filter(pk=signature_id, status=Signature.Status.PENDING)
                .first()
            )
            if signature is None or _already_sent(signature):
                return
            emails.send_confirmation(signature)
            Signature.objects.filter(pk=signature_id).update(
                confirmation_sent_at=timezone.now(),
                confirmation_send_count=F("confirmation_send_count") + 1,
                confirmation_failed_at=None,
                confirmation_error="",
            )
    except TRANSIENT_EMAIL_ERRORS as exc:
        # The transaction rolled back; the failure is recorded on its own.
        if self.request.retries >= self.max_retries:
            Signature.objects.filter(pk=signature_id).update(
                confirmation_failed_at=timezone.now(), confirmation_error=repr(exc)[:300]
            )
            logger.error("Confirmation email for signature %s failed: %r", signature_id, exc)
        raise


def _already_sent(signature: Signature) -> bool:
    sent, queued = signature.confirmation_sent_at, signature.confirmation_queued_at
    return sent is not None and (queued is None or sent >= queued)


@shared_task(name="signatures.update_signature_count")
def update_signature_count(declaration_id: int) -> None:
    services.update_signature_count(declaration_id=declaration_id)


@shared_task(
    name="signatures.send_decision_email",
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def send_decision_email(event_id: int) -> None:
    """Tell the signatory about a moderation decision, once: `notified_at` is the guard."""
    with transaction.atomic():
        event = (
            ModerationEvent.objects.select_for_update(of=("self",))
            .select_related("signature__declaration", "signature__territory")
            .filter(pk=event_id, notified_at__isnull=True)
            .first()
        )
        if event is None or not event.signature.email:  # sent already, or anonymised
            return
        emails.send_decision(event)
        ModerationEvent.objects.filter(pk=event_id).update(notified_at=timezone.now())
