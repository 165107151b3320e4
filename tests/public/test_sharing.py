"""Sharing a declaration: plain share links, the Mastodon hop, the link-preview picture."""

import datetime
import html
import io
import re
import urllib.parse

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from signatures import services
from signatures.models import SocialImage
from signatures.social_image import render_social_image, stale_social_images
from signatures.tasks import refresh_stats
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_declaration_page_offers_plain_share_links_without_third_party_script(client, declaration):
    html = client.get(declaration.get_absolute_url()).content.decode()
    address = urllib.parse.quote("http://testserver/declarations/alliance-test/", safe="")
    links = _links(html)
    assert any(link.startswith("mailto:?subject=") and address in link for link in links)
    assert f"https://www.linkedin.com/sharing/share-offsite/?url={address}" in links
    assert any(
        link.startswith("https://x.com/intent/tweet?") and address in link for link in links
    )
    assert 'action="/partager/mastodon/"' in html
    assert 'id="share-link" value="http://testserver/declarations/alliance-test/" readonly' in html
    # Scripts come from this site only: no share widget, no tracker.
    assert re.findall(r'<script src="(?!/static/)', html) == []


def test_publication_page_shares_the_declaration_in_the_territorys_name(
    client, signed_declaration
):
    signature = signed_declaration.signatures.get(territory__name="Brest test")
    html = client.get(reverse("public:verify", args=[signature.public_id])).content.decode()
    assert "Et maintenant ?" in html
    text = urllib.parse.quote(f"Brest test a signé la déclaration « {signed_declaration.title} »")
    assert f"https://x.com/intent/tweet?text={text}&amp;url=" in html


@pytest.mark.parametrize("page", ["declaration", "verify", "confirmed"])
def test_share_texts_carry_no_html_entities(client, declaration, page):
    """Apostrophes, quotes and ampersands reach the share links as characters: a text
    escaped for the page (blocktranslate's asvar) must not be encoded a second time."""
    declaration.title = "Saisissons l'opportunité d'une \"alliance\" & relance"
    declaration.save()
    territory = TerritoryFactory(name="Saint-Jean-d'Angély")
    signature = SignatureFactory(declaration=declaration, territory=territory, status="published")
    if page == "confirmed":
        session = client.session
        session["confirmed_signature"] = signature.public_id
        session.save()
    url = {
        "declaration": declaration.get_absolute_url(),
        "verify": reverse("public:verify", args=[signature.public_id]),
        "confirmed": reverse("signatures:confirmed"),
    }[page]
    share = client.get(url).content.decode().split('id="share-title"')[1]
    # What a browser reads: the attribute unescaped once, then the URL decoded once.
    shared = [urllib.parse.unquote(html.unescape(link)) for link in _links(share)]
    hidden = html.unescape(re.search(r'name="text" value="([^"]*)"', share).group(1))
    for text in [*shared, hidden]:
        assert "&#" not in text
        assert "&amp;" not in text
        assert "&quot;" not in text
    title = "l'opportunité d'une \"alliance\" & relance"
    assert title in hidden
    assert sum(title in link for link in shared) == 2  # the email and X
    if page != "declaration":
        assert "Saint-Jean-d'Angély" in hidden


def test_publication_email_gives_the_declarations_address_to_share(
    signed_declaration, django_capture_on_commit_callbacks
):
    signature = SignatureFactory(declaration=signed_declaration, status="confirmed")
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(signature_id=signature.pk, action="approve")
    body = mail.outbox[-1].body
    assert "Faites connaître la déclaration" in body
    assert "/declarations/alliance-test/\n" in body


@pytest.mark.parametrize(
    ("typed", "server"),
    [
        ("mastodon.social", "mastodon.social"),
        ("https://Piaille.fr/", "piaille.fr"),
        ("@camille@mastodon.xyz", "mastodon.xyz"),
    ],
)
def test_mastodon_share_links_to_the_named_server_without_redirecting(client, typed, server):
    response = client.get(
        reverse("public:share_mastodon"), {"instance": typed, "text": "Signez ! https://x.fr/d/"}
    )
    assert response.status_code == 200  # a page with a link, never a redirect
    expected = f"https://{server}/share?text=Signez+%21+https%3A%2F%2Fx.fr%2Fd%2F"
    assert f'href="{expected}"' in response.content.decode()


@pytest.mark.parametrize("typed", ["", "pas un serveur", "javascript:alert(1)", "127.0.0.1"])
def test_mastodon_share_refuses_what_is_not_a_server_name_and_keeps_the_text(client, typed):
    response = client.get(
        reverse("public:share_mastodon"), {"instance": typed, "text": "Signez !"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Indiquez l&#x27;adresse d&#x27;un serveur Mastodon" in html or "obligatoire" in html
    assert 'value="Signez !"' in html
    assert "/share?" not in html


def test_mastodon_share_page_without_a_server_asks_for_one(client):
    response = client.get(reverse("public:share_mastodon"), {"text": "Signez !"})
    assert response.status_code == 200
    assert "Votre serveur Mastodon" in response.content.decode()


def test_declaration_page_names_its_social_image_with_the_count(client, signed_declaration):
    html = client.get(signed_declaration.get_absolute_url()).content.decode()
    assert (
        '<meta property="og:image" content="http://testserver/declarations/alliance-test/image.png?n=2">'
        in html
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_social_image_before_the_first_drawing_is_the_generic_picture(client, declaration):
    response = client.get(reverse("public:social_image", args=[declaration.slug]))
    assert response.status_code == 302
    assert response["Location"].endswith("img/partage.png")
    assert client.get("/declarations/inconnue/image.png").status_code == 404


def test_social_image_is_drawn_with_the_count_and_served_as_png(client, signed_declaration):
    image = render_social_image(declaration_id=signed_declaration.pk)
    assert image.count == 2
    response = client.get(reverse("public:social_image", args=[signed_declaration.slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "public" in response["Cache-Control"]
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)


def test_social_image_is_redrawn_only_when_the_count_changes(signed_declaration, refresh_counts):
    first = render_social_image(declaration_id=signed_declaration.pk)
    assert signed_declaration.pk not in stale_social_images()
    again = render_social_image(declaration_id=signed_declaration.pk)
    assert again.made_at == first.made_at  # nothing changed: not drawn again

    SignatureFactory(
        declaration=signed_declaration,
        status="published",
        published_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    refresh_counts(signed_declaration)
    assert signed_declaration.pk in stale_social_images()
    redrawn = render_social_image(declaration_id=signed_declaration.pk)
    assert redrawn.count == 3
    assert bytes(redrawn.image) != bytes(first.image)


def test_refreshing_the_counts_queues_the_drawing(
    signed_declaration, django_capture_on_commit_callbacks
):
    """Celery is eager in tests: the refresh task draws the picture it found stale."""
    assert not SocialImage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        refresh_stats.delay(signed_declaration.pk)
    assert SocialImage.objects.get(declaration=signed_declaration).count == 2
