"""The page after confirming: what happens next, and sharing."""

import pytest
from django.urls import reverse

from tests.factories import SignatureFactory

pytestmark = pytest.mark.django_db


def _confirm(client, signature):
    url = reverse("signatures:confirm", args=[signature.make_confirmation_token()])
    return client.post(url, follow=True)


def test_confirmed_page_says_what_happens_next_and_offers_sharing(
    client, declaration, territory, settings
):
    settings.MODERATION_DELAY_DAYS = 4
    signature = SignatureFactory(declaration=declaration, territory=territory, email="moi@x.fr")
    response = _confirm(client, signature)
    html = response.content.decode()
    assert response.redirect_chain == [(reverse("signatures:confirmed"), 302)]
    assert "Merci ! Votre signature est confirmée." in html
    assert "Et maintenant ?" in html
    assert "en général sous 4 jours" in html
    assert "attestation de signature (PDF)" in html
    assert "Faire connaître la déclaration" in html
    assert "https://www.linkedin.com/sharing/share-offsite/?url=" in html
    assert "Métropole de Testville signe la déclaration" in html
    assert "moi@x.fr" not in html


def test_confirmed_page_under_post_moderation_links_to_the_published_signature(
    client, declaration, territory
):
    declaration.moderation = "post"
    declaration.save(update_fields=["moderation"])
    signature = SignatureFactory(declaration=declaration, territory=territory)
    html = _confirm(client, signature).content.decode()
    assert "Merci ! Votre signature est confirmée et publiée." in html
    assert reverse("public:verify", args=[signature.public_id]) in html


def test_confirmed_page_tells_nothing_to_another_browser(client, declaration, territory):
    """Its address names no signature: only the session that confirmed can read it."""
    response = client.get(reverse("signatures:confirmed"))
    assert response.status_code == 302
    assert response["Location"] == reverse("declarations:home")
