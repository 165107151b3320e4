import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from declarations.models import Declaration
from tests.factories import DeclarationFactory

pytestmark = pytest.mark.django_db


def test_declaration_is_signable_follows_switch_and_window():
    now = timezone.now()
    day = datetime.timedelta(days=1)
    assert DeclarationFactory().is_signable(now)
    assert not DeclarationFactory(is_open=False).is_signable(now)
    assert not DeclarationFactory(opens_at=now + day).is_signable(now)
    assert not DeclarationFactory(closes_at=now - day).is_signable(now)
    assert DeclarationFactory(opens_at=now - day, closes_at=now + day).is_signable(now)


def test_only_one_declaration_can_be_current():
    assert Declaration.objects.filter(is_current=True).count() == 1
    with pytest.raises(IntegrityError):
        DeclarationFactory(is_current=True)


def test_declaration_cannot_close_before_it_opens():
    now = timezone.now()
    with pytest.raises(IntegrityError):
        DeclarationFactory(opens_at=now, closes_at=now - datetime.timedelta(hours=1))


def test_current_falls_back_to_the_latest_declaration():
    Declaration.objects.update(is_current=False)
    newer = DeclarationFactory(date=datetime.date(2030, 1, 1))
    assert Declaration.objects.current() == newer


def test_goal_percent_is_capped_at_100():
    assert DeclarationFactory(signature_goal=10, signature_count=25).goal_percent == 100
    assert DeclarationFactory(signature_goal=None).goal_percent is None
