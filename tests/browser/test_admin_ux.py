"""Moderators in the admin, in Chromium, at desktop and mobile sizes.

Decisions are taken from a signature's page by their visible French labels (the refusal
with the keyboard alone), the queue must fit beside its filters at 1280 px, and axe-core
must find nothing of moderate impact or more on the queue and on a signature's page.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from declarations.models import Network
from signatures.models import Flag, ModerationEvent, Signature
from territories.models import Territory
from tests.browser.conftest import AXE, DESKTOP
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, fake_siren

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "mot-de-passe-de-test"  # tests.factories.UserFactory's
QUEUE = reverse("admin:signatures_moderationqueue_changelist")
SIGNATURES = reverse("admin:signatures_signature_changelist")
IMPACTS = ("moderate", "serious", "critical")


def _axe_problems(page) -> list[dict]:
    """axe-core's findings of moderate impact or more, as tests.browser.conftest.axe_violations
    but without axe's CSSOM preload: on the admin's forms it re-reads forms.css's @import
    through an inline <style>, which our CSP refuses (a console error failing the test).
    Only css-orientation-lock needs that preload; the admin locks no orientation."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'], preload: false})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in IMPACTS
    ]


def _log_in(page, username="moderatrice"):
    page.goto("/admin/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("heading", name="Modération et contenus").wait_for()


def _place(name: str, **extra) -> Territory:
    """A made-up territory of a made-up département."""
    departement, _created = Territory.objects.get_or_create(
        kind="departement", code="B31", defaults={"name": "Département Sud-Exemple"}
    )
    return TerritoryFactory(name=name, departement=departement, **extra)


@pytest.fixture
def to_decide():
    """Three signatures awaiting a decision, in made-up territories."""
    declaration = DeclarationFactory(slug="moderee")

    def signature(name, status, **territory):
        return SignatureFactory(
            declaration=declaration, territory=_place(name, **territory), status=status
        )

    return {
        "metropole": signature(
            "Métropole de Décisionville", "confirmed", kind="metropole", siren=fake_siren(41)
        ),
        "suspect": signature("Libéréville", "suspect", kind="commune"),
        "association": signature("Association des Amis de Testville", "confirmed"),
    }


def _open_from_the_queue(page, territory_name: str):
    page.goto(QUEUE)
    page.get_by_role("link", name=re.compile(re.escape(territory_name))).click()
    heading = re.compile(f"^Signature à modérer « {re.escape(territory_name)}")
    page.get_by_role("heading", level=1, name=heading).wait_for()


def test_moderator_decides_from_the_signature_page(page, moderator, to_decide):
    # `page` first: its migration_data brings back the moderators' group a flush removed.
    _log_in(page)
    page.get_by_role("link", name="3 signatures à modérer").click()
    expect(page).to_have_title("Signatures à modérer | Alliance des territoires")

    _open_from_the_queue(page, "Métropole de Décisionville")
    sirene = page.get_by_role(
        "link", name=re.compile(r"Annuaire des entreprises \(nouvel onglet\)")
    )
    expect(sirene).to_have_attribute("target", "_blank")
    expect(sirene).to_have_attribute(
        "href", f"https://annuaire-entreprises.data.gouv.fr/entreprise/{fake_siren(41)}"
    )
    expect(page.get_by_role("button", name="Libérer")).to_have_count(0)
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_text("Signature publiée pour Métropole de Décisionville")).to_be_visible()
    expect(page).to_have_title("Signatures à modérer | Alliance des territoires")  # next one

    _open_from_the_queue(page, "Libéréville")
    expect(page.get_by_role("button", name="Publier")).to_have_count(0)
    page.get_by_role("button", name="Libérer").click()
    expect(page.get_by_text("Signature libérée pour Libéréville")).to_be_visible()

    # The refusal with the keyboard alone: choose the reason, write the note, send.
    _open_from_the_queue(page, "Association des Amis de Testville")
    reason = page.get_by_role("combobox", name="Motif")
    reason.focus()
    for _ in range(3):  # past "Choisir un motif…" and the first two reasons
        page.keyboard.press("ArrowDown")
    expect(reason.locator("option:checked")).to_have_text(
        "Structure non éligible (pas une collectivité territoriale)"
    )
    page.keyboard.press("Tab")
    note = page.get_by_role("textbox", name="Précisions (envoyées au signataire)")
    expect(note).to_be_focused()
    page.keyboard.type("Une association ne signe pas au nom d'un territoire.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Refuser")).to_be_focused()
    page.keyboard.press("Enter")
    expect(
        page.get_by_text("Signature refusée pour Association des Amis de Testville")
    ).to_be_visible()

    statuses = {
        key: Signature.objects.get(pk=signature.pk).status for key, signature in to_decide.items()
    }
    assert statuses == {"metropole": "published", "suspect": "pending", "association": "rejected"}
    refusal = ModerationEvent.objects.get(action="reject")
    assert (refusal.actor, refusal.reason) == (moderator, "not_eligible")
    assert refusal.note == "Une association ne signe pas au nom d'un territoire."


