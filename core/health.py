"""Probes of the components the site depends on, for /healthz.

The question a monitoring probe asks is "are signatures saved, and do their
emails go out?": the database, the broker, a live worker, the SMTP server and
the age of the oldest email still waiting answer it. The cache only decides
how fast pages are, so it is reported without turning the site red.
"""

import datetime
import functools
import smtplib
from collections.abc import Callable
from importlib import import_module

import redis
from django.apps import apps
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import Max
from django.utils import timezone
from django.utils.module_loading import module_has_submodule

from .models import WorkerHeartbeat

OK = "ok"
ERROR = "error"
NOT_CONFIGURED = "not configured"
# Beat runs the heartbeat every 10 s: three missed beats and the worker is presumed gone.
WORKER_STALE_AFTER = datetime.timedelta(seconds=30)


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


# What any deployment depends on. The cache is not here: it only decides how fast pages
# are, so run_checks reports it without turning the site red.
CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "worker": check_worker,
    "smtp": check_smtp,
}


@functools.cache
def app_checks() -> dict[str, Callable[[], dict]]:
    """The checks each installed app declares in its own `health.CHECKS` ({name: function}),
    core's own (below) first.

    core imports no app: each app says what /healthz must watch for it (signatures:
    its email queue), found here as the admin finds `admin` modules.
    """
    checks = {}
    for app_config in apps.get_app_configs():
        if module_has_submodule(app_config.module, "health"):
            checks.update(import_module(f"{app_config.name}.health").CHECKS)
    return checks


def run_checks() -> tuple[bool, dict]:
    """Return (healthy, report): healthy when signatures are saved and emails go out."""
    report = {name: check() for name, check in app_checks().items()}
    healthy = all(part["status"] != ERROR for part in report.values())
    report["cache"] = check_cache()  # slower pages, not lost signatures: reported only
    return healthy, report
