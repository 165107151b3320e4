import datetime

import pytest
from django.test import override_settings
from django.utils import timezone
from freezegun import freeze_time

from core import health
from core.models import WorkerHeartbeat
from core.tasks import heartbeat
from signatures import health as signature_health
from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db

UNREACHABLE = "redis://127.0.0.1:1/0"


def _with_worker(settings):
    """Production-like: tasks go through the broker and a worker beat just now."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    heartbeat()


def test_healthz_is_green_on_the_embedded_defaults(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "ok"
    # Eager Celery uses no broker nor worker, files need no SMTP: not configured, not failed.
    for part in ("broker", "worker", "smtp"):
        assert body["components"][part]["status"] == "not configured"
    assert body["components"]["emails"] == {
        "status": "ok",
        "unsent": 0,
        "oldest_unsent_seconds": 0,
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.redis
def test_healthz_is_green_with_real_redis_a_worker_and_smtp(client, settings, smtp_sink):
    _with_worker(settings)
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["components"]["cache"] == {"status": "ok", "backend": "redis"}
    assert body["components"]["broker"]["status"] == "ok"
    broker = body["components"]["broker"]
    assert set(broker["queues"]) == {"celery", "deferred"}
    assert broker["queued_tasks"] == sum(broker["queues"].values())
    assert body["components"]["worker"]["status"] == "ok"
    assert body["components"]["smtp"] == {"status": "ok", "code": 250}


@pytest.mark.redis
def test_healthz_goes_red_within_a_minute_of_a_worker_dying(client, settings):
    _with_worker(settings)
    with freeze_time(timezone.now() + datetime.timedelta(seconds=31)):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["worker"] == {"status": "error", "last_seen_seconds": 31}


@pytest.mark.redis
def test_healthz_goes_red_when_no_worker_ever_beat(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    assert not WorkerHeartbeat.objects.exists()
    assert client.get("/healthz").status_code == 503


@pytest.mark.redis
def test_healthz_goes_red_when_emails_are_stuck(client, settings):
    _with_worker(settings)
    SignatureFactory(confirmation_queued_at=timezone.now() - datetime.timedelta(seconds=100))
    body = client.get("/healthz").json()
    assert body["components"]["emails"]["status"] == "ok"
    assert body["components"]["emails"]["unsent"] == 1
    SignatureFactory(confirmation_queued_at=timezone.now() - datetime.timedelta(seconds=125))
    heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    emails = response.json()["components"]["emails"]
    assert emails["status"] == "error"
    assert emails["unsent"] == 2
    assert emails["oldest_unsent_seconds"] >= 125


def test_healthz_goes_red_when_the_smtp_server_is_down(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["smtp"] == {
        "status": "error",
        "error": "ConnectionRefusedError",
    }


def test_healthz_goes_red_when_redis_is_unreachable(client):
    redis_cache = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": UNREACHABLE,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    with override_settings(
        CACHES=redis_cache, CELERY_BROKER_URL=UNREACHABLE, CELERY_TASK_ALWAYS_EAGER=False
    ):
        heartbeat()
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["components"]["cache"]["status"] == "error"
    assert body["components"]["broker"]["status"] == "error"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["worker"]["status"] == "ok"  # its beat is in the database


def test_healthz_answers_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405


def test_healthz_asks_each_installed_app_for_its_checks():
    """core names no app: its own checks come first, then those an app declares in its
    `health.CHECKS` (signatures: its email queue)."""
    checks = health.app_checks()
    assert list(checks) == ["database", "broker", "worker", "smtp", "emails"]
    assert checks["emails"] is signature_health.check_email_queue


def test_an_app_check_that_fails_turns_healthz_red(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setitem(health.app_checks(), "emails", lambda: {"status": health.ERROR})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["emails"] == {"status": "error"}