@pytest.fixture
def long_queue():
    """A queue with long names, addresses and several flags, in two declarations (so that
    every filter shows)."""
    networks = list(Network.objects.all())
    for declaration in (DeclarationFactory(slug="longue-1"), DeclarationFactory(slug="longue-2")):
        for index in range(6):
            signature = SignatureFactory(
                declaration=declaration,
                territory=_place(
                    f"Communauté d'agglomération de Saint-Exemple-sur-Garonne-les-Bains {index}",
                    kind="ca",
                ),
                status="confirmed" if index % 3 else "suspect",
                first_name="Marie-Christine-Éléonore",
                last_name=f"Dupont-Lefebvre-de-la-Tour-d'Auvergne {index}",
                email=f"secretariat.general.de.la.presidence.{index}@agglo-saint-exemple.fr",
            )
            signature.networks.set(networks[: 1 + index % 3])
            for code in (Flag.Code.WEBMAIL, Flag.Code.TOO_FAST, Flag.Code.FUNCTION_MISMATCH):
                signature.flags.create(code=code, detail="test")


@pytest.mark.parametrize("url", [QUEUE, SIGNATURES], ids=["queue", "signatures"])
def test_queue_fits_beside_its_filters(page, viewport, moderator, long_queue, url):
    _log_in(page)
    page.goto(url)
    page.locator("#result_list").wait_for()
    sizes = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist-form .results');
            const filter = document.querySelector('#changelist-filter').getBoundingClientRect();
            const heads = [...document.querySelectorAll('#result_list thead th')];
            return {
                tableRight: document.querySelector('#result_list').getBoundingClientRect().right,
                headRights: heads.map(th => th.getBoundingClientRect().right),
                filterLeft: filter.left,
                filterTop: filter.top,
                resultsScroll: results.scrollWidth,
                resultsWidth: results.clientWidth,
                pageScroll: document.documentElement.scrollWidth,
                pageWidth: document.documentElement.clientWidth,
            };
        }"""
    )
    assert sizes["pageScroll"] <= sizes["pageWidth"], sizes  # the page never scrolls sideways
    if viewport == DESKTOP:
        # Beside the filters: every column, whole, left of them; nothing to scroll to.
        assert sizes["tableRight"] <= sizes["filterLeft"], sizes
        assert max(sizes["headRights"]) <= sizes["filterLeft"], sizes
        assert sizes["resultsScroll"] <= sizes["resultsWidth"], sizes
    expect(page.get_by_role("columnheader", name="Signataire")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Statut")).to_be_visible()


def test_queue_and_signature_page_pass_axe(page, moderator, to_decide):
    _log_in(page)
    page.goto(QUEUE)
    page.locator("#result_list").wait_for()
    assert _axe_problems(page) == []
    _open_from_the_queue(page, "Métropole de Décisionville")
    assert _axe_problems(page) == []
    # "Autre motif" needs a note: the refusal page asks again, with the error.
    page.get_by_role("combobox", name="Motif").select_option(label="Autre motif")
    page.get_by_role("button", name="Refuser").click()
    expect(page.get_by_text("Précisez le motif.")).to_be_visible()
    assert _axe_problems(page) == []
