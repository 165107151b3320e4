"""The declaration page's live corner: the call to sign first, the count, the latest five."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import SignatureFactory, TerritoryFactory, bulk_signatures

pytestmark = pytest.mark.django_db


def _publish(declaration, name: str, minutes_ago: int, **extra):
    return SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(name=name, kind="commune"),
        status="published",
        published_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        **extra,
    )


def test_call_to_sign_comes_right_after_the_title(client, declaration):
    html = client.get(declaration.get_absolute_url()).content.decode()
    sign_url = reverse("signatures:sign", args=[declaration.slug])
    first_call = html.index(f'href="{sign_url}"')
    assert html.index("<h1") < first_call < html.index('class="declaration-body"')
    assert html.index("Signer pour mon territoire") < html.index("declaration-body")
    # The card after the text keeps its own call, under another name for assistive tech.
    assert "Signer au nom de mon territoire" in html[html.index("declaration-body") :]


def test_closed_declaration_has_no_call_to_sign(client, declaration):
    declaration.closes_at = timezone.now() - datetime.timedelta(days=1)
    declaration.save(update_fields=["closes_at"])
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert reverse("signatures:sign", args=[declaration.slug]) not in html


def test_home_shows_the_five_latest_published_signatories(client, declaration, refresh_counts):
    for minutes, name in enumerate(["Sixième", "Cinquième", "Quatrième", "Troisième", "Deuxième"]):
        _publish(declaration, f"Commune {name}", minutes_ago=minutes + 1)
    _publish(declaration, "Commune Première", minutes_ago=60)
    SignatureFactory(
        declaration=declaration, territory=TerritoryFactory(name="Commune En attente")
    )
    refresh_counts(declaration)
    html = client.get(declaration.get_absolute_url()).content.decode()
    corner = html[html.index('id="latest-signatories"') :]
    names = re.findall(r"<strong>(Commune [^<]+)</strong>", corner)
    assert names == [
        "Commune Sixième",
        "Commune Cinquième",
        "Commune Quatrième",
        "Commune Troisième",
        "Commune Deuxième",
    ]
    assert "Dominique Signataire" in corner
    assert 'id="signature-count">6<' in html


def test_home_without_signatures_says_so(client, declaration):
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert "Aucune signature publiée pour l'instant." in html
    assert 'id="latest-signatories"' in client.get(reverse("declarations:home")).content.decode()


def test_latest_poll_brings_the_new_signatory_and_the_counter(client, declaration, refresh_counts):
    _publish(declaration, "Commune Ancienne", minutes_ago=10)
    refresh_counts(declaration)
    url = reverse("public:latest", args=[declaration.slug])
    first = client.get(url)
    assert first.status_code == 200
    unchanged = client.get(url, headers={"if-none-match": first["ETag"]})
    assert unchanged.status_code == 304

    _publish(declaration, "Commune Nouvelle", minutes_ago=0)
    refresh_counts(declaration)
    fresh = client.get(url, headers={"if-none-match": first["ETag"]})
    html = fresh.content.decode()
    assert fresh.status_code == 200
    assert html.index("Commune Nouvelle") < html.index("Commune Ancienne")
    assert '<div id="signature-counter" hx-swap-oob="true">' in html
    assert 'id="signature-count">2<' in html


def test_latest_poll_answers_each_language_its_own_way(client, declaration, refresh_counts):
    _publish(declaration, "Commune Ancienne", minutes_ago=10)
    refresh_counts(declaration)
    url = reverse("public:latest", args=[declaration.slug])
    french = client.get(url)
    client.cookies["django_language"] = "en"
    english = client.get(url, headers={"if-none-match": french["ETag"]})
    assert english.status_code == 200
    assert "Latest signatures" in english.content.decode()


@pytest.mark.parametrize("published", [3, 300])
def test_latest_poll_query_count_does_not_grow(
    client, declaration, refresh_counts, django_assert_num_queries, published
):
    bulk_signatures(declaration, published)
    refresh_counts(declaration)
    # declaration, the five latest with their territories
    with django_assert_num_queries(2):
        response = client.get(reverse("public:latest", args=[declaration.slug]))
    assert response.content.decode().count("<li") == 5 if published > 5 else published


def test_latest_signatories_never_show_contact_details(client, signed_declaration):
    html = client.get(reverse("public:latest", args=[signed_declaration.slug])).content.decode()
    assert "Moudénc" in html
    for private in ("prive-1@toulouse.fr", "0561000000", "203.0.113.5", "attente@x.fr"):
        assert private not in html
