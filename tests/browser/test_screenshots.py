"""`make screenshots`: PNGs of every public page, desktop and mobile, in var/screenshots/.

For reviewing changes by eye. Left out of `make test` (marker `screenshots`). The
pages show the real referential and demonstration signatures from seed_demo.
"""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from signatures.models import Signature
from signatures.stats import refresh_all_stats

pytestmark = [pytest.mark.screenshots, pytest.mark.django_db(transaction=True)]

SLUG = "alliance-des-territoires"
OUTPUT = settings.BASE_DIR / "var/screenshots"


@pytest.fixture
def content(migration_data):
    call_command("import_territories", verbosity=0)
    call_command("seed_demo", signatures=300, verbosity=0)
    refresh_all_stats()
    published = Signature.objects.published().select_related("territory").first()
    pending = Signature.objects.create(
        declaration=published.declaration,
        territory=published.territory,
        first_name="Camille",
        last_name="Durand",
        function=Signature.Function.MAIRE,
        email="camille.durand@mairie.example",
        consents_to_publication=True,
    )
    return {"pending": pending, "published": published}


def _pages(content) -> dict[str, str]:
    return {
        "accueil": "/",
        "declaration": reverse("declarations:detail", args=[SLUG]),
        "signer": reverse("signatures:sign", args=[SLUG]),
        "verifiez-vos-emails": reverse("signatures:check_inbox", args=[SLUG]),
        "confirmer": reverse(
            "signatures:confirm", args=[content["pending"].make_confirmation_token()]
        ),
        "lien-invalide": reverse("signatures:confirm", args=["lien-abime"]),
        "renvoyer": reverse("signatures:resend"),
        "signataires": reverse("signatures:list", args=[SLUG]),
        "signataires-filtres": reverse("signatures:list", args=[SLUG]) + "?region=76&sort=nom",
        "statistiques": reverse("signatures:statistics", args=[SLUG]),
        "widget": reverse("signatures:widget", args=[SLUG]),
        "recherche-territoire": reverse("territories:search") + "?q=saint+etienne",
        "api-docs": "/api/docs",
    }


def test_screenshots_of_every_public_page(page, viewport, content):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    size = "mobile" if viewport["width"] < 600 else "desktop"
    for name, url in _pages(content).items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUTPUT / f"{name}-{size}.png"), full_page=True)
    # The form as a person sees it after a mistake.
    page.goto(reverse("signatures:sign", args=[SLUG]))
    page.get_by_role("button", name="Signer la déclaration").click()
    page.screenshot(path=str(OUTPUT / f"signer-erreurs-{size}.png"), full_page=True)
    assert len(list(OUTPUT.glob(f"*-{size}.png"))) == len(_pages(content)) + 1
