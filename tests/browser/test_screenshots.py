"""`make screenshots`: full-page PNGs of every public page, desktop and mobile.

For looking at the pages by eye (reviews, the accessibility self-assessment);
left out of `make test` by the `screenshots` marker. The content is realistic: the
official referential, 300 demonstration signatures from seed_demo, computed
statistics. Files go to var/screenshots/<page>-<viewport>.png.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from declarations.models import Declaration
from signatures.models import Signature
from signatures.social_image import render_social_image
from signatures.stats import refresh_stats
from territories.models import Territory
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import UserFactory

pytestmark = [pytest.mark.screenshots, pytest.mark.django_db(transaction=True)]

SLUG = "alliance-des-territoires"
OUTPUT = settings.BASE_DIR / "var/screenshots"


@pytest.fixture
def demo_content(migration_data):
    """The real referential, 300 published demonstration signatures and one pending."""
    call_command("import_territories", verbosity=0)
    call_command("seed_demo", signatures=300, verbosity=0)
    declaration = Declaration.objects.get(slug=SLUG)
    declaration.signature_goal = 1000
    declaration.save(update_fields=["signature_goal"])
    signed = Signature.objects.filter(declaration=declaration).values("territory_id")
    free_commune = (
        Territory.objects.filter(kind="commune", is_active=True)
        .exclude(pk__in=signed)
        .order_by("code")
        .first()
    )
    pending = Signature.objects.create(
        declaration=declaration,
        territory=free_commune,
        first_name="Camille",
        last_name="Durand",
        signatory_search="camille durand",
        function=Signature.Function.MAIRE,
        email="camille.durand@mairie.example",
        consents_to_publication=True,
    )
    # A second pending signature for the same territory: the confirmation page warns of it.
    rival = Signature.objects.create(
        declaration=declaration,
        territory=free_commune,
        first_name="Dominique",
        last_name="Martin",
        signatory_search="dominique martin",
        function=Signature.Function.MAIRE,
        email="dominique.martin@mairie.example",
        consents_to_publication=True,
    )
    refresh_stats(declaration_id=declaration.pk)
    render_social_image(declaration_id=declaration.pk)
    published = Signature.objects.filter(declaration=declaration, status="published").first()
    return {"pending": pending, "rival": rival, "published": published}


def _pages(demo_content) -> dict[str, str]:
    """Page name (the PNG's) and its path; the same pages as test_accessibility."""
    sign = reverse("signatures:sign", args=[SLUG])
    return {
        "home": "/",
        "declaration": reverse("declarations:detail", args=[SLUG]),
        "sign": sign,
        "check-inbox": reverse("signatures:check_inbox", args=[SLUG]),
        "confirm": reverse(
            "signatures:confirm", args=[demo_content["pending"].make_confirmation_token()]
        ),
        "link-problem": reverse("signatures:confirm", args=["lien-abime"]),
        "engagement": reverse("declarations:engagement", args=[SLUG]),
        "verify": reverse("public:verify", args=[demo_content["published"].public_id]),
        "contest": reverse("signatures:contest", args=[demo_content["published"].public_id]),
        "share-mastodon": reverse("public:share_mastodon") + "?instance=piaille.fr&text=Signez",
        "manage-request": reverse("signatures:manage_request"),
        "privacy": reverse("public:privacy"),
        "legal": reverse("public:legal"),
        "accessibility": reverse("public:accessibility"),
        "contact": reverse("public:contact"),
        "resend": reverse("signatures:resend"),
        "list": reverse("public:list", args=[SLUG]),
        "list-filtered": reverse("public:list", args=[SLUG]) + "?region=76&sort=population",
        "list-page-3": reverse("public:list", args=[SLUG]) + "?page=3",
        "statistics": reverse("public:statistics", args=[SLUG]),
        "widget": reverse("public:widget", args=[SLUG]),
        "territory-search": reverse("territories:search") + "?q=saint+etienne",
        "api-docs": "/api/docs",
        "not-found": "/nulle-part/",
    }


def _shoot(page, name: str, viewport_name: str) -> None:
    page.screenshot(path=str(OUTPUT / f"{name}-{viewport_name}.png"), full_page=True)


def test_screenshots_of_every_public_page(chromium, live_server, demo_content):
    # One referential import for both sizes: the tabs are opened here rather than by
    # the `page` fixture, which is one test per viewport.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in OUTPUT.glob("*.png"):  # a page that no longer exists leaves no stale file
        old.unlink()
    pages = _pages(demo_content)
    for viewport_name, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        context = chromium.new_context(viewport=viewport, locale="fr-FR", base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        for name, path in pages.items():
            page.goto(path)
            if name == "api-docs":
                expect(page.locator(".opblock").first).to_be_visible()
            page.wait_for_load_state("networkidle")
            _shoot(page, name, viewport_name)

        # The signing form in the states a person meets: suggestions open, then errors.
        page.goto(pages["sign"])
        page.get_by_role("combobox", name="Rechercher votre territoire").press_sequentially(
            "saint", delay=20
        )
        expect(page.get_by_role("listbox")).to_be_visible()
        page.keyboard.press("ArrowDown")
        _shoot(page, "sign-autocomplete", viewport_name)
        page.goto(pages["sign"])
        page.get_by_role("radio", name="Autre fonction").check()
        expect(page.get_by_label("Autre fonction : précisez laquelle")).to_be_visible()
        _shoot(page, "sign-other-function", viewport_name)
        page.goto(pages["sign"])
        page.get_by_text("Mon territoire n'est pas dans la liste (PETR").click()
        page.get_by_label("SIREN du territoire").fill("123 456 789")
        page.get_by_role("button", name="Signer la déclaration").click()
        expect(page.locator("#form-errors")).to_be_visible()
        _shoot(page, "sign-errors", viewport_name)
        # The home page's first screen, as a phone shows it before any scrolling.
        page.goto("/")
        page.screenshot(path=str(OUTPUT / f"home-first-screen-{viewport_name}.png"))
        context.close()

    # The moderators' queue and a signature's page with its decisions, as a moderator.
    moderator = UserFactory(username="moderatrice")
    moderator.groups.add(Group.objects.get(name="Modérateurs"))
    queued = demo_content["rival"]
    queued.status = Signature.Status.CONFIRMED
    queued.save(update_fields=["status"])
    for viewport_name, viewport in (("desktop", DESKTOP), ("mobile", MOBILE)):
        context = chromium.new_context(viewport=viewport, locale="fr-FR", base_url=live_server.url)
        page = context.new_page()
        page.goto("/admin/")
        page.get_by_label("Nom d’utilisateur").fill("moderatrice")
        page.get_by_label("Mot de passe").fill("mot-de-passe-de-test")
        page.get_by_role("button", name="Connexion").click()
        page.get_by_role("heading", name="Modération et contenus").wait_for()
        page.goto(reverse("admin:signatures_moderationqueue_changelist"))
        _shoot(page, "admin-queue", viewport_name)
        page.goto(reverse("admin:signatures_signature_change", args=[queued.pk]))
        _shoot(page, "admin-signature", viewport_name)
        context.close()
    queued.status = Signature.Status.PENDING
    queued.save(update_fields=["status"])

    # Confirming (once: it uses the token) leads to the page that offers sharing.
    context = chromium.new_context(viewport=MOBILE, locale="fr-FR", base_url=live_server.url)
    page = context.new_page()
    page.goto(pages["confirm"])
    page.get_by_role("button", name="Je confirme la signature de mon territoire").click()
    expect(page.get_by_role("heading", name="Et maintenant ?")).to_be_visible()
    _shoot(page, "confirmed", "mobile")
    context.close()

    names = [
        *pages,
        "sign-autocomplete",
        "sign-other-function",
        "sign-errors",
        "admin-queue",
        "admin-signature",
    ]
    expected = {f"{name}-{size}.png" for name in names for size in ("desktop", "mobile")}
    expected |= {"home-first-screen-desktop.png", "home-first-screen-mobile.png"}
    expected.add("confirmed-mobile.png")
    assert {path.name for path in OUTPUT.glob("*.png")} == expected
