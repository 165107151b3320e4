"""core/resilience.py: Redis down costs no signature, a PostgreSQL restart no error page."""

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from core.resilience import fail_open
from signatures import tasks
from signatures.models import Signature
from tests.factories import SignatureFactory, signature_form_data

UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.mark.django_db
def test_signing_while_the_cache_is_down_saves_the_signature(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    before = fail_open.count
    with (
        override_settings(CACHES=UNREACHABLE_CACHE),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("signatures:sign", args=[declaration.slug]),
            signature_form_data(territory=territory.pk),
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("signatures:check_inbox", args=[declaration.slug])
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert len(mailoutbox) == 1
    assert fail_open.count >= before + 1  # the rate limit let it through, counted


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/declarations/alliance-test/",
        "/declarations/alliance-test/signataires/",
        "/declarations/alliance-test/signataires/nouvelles/",
        "/declarations/alliance-test/statistiques/",
        "/declarations/alliance-test/widget/",
        "/api/declarations/alliance-test",
        "/api/declarations/alliance-test/signatures",
    ],
)
def test_public_pages_read_the_database_while_the_cache_is_down(client, declaration, path):
    SignatureFactory(declaration=declaration, status="published")
    with override_settings(CACHES=UNREACHABLE_CACHE):
        assert client.get(path).status_code == 200


def _terminate_this_connection() -> None:
    """What a PostgreSQL restart does to a pooled connection: the server closes it."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_signing_survives_a_connection_closed_by_a_database_restart(
    client, declaration, territory
):
    _terminate_this_connection()
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(territory=territory.pk),
    )
    assert response.status_code == 302
    assert Signature.objects.filter(status="pending").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_signing_sends_no_health_check_and_still_survives_a_restart(
    client, declaration, territory, monkeypatch
):
    _terminate_this_connection()
    # As at the start of every request served with CONN_HEALTH_CHECKS (settings).
    assert connection.health_check_enabled
    connection.health_check_done = False
    pings = []
    monkeypatch.setattr(connection, "is_usable", lambda: pings.append(1) or True)
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(territory=territory.pk),
    )
    assert response.status_code == 302
    assert Signature.objects.filter(status="pending").count() == 1
    assert pings == []  # the view's retry, not a "SELECT 1" first, met the lost connection


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_email_task_waits_out_a_database_restart(declaration, mailoutbox):
    signature = SignatureFactory(declaration=declaration, confirmation_queued_at=timezone.now())
    _terminate_this_connection()
    tasks.send_confirmation_email.delay(signature.pk)  # eager: the retry runs at once
    assert len(mailoutbox) == 1
    signature.refresh_from_db()
    assert signature.confirmation_send_count == 1
