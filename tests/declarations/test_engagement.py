"""What signing commits a territory to (declarations.views.engagement), and the links to it."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.factories import DeclarationFactory

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _engagement(client, declaration):
    return client.get(reverse("declarations:engagement", args=[declaration.slug]))


def test_engagement_page_says_who_signs_and_that_no_deliberation_is_needed(client, declaration):
    response = _engagement(client, declaration)
    text = _text(response)
    assert response.status_code == 200
    assert "Ce que signer engage" in text
    assert declaration.title in text
    assert "le ou la maire, le président ou la présidente" in text
    assert "ou une personne qu'il ou elle a autorisée à signer" in text
    assert "Faut-il une délibération ? Non." in text
    assert "une délibération pourra être jointe plus tard" in text


def test_engagement_page_states_the_moderation_delay_from_settings(client, declaration, settings):
    settings.MODERATION_DELAY_DAYS = 9
    text = _text(_engagement(client, declaration))
    assert (
        "Un modérateur des réseaux de l'Alliance vérifie chaque signature dans un délai de 9 jours"
        in text
    )
    assert "elle est publiée après cette vérification" in text


def test_engagement_page_of_a_post_moderated_declaration_publishes_first(client, settings):
    settings.MODERATION_DELAY_DAYS = 1
    declaration = DeclarationFactory(moderation="post")
    text = _text(_engagement(client, declaration))
    assert "La signature est publiée dès sa confirmation." in text
    assert "la vérifie dans un délai de 1 jour et la retire" in text


def test_engagement_page_explains_withdrawal_publication_and_news(client, declaration):
    response = _engagement(client, declaration)
    html, text = response.content.decode(), _text(response)
    assert "retirer la signature à tout moment" in text
    assert "« Gérer ma signature »" in text
    assert "apparaît sur la liste des signataires" in text
    assert "compte dans les statistiques" in text
    assert "que si vous l'avez accepté" in text
    assert f'href="{reverse("signatures:sign", args=[declaration.slug])}"' in html
    assert f'href="{reverse("public:privacy")}"' in html


def test_engagement_page_of_a_closed_declaration_offers_no_signing(client):
    declaration = DeclarationFactory(is_open=False)
    response = _engagement(client, declaration)
    assert "Les signatures sont closes pour cette déclaration." in _text(response)
    assert reverse("signatures:sign", args=[declaration.slug]) not in response.content.decode()


def test_engagement_page_of_an_unknown_slug_is_404(client, db):
    response = client.get(reverse("declarations:engagement", args=["inconnue"]))
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["declarations:detail", "signatures:sign"])
def test_declaration_and_signing_pages_link_to_the_engagement_page(client, declaration, page):
    html = client.get(reverse(page, args=[declaration.slug])).content.decode()
    url = reverse("declarations:engagement", args=[declaration.slug])
    assert re.search(rf'<a href="{re.escape(url)}">Ce que signer engage</a>', html)
