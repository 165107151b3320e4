import pytest
from django.test import override_settings

from alliance.tasks import heartbeat

pytestmark = pytest.mark.django_db

UNREACHABLE = "redis://127.0.0.1:1/0"


def test_healthz_is_green_on_the_embedded_defaults(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "ok"
    # Eager Celery uses no broker: not configured is not a failure.
    assert body["components"]["broker"]["status"] == "not configured"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.redis
def test_healthz_is_green_with_real_redis(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    heartbeat()
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["components"]["cache"] == {"status": "ok", "backend": "redis"}
    assert body["components"]["broker"] == {"status": "ok"}
    assert body["components"]["worker"]["status"] == "ok"


def test_healthz_goes_red_when_redis_is_unreachable(client):
    redis_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE,
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    with override_settings(
        CACHES=redis_cache, CELERY_BROKER_URL=UNREACHABLE, CELERY_TASK_ALWAYS_EAGER=False
    ):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["components"]["cache"]["status"] == "error"
    assert body["components"]["broker"]["status"] == "error"
    assert body["components"]["database"]["status"] == "ok"


def test_healthz_answers_only_safe_methods(client):
    assert client.post("/healthz").status_code == 405
