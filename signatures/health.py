"""What /healthz watches for signatures (core.health finds CHECKS here): their emails."""

import datetime

from django.utils import timezone

from core.health import ERROR, OK

from .models import ModerationEvent, Signature

# An email still unsent this long after it was asked for means emails are not going out
# (the sweeper re-queues lost ones after 30 s, a worker sends one in well under a second).
EMAIL_STUCK_AFTER = datetime.timedelta(seconds=120)


def check_email_queue(now: datetime.datetime | None = None) -> dict:
    """The oldest email asked for and not sent yet, and how many wait."""
    now = now or timezone.now()
    try:
        confirmations = Signature.objects.confirmation_unsent(now)
        decisions = ModerationEvent.objects.notification_unsent(now)
        waiting = confirmations.count() + decisions.count()
        oldest = [
            moment
            for moment in (
                confirmations.order_by("confirmation_queued_at")
                .values_list("confirmation_queued_at", flat=True)
                .first(),
                decisions.order_by("created_at").values_list("created_at", flat=True).first(),
            )
            if moment
        ]
    except Exception as exc:  # noqa: BLE001
        return {"status": ERROR, "error": exc.__class__.__name__}
    age = (now - min(oldest)).total_seconds() if oldest else 0
    return {
        "status": ERROR if age > EMAIL_STUCK_AFTER.total_seconds() else OK,
        "unsent": waiting,
        "oldest_unsent_seconds": int(age),
    }


CHECKS = {"emails": check_email_queue}
