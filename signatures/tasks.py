"""Celery tasks: thin, take primary keys, dispatched after commit."""

import datetime
import logging

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.mail import MAX_EMAIL_RETRIES, TRANSIENT_ERRORS, backoff
from core.resilience import DATABASE_RESTART_ERRORS, cache_or_none, write_cache_quietly

from . import delivery, stats
from .models import ModerationEvent, Signature
from .proof import levels

logger = logging.getLogger(__name__)

# A connection lost while PostgreSQL restarts: try again shortly, a few times.
DATABASE_RETRY_SECONDS = 2


def _deliver(task, deliver, record_failure, record_retry, what: str) -> None:
    """Send one email: transient errors retried with backoff (the row records when, so
    the sweeper waits), a final failure recorded, a database restart waited out."""
    try:
        deliver()
    except delivery.PermanentEmailError as exc:
        record_failure(exc.__cause__ or exc)
        logger.exception("%s cannot be sent", what)
    except DATABASE_RESTART_ERRORS as exc:
        raise task.retry(exc=exc, countdown=DATABASE_RETRY_SECONDS) from None
    except TRANSIENT_ERRORS as exc:
        if task.request.retries >= MAX_EMAIL_RETRIES:
            record_failure(exc)
            raise
        countdown = backoff(task.request.retries)
        record_retry(timezone.now() + datetime.timedelta(seconds=countdown))
        raise task.retry(exc=exc, countdown=countdown) from None


