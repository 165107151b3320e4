"""The emails of signatures.emails, as the tasks send them."""

import pytest
from django.utils import timezone

from signatures import tasks
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def test_confirmation_email_subject_keeps_apostrophes(mailoutbox):
    territory = TerritoryFactory(name="Agen-d'Aveyron")
    signature = SignatureFactory(territory=territory, confirmation_queued_at=timezone.now())
    tasks.send_confirmation_email.delay(signature.pk)
    assert mailoutbox[0].subject.endswith("— Agen-d'Aveyron")
