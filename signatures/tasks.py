"""Celery tasks: thin, take primary keys, dispatched after commit."""

import logging

from celery import shared_task
from django.utils import timezone

from . import delivery, stats
from .models import ModerationEvent, Signature

logger = logging.getLogger(__name__)

MAX_EMAIL_RETRIES = 6


def _retry_later(task, exc: Exception):
    """Exponential backoff (10 s, 20 s, … at most 10 min) for transient SMTP errors."""
    if task.request.retries >= MAX_EMAIL_RETRIES:
        return exc
    return task.retry(exc=exc, countdown=min(600, 10 * 2**task.request.retries))


def _deliver(task, deliver, record_failure, what: str) -> None:
    """Send one email: transient errors retried with backoff, a final failure recorded."""
    try:
        deliver()
    except delivery.PermanentEmailError as exc:
        record_failure(exc.__cause__ or exc)
        logger.exception("%s cannot be sent", what)
    except delivery.TRANSIENT_ERRORS as exc:
        final = _retry_later(task, exc)
        record_failure(final)
        raise final from None


@shared_task(name="signatures.send_confirmation_email", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_confirmation_email(self, signature_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_confirmation_email(signature_id=signature_id),
        lambda error: delivery.record_confirmation_failure(signature_id=signature_id, error=error),
        f"Confirmation email for signature {signature_id}",
    )


@shared_task(name="signatures.send_decision_email", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_decision_email(self, event_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_decision_email(event_id=event_id),
        lambda error: delivery.record_decision_failure(event_id=event_id, error=error),
        f"Decision email for moderation event {event_id}",
    )


@shared_task(name="signatures.send_contest_received", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contest_received(self, contest_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_contest_received(contest_id=contest_id),
        lambda error: None,  # the contest stays in the queue, flagged: nothing is lost
        f"Contest notice {contest_id}",
    )


@shared_task(name="signatures.send_contest_answer", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contest_answer(self, contest_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_contest_answer(contest_id=contest_id),
        lambda error: None,  # the decision stands; the admin shows answered_at empty
        f"Contest answer {contest_id}",
    )


@shared_task(name="signatures.sweep_unsent_emails")
def sweep_unsent_emails() -> int:
    """Queue again the emails that were asked for and never left; returns how many.

    Safe to run any time and concurrently: the delivery guards send each email once.
    """
    now = timezone.now()
    confirmations = list(Signature.objects.confirmation_lost(now).values_list("pk", flat=True))
    decisions = list(ModerationEvent.objects.notification_lost(now).values_list("pk", flat=True))
    for pk in confirmations:
        send_confirmation_email.delay(pk)
    for pk in decisions:
        send_decision_email.delay(pk)
    return len(confirmations) + len(decisions)


@shared_task(name="signatures.refresh_stats")
def refresh_stats(declaration_id: int) -> None:
    stats.refresh_stats(declaration_id=declaration_id)


@shared_task(name="signatures.refresh_all_stats")
def refresh_all_stats() -> int:
    return stats.refresh_all_stats()
