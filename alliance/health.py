"""Probes of the components the site depends on, for /healthz.

The question a monitoring probe asks is "are signatures saved, and do their
emails go out?": the database, the broker, a live worker, the SMTP server and
the age of the oldest email still waiting answer it. The cache only decides
how fast pages are, so it is reported without turning the site red.
"""

import datetime
import smtplib

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from signatures.models import ModerationEvent, Signature

from .models import WorkerHeartbeat

OK = "ok"
ERROR = "error"
NOT_CONFIGURED = "not configured"
# Beat runs the heartbeat every 10 s: three missed beats and the worker is presumed gone.
WORKER_STALE_AFTER = datetime.timedelta(seconds=30)
# An email still unsent this long after it was asked for means emails are not going out
# (the sweeper re-queues lost ones after 30 s, a worker sends one in well under a second).
EMAIL_STUCK_AFTER = datetime.timedelta(seconds=120)


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means the probe is red
        return {"status": ERROR, "error": exc.__class__.__name__}
    return {"status": OK, "vendor": connection.vendor}


def check_cache() -> dict:
    backend = "redis" if isinstance(caches["default"], RedisCache) else "locmem"
    try:
        cache.set("healthz", "1", timeout=10)
        if cache.get("healthz") != "1":
            return {"status": ERROR, "backend": backend, "error": "read-back mismatch"}
    except Exception as exc:  # noqa: BLE001
        return {"status": ERROR, "backend": backend, "error": exc.__class__.__name__}
    return {"status": OK, "backend": backend}


def _uses_broker() -> bool:
    url = settings.CELERY_BROKER_URL
    return not settings.CELERY_TASK_ALWAYS_EAGER and url.startswith(("redis://", "rediss://"))


def check_broker() -> dict:
    """The broker is only used when tasks are not run eagerly; reports each queue's length."""
    if not _uses_broker():
        return {"status": NOT_CONFIGURED}
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2
    )
    try:
        queued = {queue.name: client.llen(queue.name) for queue in settings.CELERY_TASK_QUEUES}
    except redis.RedisError as exc:
        return {"status": ERROR, "error": exc.__class__.__name__}
    finally:
        client.close()
    return {"status": OK, "queued_tasks": sum(queued.values()), "queues": queued}


def check_worker() -> dict:
    """A worker ran the heartbeat lately (kept in the database, so a Redis restart
    does not hide it)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": NOT_CONFIGURED}
    try:
        seen = WorkerHeartbeat.objects.aggregate(seen=Max("seen_at"))["seen"]
    except Exception as exc:  # noqa: BLE001 - the database probe reports it too
        return {"status": ERROR, "error": exc.__class__.__name__}
    if seen is None:
        return {"status": ERROR, "error": "no heartbeat yet"}
    age = timezone.now() - seen
    status = OK if age < WORKER_STALE_AFTER else ERROR
    return {"status": status, "last_seen_seconds": int(age.total_seconds())}


def check_smtp() -> dict:
    """Connect to the SMTP server and say NOOP, as a worker would before sending."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
        return {"status": NOT_CONFIGURED}
    smtp_class = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
    try:
        with smtp_class(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=3) as server:
            code, _message = server.noop()
    except (OSError, smtplib.SMTPException) as exc:
        return {"status": ERROR, "error": exc.__class__.__name__}
    return {"status": OK if code == 250 else ERROR, "code": code}


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


def run_checks() -> tuple[bool, dict]:
    """Return (healthy, report): healthy when signatures are saved and emails go out."""
    report = {
        "database": check_database(),
        "broker": check_broker(),
        "worker": check_worker(),
        "smtp": check_smtp(),
        "emails": check_email_queue(),
    }
    healthy = all(part["status"] != ERROR for part in report.values())
    report["cache"] = check_cache()  # slower pages, not lost signatures: reported only
    return healthy, report
