"""Fail open where a dependency is optional, retry once where the work is idempotent.

A signature must be saved whenever PostgreSQL is up: Redis (the cache, the
rate limits, the broker) being down may cost a rate limit or a fresh count,
never a submission. PostgreSQL restarting may cost one retry, never an error
page for work that is safe to do twice.
"""

import functools
import logging
import threading

import redis
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django_ratelimit.core import get_usage

from .proxies import client_ip_key

logger = logging.getLogger(__name__)

# What a Redis outage raises through Django's cache (redis-py) or a socket.
CACHE_ERRORS = (redis.RedisError, OSError)
# What a PostgreSQL restart raises on a pooled connection.
DATABASE_RESTART_ERRORS = (OperationalError, InterfaceError)


class FailOpenCounter:
    """How often this process let a request through because the cache was down.

    Per process (each gunicorn worker counts its own): /healthz shows it, and
    each occurrence is also logged, for the log aggregation to count.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


fail_open = FailOpenCounter()


def over_limit(request, group: str, rate: str) -> bool:
    """django-ratelimit's check, counting this request; False when the cache is down."""
    usage = _usage(request, group, rate)
    return bool(usage and usage["should_limit"])


def count_request(request, group: str, rate: str) -> int:
    """This request's rank among its IP's in `rate`'s window (django-ratelimit's counter,
    incremented); 0 when the cache is down. For a view with two thresholds on one
    window: one counter, one round trip."""
    usage = _usage(request, group, rate)
    return usage["count"] if usage else 0


def _usage(request, group: str, rate: str) -> dict | None:
    try:
        return get_usage(request, group=group, key=client_ip_key, rate=rate, increment=True)
    except CACHE_ERRORS as exc:
        fail_open.add()
        logger.warning("Rate limit %s not checked, cache unavailable: %r", group, exc)
        return None


def cache_or_none(read, what: str):
    """The result of a cache read, or None (as a miss) when the cache is down."""
    try:
        return read()
    except CACHE_ERRORS as exc:
        fail_open.add()
        logger.warning("Cache unavailable for %s: %r", what, exc)
        return None


def write_cache_quietly(write, what: str) -> None:
    """A cache write that may be lost: the next read falls back to the database."""
    try:
        write()
    except CACHE_ERRORS as exc:
        fail_open.add()
        logger.warning("Cache unavailable, %s not stored: %r", what, exc)


def retry_once_on_database_restart(view):
    """Run the view again, once, when PostgreSQL dropped the connection under it.

    Only for views whose work is idempotent (a pending signature is keyed by
    its unique constraint; a confirmation is refused once done): the failed
    transaction was rolled back, so doing it again is safe. Such a view needs no
    health check (CONN_HEALTH_CHECKS' "SELECT 1" before the request's first
    query): a lost connection is caught and replaced all the same, and the
    signing POST saves that round trip.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        connection.health_check_done = True
        try:
            return view(request, *args, **kwargs)
        except DATABASE_RESTART_ERRORS as exc:
            if connection.in_atomic_block:
                raise
            logger.warning("Database connection lost during %s, retrying once: %r", view, exc)
            connection.close()
            close_old_connections()
            return view(request, *args, **kwargs)

    return wrapped
