"""The declaration in the admin: its text, demands, moderation mode and goal."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_declaration_change_page_edits_demands_moderation_and_goal(client, declaration):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    url = reverse("admin:declarations_declaration_change", args=[declaration.pk])
    html = client.get(url).content.decode()
    assert "demand_groups-TOTAL_FORMS" in html
    assert 'name="moderation"' in html
    assert 'name="signature_goal"' in html
