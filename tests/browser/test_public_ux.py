"""The signatory list and the statistics map, in Chromium, at desktop and mobile sizes:
filters that apply as they change, départements narrowed to the région, numbered
pages, live news under a filter, and the map's départements reached by keyboard."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from declarations.models import Declaration
from signatures.models import Signature
from signatures.stats import refresh_stats
from territories.models import Territory
from tests.browser.test_accessibility import accessibility_problems
from tests.factories import SignatureFactory, TerritoryFactory, bulk_signatures

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "alliance-des-territoires"


def _official(kind: str, code: str, name: str, **extra) -> Territory:
    """A région or département under its real code (the map keys on it), reused if the
    official referential happens to be in the test database."""
    territory, _created = Territory.objects.get_or_create(
        kind=kind, code=code, defaults={"name": name, "is_referential": True, **extra}
    )
    return territory


@pytest.fixture
def signed(migration_data):
    """Six communes with made-up names signed: two in Finistère (Bretagne), three in
    Haute-Garonne and one in Ariège (Occitanie); the counts computed."""
    declaration = Declaration.objects.get(slug=SLUG)
    bretagne = _official("region", "53", "Bretagne")
    occitanie = _official("region", "76", "Occitanie")
    departements = {
        "29": _official("departement", "29", "Finistère", region=bretagne),
        "31": _official("departement", "31", "Haute-Garonne", region=occitanie),
        "09": _official("departement", "09", "Ariège", region=occitanie),
    }
    names = {
        "29": ["Kerexemple", "Plouessai"],
        "31": ["Relanceville", "Coopérac", "Entraide-sur-Garonne"],
        "09": ["Solidarité-les-Monts"],
    }
    for code, communes in names.items():
        for index, name in enumerate(communes):
            SignatureFactory(
                declaration=declaration,
                status=Signature.Status.PUBLISHED,
                territory=TerritoryFactory(
                    kind="commune",
                    name=name,
                    population=1000 * (index + 1),
                    departement=departements[code],
                    region=departements[code].region,
                ),
            )
    refresh_stats(declaration_id=declaration.pk)
    return {"declaration": declaration, "departements": departements, "occitanie": occitanie}


def _list(page, query: str = "") -> None:
    page.goto(reverse("public:list", args=[SLUG]) + query)


def _counter(page) -> str:
    return page.locator("#signature-counters .display-6").first.inner_text()


def test_filters_apply_when_changed_without_a_reload(page, signed):
    _list(page)
    items = page.locator("#signature-list > li")
    expect(items).to_have_count(6)
    page.evaluate("window.notReloaded = true")

    region = page.get_by_label("Région")
    region.focus()
    region.select_option(label="Occitanie")  # no button pressed
    expect(items).to_have_count(4)
    expect(page).to_have_url(re.compile(r"\?region=76$"))
    assert _counter(page) == "4"
    expect(page.locator("#signature-counters")).to_contain_text("sur 6 au total")
    expect(page.locator("#list-announcer")).to_have_text(
        "4 territoires signataires correspondent à ces critères."
    )
    expect(region).to_be_focused()  # the focus stays where the visitor is

    page.get_by_label("Trier par").select_option(label="Population")
    expect(page).to_have_url(re.compile(r"\?region=76&sort=population$"))
    expect(items.first).to_contain_text("3\xa0000 habitants")  # Entraide-sur-Garonne

    search = page.get_by_label("Territoire ou signataire")
    search.fill("coopérac")
    search.press("Enter")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Coopérac")
    assert _counter(page) == "1"
    expect(page.get_by_role("link", name="Télécharger (CSV)")).to_have_attribute(
        "href", re.compile(r"signataires\.csv\?q=coop%C3%A9rac&region=76&sort=population$")
    )
    assert page.evaluate("window.notReloaded") is True

    # The address is shareable: opened afresh, it shows the same.
    page.goto(page.url)
    expect(items).to_have_count(1)
    expect(page.get_by_label("Région")).to_have_value("76")


def test_going_back_shows_the_previous_filters_and_results(page, signed):
    _list(page)
    items = page.locator("#signature-list > li")
    page.get_by_label("Région").select_option(label="Bretagne")
    expect(items).to_have_count(2)
    page.get_by_label("Type de territoire").select_option(label="Région")
    expect(items).to_have_count(1)  # the "Aucune signature" line
    page.go_back()
    expect(page).to_have_url(re.compile(r"\?region=53$"))
    expect(items).to_have_count(2)
    expect(page.get_by_label("Type de territoire")).to_have_value("")
    expect(page.get_by_label("Région")).to_have_value("53")


def test_departements_narrow_to_the_chosen_region(page, signed):
    _list(page)
    departement = page.get_by_label("Département")
    options = departement.locator("option")
    expect(options).to_have_text(
        ["Tous les départements", "09 – Ariège", "29 – Finistère", "31 – Haute-Garonne"]
    )
    page.get_by_label("Région").select_option(label="Occitanie")
    expect(options).to_have_text(["Tous les départements", "09 – Ariège", "31 – Haute-Garonne"])
    departement.select_option(label="31 – Haute-Garonne")
    expect(page.locator("#signature-list > li")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"region=76&departement=31"))

    # Another région: its départements only, and the list follows.
    page.get_by_label("Région").select_option(label="Bretagne")
    expect(options).to_have_text(["Tous les départements", "29 – Finistère"])
    expect(departement).to_have_value("")
    expect(page.locator("#signature-list > li")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"\?region=53$"))

    page.get_by_label("Région").select_option(label="Toutes les régions")
    expect(options).to_have_count(4)


def test_pages_are_reached_by_their_visible_labels(page, signed):
    bulk_signatures(signed["declaration"], 120)
    refresh_stats(declaration_id=signed["declaration"].pk)
    _list(page, "?kind=commune")
    pages = page.get_by_role("navigation", name="Pages de résultats")
    expect(pages.get_by_role("link", name="Page 1")).to_have_attribute("aria-current", "page")
    expect(pages.get_by_role("link", name="Précédente")).to_have_count(0)

    pages.get_by_role("link", name="Suivante").click()
    expect(page).to_have_url(re.compile(r"\?kind=commune&page=2#signature-results$"))
    expect(pages.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("Page 2 sur 3")).to_be_visible()

    pages.get_by_role("link", name="Dernière").click()
    expect(page).to_have_url(re.compile(r"page=3"))
    expect(page.locator("#signature-list > li")).to_have_count(126 - 100)
    assert _counter(page) == "126"

    pages.get_by_role("link", name="Première").click()
    expect(page).to_have_url(re.compile(r"\?kind=commune#signature-results$"))
    expect(page.get_by_label("Type de territoire")).to_have_value("commune")


def test_news_arrive_under_a_filter_and_the_counter_follows(page, signed):
    _list(page, "?region=76")
    items = page.locator("#signature-list > li")
    expect(items).to_have_count(4)
    declaration = signed["declaration"]
    for name, departement in (
        ("Nouvelle-Occitane", signed["departements"]["09"]),
        ("Nouvelle-Bretonne", signed["departements"]["29"]),
    ):
        SignatureFactory(
            declaration=declaration,
            status=Signature.Status.PUBLISHED,
            territory=TerritoryFactory(
                kind="commune", name=name, departement=departement, region=departement.region
            ),
        )
    refresh_stats(declaration_id=declaration.pk)

    expect(items.first).to_contain_text("Nouvelle-Occitane", timeout=25_000)
    expect(items).to_have_count(5)
    assert _counter(page) == "5"  # the rows shown, not the 8 published
    expect(page.locator("#signature-counters")).to_contain_text("sur 8 au total")
    expect(page.locator("#list-announcer")).to_have_text(
        "Une nouvelle signature en tête de liste."
    )


def test_a_departement_of_the_map_is_reached_by_keyboard(page, signed):
    page.goto(reverse("public:statistics", args=[SLUG]))
    target = page.get_by_role("link", name=re.compile(r"^Haute-Garonne : 3 territoires"))
    expect(target).to_have_accessible_name(
        "Haute-Garonne : 3 territoires signataires, 100\xa0% des habitants — voir la liste"
    )
    for _press in range(250):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached Haute-Garonne on the map")
    outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/signataires/\?departement=31$"))
    expect(page.locator("#signature-list > li")).to_have_count(3)
    expect(page.get_by_label("Département")).to_have_value("31")


def test_the_map_can_be_skipped_by_keyboard(page, signed):
    page.goto(reverse("public:statistics", args=[SLUG]))
    skip = page.get_by_role("link", name="Passer la carte")
    for _press in range(80):
        page.keyboard.press("Tab")
        if skip.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the link that skips the map")
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # Past the 101 départements: the next stop is after the legend.
    assert page.evaluate("document.activeElement.closest('svg') === null")


def test_list_and_statistics_have_no_accessibility_problem(page, signed):
    problems = {}
    _list(page)
    page.get_by_label("Région").select_option(label="Occitanie")
    expect(page.locator("#signature-list > li")).to_have_count(4)
    page.get_by_label("Trier par").select_option(label="Population")
    expect(page).to_have_url(re.compile(r"sort=population"))
    problems["list-filtered-by-htmx"] = accessibility_problems(page)
    page.goto(reverse("public:statistics", args=[SLUG]))
    problems["statistics"] = accessibility_problems(page)
    assert problems == {"list-filtered-by-htmx": [], "statistics": []}