@shared_task(name="signatures.send_confirmation_email", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_confirmation_email(self, signature_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_confirmation_email(signature_id=signature_id),
        lambda error: delivery.record_confirmation_failure(signature_id=signature_id, error=error),
        lambda when: Signature.objects.filter(pk=signature_id).update(confirmation_retry_at=when),
        f"Confirmation email for signature {signature_id}",
    )


@shared_task(name="signatures.send_decision_email", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_decision_email(self, event_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_decision_email(event_id=event_id),
        lambda error: delivery.record_decision_failure(event_id=event_id, error=error),
        lambda when: ModerationEvent.objects.filter(pk=event_id).update(
            notification_retry_at=when
        ),
        f"Decision email for moderation event {event_id}",
    )


@shared_task(name="signatures.send_contest_received", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contest_received(self, contest_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_contest_received(contest_id=contest_id),
        lambda error: None,  # the contest stays in the queue, flagged: nothing is lost
        lambda when: None,
        f"Contest notice {contest_id}",
    )


@shared_task(name="signatures.send_contest_answer", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_contest_answer(self, contest_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_contest_answer(contest_id=contest_id),
        lambda error: None,  # the decision stands; the admin shows answered_at empty
        lambda when: None,
        f"Contest answer {contest_id}",
    )


@shared_task(name="signatures.send_manage_link", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_manage_link_email(self, signature_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_manage_link(signature_id=signature_id),
        lambda error: None,  # the signatory can ask again from /signatures/gerer/
        lambda when: None,
        f"Manage link for signature {signature_id}",
    )


@shared_task(name="signatures.send_correction_decision", bind=True, max_retries=MAX_EMAIL_RETRIES)
def send_correction_decision_email(self, correction_id: int) -> None:
    _deliver(
        self,
        lambda: delivery.deliver_correction_decision(correction_id=correction_id),
        lambda error: None,  # the decision stands and shows on the manage page
        lambda when: None,
        f"Correction decision {correction_id}",
    )


@shared_task(name="signatures.sweep_unsent_emails")
def sweep_unsent_emails() -> int:
    """Queue again the emails presumed lost; returns how many. Beat runs it every 15 s.

    Rows being sent right now are locked by their worker and skipped; a worker
    killed mid-send releases its lock with its connection, so its email is
    picked up at the next sweep. Safe to run concurrently: the delivery guards
    send each email once.
    """
    now = timezone.now()
    with transaction.atomic():
        confirmations = list(
            Signature.objects.confirmation_lost(now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        decisions = list(
            ModerationEvent.objects.notification_lost(now)
            .select_for_update(of=("self",), skip_locked=True)
            .values_list("pk", flat=True)
        )
        Signature.objects.filter(pk__in=confirmations).update(confirmation_swept_at=now)
        ModerationEvent.objects.filter(pk__in=decisions).update(notification_swept_at=now)
    for pk in confirmations:
        send_confirmation_email.delay(pk)
    for pk in decisions:
        send_decision_email.delay(pk)
    if confirmations or decisions:
        logger.warning(
            "Re-queued %d confirmation and %d decision emails presumed lost",
            len(confirmations),
            len(decisions),
        )
    return len(confirmations) + len(decisions)


# A change of what the public sees queues one refresh_stats run per declaration for the
# changes of the next second, rather than one per change: the counts' version reads every
# published signature (137 ms at 35,000 on the reference machine, docs/performance.md),
# so a burst of publications costs about one run a second. The mark is cleared when the
# run starts, before it reads: a change committed after that read queues the next run.
# It expires in case the run is lost, and beat's refresh of every declaration every 5 s
# covers that time.
STATS_DELAY_SECONDS = 1
STATS_DUE_KEY_SECONDS = STATS_DELAY_SECONDS + 60


def _stats_due_key(declaration_id: int) -> str:
    return f"signatures:stats-due:{declaration_id}"


def queue_stats_run(declaration_id: int) -> None:
    """Queue a refresh_stats run of this declaration unless one is already waiting.
    With the cache down it queues one anyway."""
    added = cache_or_none(
        lambda: cache.add(_stats_due_key(declaration_id), 1, STATS_DUE_KEY_SECONDS),
        "the stats-due mark",
    )
    if added is not False:
        refresh_stats.apply_async((declaration_id,), countdown=STATS_DELAY_SECONDS)


@shared_task(
    name="signatures.refresh_stats",
    autoretry_for=DATABASE_RESTART_ERRORS,
    retry_backoff=DATABASE_RETRY_SECONDS,
    max_retries=5,
)
def refresh_stats(declaration_id: int) -> None:
    write_cache_quietly(lambda: cache.delete(_stats_due_key(declaration_id)), "the stats-due mark")
    stats.refresh_stats(declaration_id=declaration_id)
    _queue_stale_social_images()


@shared_task(name="signatures.refresh_all_stats")
def refresh_all_stats() -> int:
    refreshed = stats.refresh_all_stats()
    _queue_stale_social_images()
    return refreshed


def _queue_stale_social_images() -> None:
    """After a refresh, redraw the pictures whose count is no longer the published one.

    One query when nothing changed; the periodic refresh also catches a
    picture whose drawing failed or was lost.
    """
    from . import social_image  # noqa: PLC0415 - Pillow, which web processes need not load

    for declaration_id in social_image.stale_social_images():
        render_social_image.delay(declaration_id)


@shared_task(
    name="signatures.render_social_image",
    autoretry_for=DATABASE_RESTART_ERRORS,
    retry_backoff=DATABASE_RETRY_SECONDS,
    max_retries=5,
)
def render_social_image(declaration_id: int) -> None:
    from . import social_image  # noqa: PLC0415 - as above

    social_image.render_social_image(declaration_id=declaration_id)


# signatures.apply_retention is in retention.py: it calls services, which import this module.


# Signing queues one refresh_due_proofs run for the signatures of the next few
# seconds, rather than a task per signature: a run costs about the same for one
# signature as for hundreds (each read is made once for all), and moderators read
# flags later. The mark is set while a run waits; it expires in case the run is lost,
# and beat's own run every minute covers that time.
PROOFS_DELAY_SECONDS = 5
PROOFS_DUE_KEY = "signatures:proofs-due"
PROOFS_DUE_KEY_SECONDS = PROOFS_DELAY_SECONDS + 60
PROOFS_PER_RUN = 500


def queue_due_proofs() -> None:
    """Queue a refresh_due_proofs run unless one is already waiting. Called after a
    signature is committed; with the cache down it queues one anyway."""
    if (
        cache_or_none(
            lambda: cache.add(PROOFS_DUE_KEY, 1, PROOFS_DUE_KEY_SECONDS), "the proofs-due mark"
        )
        is not False
    ):
        refresh_due_proofs.apply_async(countdown=PROOFS_DELAY_SECONDS)


@shared_task(
    name="signatures.refresh_due_proofs",
    autoretry_for=DATABASE_RESTART_ERRORS,
    retry_backoff=DATABASE_RETRY_SECONDS,
    max_retries=5,
)
def refresh_due_proofs() -> int:
    """Compute the flags and verification level of new signatures; returns how many.

    Queued after signing (queue_due_proofs, due PROOFS_DELAY_SECONDS later) and by beat
    every minute. The mark is cleared before reading: a signature committed after the
    read queues the next run.
    All of a run's signatures are computed together (levels.refresh_proofs: each read
    once for all), at most PROOFS_PER_RUN, the rest in a run queued behind, so a
    flood does not hold a worker process for long. If that fails, one by one: a
    signature whose refresh fails is logged and marked done (confirming computes its
    flags again) rather than retried forever.
    """
    write_cache_quietly(lambda: cache.delete(PROOFS_DUE_KEY), "the proofs-due mark")
    due = list(
        Signature.objects.proof_due().select_related("territory").order_by("pk")[:PROOFS_PER_RUN]
    )
    try:
        levels.refresh_proofs(due)
    except DATABASE_RESTART_ERRORS:
        raise
    except Exception:  # noqa: BLE001 - one by one, to find the signature at fault
        for signature in due:
            try:
                levels.refresh_proof(signature)
            except DATABASE_RESTART_ERRORS:
                raise
            except Exception:
                logger.exception("Flags of signature %s not computed", signature.pk)
                Signature.objects.filter(pk=signature.pk).update(proof_refreshed_at=timezone.now())
    if len(due) == PROOFS_PER_RUN:
        refresh_due_proofs.delay()
    return len(due)
