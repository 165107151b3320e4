"""The territory search endpoint: an htmx listbox, or a full page without JavaScript."""

import pytest
from django.urls import reverse

from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db


def test_territory_search_answers_htmx_with_listbox_options(client, territory):
    response = client.get(
        reverse("territories:search"), {"territory_query": "TESTVILLE"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert 'role="listbox"' in html
    assert f'id="territory-option-{territory.pk}"' in html
    assert "<html" not in html


def test_territory_search_without_htmx_is_a_full_page(client, territory):
    html = client.get(reverse("territories:search"), {"q": "testville"}).content.decode()
    assert "<html" in html
    assert "Métropole de Testville" in html


def test_territory_search_varies_on_htmx(client, territory):
    response = client.get(reverse("territories:search"), {"q": "testville"})
    assert "HX-Request" in response["Vary"]


def test_territory_search_skips_inactive_territories(client):
    TerritoryFactory(name="Zzyzx Vandales Unis", is_active=False)
    response = client.get(reverse("territories:search"), {"q": "zzyzx"}, HTTP_HX_REQUEST="true")
    assert 'role="option"' not in response.content.decode()
