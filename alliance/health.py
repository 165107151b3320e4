"""Probes of the components the site depends on, for /healthz."""

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .tasks import HEARTBEAT_KEY

OK = "ok"
ERROR = "error"
NOT_CONFIGURED = "not configured"


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means the probe is red
        return {"status": ERROR, "error": exc.__class__.__name__}
    return {"status": OK, "vendor": connection.vendor}


def check_cache() -> dict:
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 2)[-2]
    try:
        cache.set("healthz", "1", timeout=10)
        if cache.get("healthz") != "1":
            return {"status": ERROR, "backend": backend, "error": "read-back mismatch"}
    except Exception as exc:  # noqa: BLE001
        return {"status": ERROR, "backend": backend, "error": exc.__class__.__name__}
    return {"status": OK, "backend": backend}


def check_broker() -> dict:
    """The broker is only used when tasks are not run eagerly in-process."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://")):
        return {"status": NOT_CONFIGURED}
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"status": ERROR, "error": exc.__class__.__name__}
    finally:
        client.close()
    return {"status": OK}


def check_worker() -> dict:
    """Informational: a worker that has not beaten lately does not make the site red,
    since web and worker are deployed and restarted independently."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": NOT_CONFIGURED}
    try:
        seen = cache.get(HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001 - the cache probe reports the failure
        seen = None
    if not seen:
        return {"status": "unknown"}
    age = (timezone.now() - parse_datetime(seen)).total_seconds()
    return {"status": OK if age < 180 else "stale", "last_seen_seconds": int(age)}


def run_checks() -> tuple[bool, dict]:
    """Return (healthy, report); only database, cache and broker decide health."""
    report = {
        "database": check_database(),
        "cache": check_cache(),
        "broker": check_broker(),
    }
    healthy = all(part["status"] != ERROR for part in report.values())
    report["worker"] = check_worker()
    return healthy, report
