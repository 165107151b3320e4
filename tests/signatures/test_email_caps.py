"""OutgoingEmail.claim: the per-address caps, counted and claimed in one statement."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from signatures.models import OutgoingEmail, source_hash
from tests.conftest import run_concurrently

ADDRESS = "maire@commune-test.fr"


def _claim(now=None) -> bool:
    with transaction.atomic():
        return OutgoingEmail.objects.claim(
            email=ADDRESS, kind="confirmation", now=now or timezone.now()
        )


@pytest.mark.django_db
def test_the_hourly_cap_then_the_daily_cap_refuse_one_more(settings):
    settings.EMAIL_CAP_PER_HOUR, settings.EMAIL_CAP_PER_DAY = 2, 3
    now = timezone.now()
    two_hours_ago = now - datetime.timedelta(hours=2)
    assert [_claim(two_hours_ago) for _ in range(3)] == [True, True, False]  # that hour's cap
    assert _claim(now) is True  # a new hour: the third of the day
    assert _claim(now) is False  # one this hour, but three today: the day's cap
    assert _claim(now + datetime.timedelta(hours=23)) is True  # the first two left the day
    assert OutgoingEmail.objects.filter(recipient_hash=source_hash(ADDRESS)).count() == 4
    assert OutgoingEmail.objects.claim(email="autre@commune-test.fr", kind="manage", now=now)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_for_one_address_stop_at_the_cap(settings):
    settings.EMAIL_CAP_PER_HOUR = 5
    results = run_concurrently(12, lambda _i: _claim())
    assert results.count(True) == 5, results
    assert OutgoingEmail.objects.count() == 5
