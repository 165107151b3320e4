"""Shared fixtures and helpers.

Real services when the environment names them: tests marked `postgres` or `redis`
need that service. Without it they skip on a developer's machine, and fail under
REQUIRE_SERVICES=1 (as in CI), so a green CI run means they really ran.

The data every app's tests share: `declaration` (and `declaration_with_goal`),
`territory`, `territories`, `signed_declaration`, `moderator` (and
`moderator_client`); `refresh_counts` computes a declaration's counts. Helpers for
what happens elsewhere meanwhile: `wait_for`, `run_concurrently`, `confirmation_path`.
"""

import contextlib
import importlib
import os
import re
import threading
import time
from collections.abc import Callable

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from alliance.celery import app as celery_app
from signatures import views as signature_views
from signatures.stats import refresh_stats
from tests.factories import (
    DeclarationFactory,
    TerritoryFactory,
    UserFactory,
    fake_siren,
)
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
    # The app reads Django's settings under the CELERY namespace: the prefixed key is
    # the one it looks up first.
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = eager
    assert celery_app.conf.task_always_eager is eager
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = previous


@pytest.fixture
def migration_data(transactional_db):
    """The rows data migrations create (the declaration of 25 May 2020, the networks,
    the moderators' group), again: a transactional test's flush removed them."""
    modules = {
        "declarations.migrations.0002_alliance_des_territoires": "load_declaration",
        "signatures.migrations.0003_moderators_group": "create_group",
        "signatures.migrations.0011_moderators_see_contests_and_corrections": "grant",
    }
    for module, function in modules.items():
        getattr(importlib.import_module(module), function)(apps, None)


@contextlib.contextmanager
def running_worker(pool: str = "solo", concurrency: int = 1):
    """A real Celery worker, in a thread of this process, consuming from Redis.

    It shares the test database (committed data only, hence a transactional
    database) and the Redis broker named by REDIS_URL. The solo pool runs one task
    at a time in the worker's thread, as each prefork child does in production;
    Celery 5.6's thread pool, once its threads are busy, resumes reading the queue
    only at the loop's next timer (up to 10 s later).
    """
    with start_worker(
        celery_app,
        pool=pool,
        concurrency=concurrency,
        perform_ping_check=False,
        loglevel="WARNING",
    ) as worker:
        yield worker
    # Its threads keep their database connections between tasks, as a worker process
    # does until it exits; this one lives on in the test process, so close them here.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def celery_worker(migration_data):
    """A real worker (running_worker) for the whole test."""
    with running_worker() as worker:
        yield worker


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Each test starts with an empty cache (CI points it at a dedicated Redis db), and
    without the blank signing form another test's data rendered."""
    cache.clear()
    signature_views.clear_blank_forms()


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


def confirmation_path(message) -> str:
    """The path of the confirmation link in an email the SMTP sink received."""
    text = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    return re.search(r"https?://[^/\s]+(/signatures/confirmer/\S+/)", text).group(1)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll until `predicate()` is true, for what a worker or a browser does meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def run_concurrently(count: int, target: Callable[[int], object]) -> list:
    """Run target(i) in `count` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index):
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.fixture
def declaration(db):
    """An open, pre-moderated declaration without a goal, at /declarations/alliance-test/."""
    return DeclarationFactory(slug="alliance-test")


@pytest.fixture
def territory(db):
    """One territory to sign for, with a SIREN, in no département."""
    return TerritoryFactory(name="Métropole de Testville", kind="metropole", siren=fake_siren(2))


@pytest.fixture
def territories(db) -> dict:
    """A small map, its régions and départements under their official codes (the map of
    the statistics keys on them):

    - Occitanie (76) › Haute-Garonne (31): Toulouse Métropole test (3,000 inhabitants
      of its own) whose `members` are two communes of 1,000 and 2,000, and a commune
      `outside` it of 500;
    - Bretagne (53) › Finistère (29): Brest test, a commune of 1,500.
    """
    occitanie = TerritoryFactory(kind="region", code="76", name="Occitanie")
    bretagne = TerritoryFactory(kind="region", code="53", name="Bretagne")
    haute_garonne = TerritoryFactory(
        kind="departement", code="31", name="Haute-Garonne", region=occitanie
    )
    finistere = TerritoryFactory(kind="departement", code="29", name="Finistère", region=bretagne)
    in_haute_garonne = {"departement": haute_garonne, "region": occitanie}
    metropole = TerritoryFactory(
        kind="metropole", name="Toulouse Métropole test", population=3_000, **in_haute_garonne
    )
    return {
        "occitanie": occitanie,
        "bretagne": bretagne,
        "haute_garonne": haute_garonne,
        "finistere": finistere,
        "metropole": metropole,
        "members": [
            TerritoryFactory(
                kind="commune", population=population, epci=metropole, **in_haute_garonne
            )
            for population in (1_000, 2_000)
        ],
        "outside": TerritoryFactory(kind="commune", population=500, **in_haute_garonne),
        "brest": TerritoryFactory(
            kind="commune",
            name="Brest test",
            population=1_500,
            departement=finistere,
            region=bretagne,
        ),
    }


@pytest.fixture
def refresh_counts(django_capture_on_commit_callbacks):
    """Rebuild a declaration's counts snapshot and cache it, as the task does after commit."""

    def refresh(declaration):
        with django_capture_on_commit_callbacks(execute=True):
            return refresh_stats(declaration_id=declaration.pk)

    return refresh


@pytest.fixture
def private_root(settings, tmp_path):
    """Deliberation files in the test's own folder (settings.PRIVATE_ROOT)."""
    settings.PRIVATE_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def moderator(db):
    """A staff member of the "Modérateurs" group (made by migration signatures/0003)."""
    user = UserFactory(username="moderatrice")
    user.groups.add(Group.objects.get(name="Modérateurs"))
    return user


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client
