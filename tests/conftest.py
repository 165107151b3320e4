"""Shared fixtures: real services when the environment names them.

Tests marked `postgres` or `redis` need that service. Without it they skip on a
developer's machine, and fail under REQUIRE_SERVICES=1 (as in CI), so a green CI
run means they really ran.
"""

import importlib
import os

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import translation

from alliance.celery import app as celery_app
from tests.smtp_sink import SmtpSink

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _service_missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _redis_is_up() -> bool:
    if not settings.REDIS_URL:
        return False
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _service_missing("this test needs PostgreSQL (set DATABASE_URL=postgres://…)")
    if (item.get_closest_marker("redis") or item.get_closest_marker("celery_worker")) and (
        not _redis_is_up()
    ):
        _service_missing("this test needs Redis (set REDIS_URL=redis://…)")


@pytest.fixture(autouse=True)
def _french():
    """Outside a request nothing activates a language; the product speaks French."""
    with translation.override("fr"):
        yield


@pytest.fixture(autouse=True)
def _celery_eager(request):
    """Run tasks in-process unless the test asked for a real worker."""
    eager = request.node.get_closest_marker("celery_worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def migration_data(transactional_db):
    """The rows data migrations create (the declaration of 25 May 2020, the networks,
    the moderators' group), again: a transactional test's flush removed them."""
    from django.apps import apps

    modules = {
        "declarations.migrations.0002_alliance_des_territoires": "load_declaration",
        "signatures.migrations.0003_moderators_group": "create_group",
    }
    for module, function in modules.items():
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture
def celery_worker(migration_data):
    """A real Celery worker, in a thread of this process, consuming from Redis.

    It shares the test database (committed data only, hence a transactional
    database) and the Redis broker named by REDIS_URL.
    """
    from celery.contrib.testing.worker import start_worker

    with start_worker(
        celery_app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"
    ) as worker:
        yield worker


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache (CI points it at a dedicated Redis db)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on localhost; Django sends to it through the SMTP backend."""
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield sink.handler
