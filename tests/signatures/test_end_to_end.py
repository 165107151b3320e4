"""The whole path on the real services: PostgreSQL, a Celery worker on Redis, SMTP."""

import pytest
from django.urls import reverse

from signatures.models import Signature
from tests.conftest import confirmation_path, wait_for
from tests.factories import DeclarationFactory, TerritoryFactory, fake_siren, signature_form_data

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]


def test_sign_receive_email_confirm(client, celery_worker, smtp_sink):
    declaration = DeclarationFactory(slug="e2e")
    territory = TerritoryFactory(
        name="Toulouse Métropole E2E", kind="metropole", siren=fake_siren(20)
    )

    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        signature_form_data(
            territory=territory.pk,
            first_name="Jean",
            last_name="Dupont",
            function="president",
            email="jean.dupont@toulouse-metropole.fr",
        ),
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING

    # The web request only queued the task: the worker sends through the SMTP sink.
    assert wait_for(lambda: smtp_sink.messages), "no email reached the SMTP server"
    message = smtp_sink.messages[0]
    assert message["To"] == "jean.dupont@toulouse-metropole.fr"
    path = confirmation_path(message)

    assert "Je confirme" in client.get(path).content.decode()
    response = client.post(path)
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_sent_at is not None
