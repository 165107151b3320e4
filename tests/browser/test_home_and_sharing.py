"""The declaration page's first screen, its live corner, and sharing, in Chromium."""

import re

import pytest
from django.urls import reverse

from signatures import services
from signatures.stats import refresh_stats
from tests.browser.test_accessibility import accessibility_problems
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_call_to_sign_is_in_the_first_screen(page, viewport):
    declaration = DeclarationFactory(slug="premier-ecran")
    page.goto(declaration.get_absolute_url())
    call = page.get_by_role("link", name="Signer pour mon territoire")
    box = call.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= viewport["height"], "the call to sign needs scrolling"
    call.click()
    page.get_by_role("heading", name="Signer la déclaration au nom de votre territoire").wait_for()


@pytest.mark.celery_worker
def test_latest_signatories_appear_without_reloading(page, celery_worker):
    declaration = DeclarationFactory(slug="dernieres")
    SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(name="Commune Pionnière", kind="commune"),
        status="published",
    )
    waiting = SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(name="Commune Suivante", kind="commune"),
        status="confirmed",
    )
    refresh_stats(declaration_id=declaration.pk)
    page.goto(declaration.get_absolute_url())
    latest = page.get_by_role("region", name="Dernières signatures")
    assert latest.get_by_role("listitem").count() == 1
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    services.change_status(signature_id=waiting.pk, action="approve")  # a moderator decides

    latest.get_by_role("listitem").first.get_by_text("Commune Suivante").wait_for(timeout=25_000)
    assert page.locator("#signature-count").inner_text() == "2"
    assert navigations == []


def test_visitor_copies_the_link_and_prepares_a_mastodon_post(page):
    declaration = DeclarationFactory(slug="partage")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(declaration.get_absolute_url())
    share = page.get_by_role("region", name="Faire connaître la déclaration")
    assert (
        share.get_by_role("link", name=re.compile("^LinkedIn"))
        .get_attribute("href")
        .startswith("https://www.linkedin.com/sharing/share-offsite/?url=")
    )

    share.get_by_role("button", name="Copier le lien").click()
    share.get_by_text("Lien copié.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()").endswith("/declarations/partage/")

    share.get_by_label("Mastodon : votre serveur").fill("piaille.fr")
    share.get_by_role("button", name="Partager sur Mastodon").click()
    go = page.get_by_role("link", name="Continuer vers piaille.fr")
    assert go.get_attribute("href").startswith("https://piaille.fr/share?text=")
    assert "%2Fdeclarations%2Fpartage%2F" in go.get_attribute("href")


def test_mastodon_error_is_told_next_to_the_field(page):
    page.goto(reverse("public:share_mastodon") + "?text=Signez")
    page.get_by_label("Votre serveur Mastodon").fill("pas un serveur")
    page.get_by_role("button", name="Préparer le message").click()
    field = page.get_by_label("Votre serveur Mastodon")
    assert field.input_value() == "pas un serveur"
    assert field.get_attribute("aria-invalid") == "true"
    page.get_by_text("Indiquez l'adresse d'un serveur Mastodon").wait_for()
    assert accessibility_problems(page) == []


def test_declaration_page_with_sharing_has_no_accessibility_problem(page):
    declaration = DeclarationFactory(slug="accessible")
    SignatureFactory(declaration=declaration, status="published")
    refresh_stats(declaration_id=declaration.pk)
    page.goto(declaration.get_absolute_url())
    assert accessibility_problems(page) == []


def test_confirmed_page_is_accessible_and_offers_sharing(page):
    declaration = DeclarationFactory(slug="confirmee")
    signature = SignatureFactory(declaration=declaration)
    page.goto(reverse("signatures:confirm", args=[signature.make_confirmation_token()]))
    page.get_by_role("button", name="Je confirme la signature de mon territoire").click()
    page.get_by_role("heading", name="Et maintenant ?").wait_for()
    assert page.get_by_role("region", name="Faire connaître la déclaration").is_visible()
    assert accessibility_problems(page) == []
