"""The emails of signatures.emails, as the tasks send them."""

import pytest
from django.utils import timezone

from signatures import services, signing, tasks
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def test_confirmation_email_subject_keeps_apostrophes(mailoutbox):
    territory = TerritoryFactory(name="Agen-d'Aveyron")
    signature = SignatureFactory(territory=territory, confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    assert mailoutbox[0].subject.endswith("— Agen-d'Aveyron (autre)")


def test_every_email_names_the_territory_with_its_kind_and_departement(
    declaration, mailoutbox, django_capture_on_commit_callbacks
):
    """Three communes share "Saint-Sernin": the email must say which one signed."""
    ardeche = TerritoryFactory(kind="departement", name="Ardèche")
    aude = TerritoryFactory(kind="departement", name="Aude")
    TerritoryFactory(kind="commune", name="Saint-Sernin", departement=aude)
    commune = TerritoryFactory(kind="commune", name="Saint-Sernin", departement=ardeche)
    signature = SignatureFactory(declaration=declaration, territory=commune, function="maire")
    with django_capture_on_commit_callbacks(execute=True):
        signing.send_new_links(email=signature.email)
    services.change_status(signature_id=signature.pk, action="confirm")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert "Saint-Sernin (commune, Ardèche)" in message.subject
        assert "Saint-Sernin (commune, Ardèche)" in message.body
        assert "Saint-Sernin (commune, Ardèche)" in message.alternatives[0][0]
