"""The whole path on the real services: PostgreSQL, a Celery worker on Redis, SMTP."""

import re
import time

import pytest
from django.urls import reverse

from signatures.models import Signature
from tests.factories import DeclarationFactory, TerritoryFactory, fake_siren

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_sign_receive_email_confirm(client, celery_worker, smtp_sink):
    declaration = DeclarationFactory(slug="e2e")
    territory = TerritoryFactory(
        name="Toulouse Métropole E2E", kind="metropole", siren=fake_siren(20)
    )

    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        {
            "territory": territory.pk,
            "first_name": "Jean",
            "last_name": "Dupont",
            "function": "president",
            "email": "jean.dupont@toulouse-metropole.fr",
            "consents_to_publication": "on",
        },
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING

    # The web request only queued the task: the worker sends through the SMTP sink.
    assert _wait_for(lambda: smtp_sink.messages), "no email reached the SMTP server"
    message = smtp_sink.messages[0]
    assert message["To"] == "jean.dupont@toulouse-metropole.fr"
    text = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    path = re.search(r"https?://[^/\s]+(/signatures/confirmer/\S+/)", text).group(1)

    assert "Je confirme" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_sent_at is not None
