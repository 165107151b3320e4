"""Accessibility of every public page, in Chromium, at desktop and mobile widths.

axe-core finds what a machine can find (contrast, names, labels, ids, landmarks);
the other tests check by script what axe cannot judge: focus is visible, the skip
link moves focus, form errors are tied to their fields, the territory combobox
follows ARIA 1.2, nothing scrolls sideways at 375 or 320 px. docs/accessibility.md
says what none of this covers.
"""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from playwright.sync_api import expect

from declarations.models import Declaration, Network
from signatures.models import Signature
from signatures.stats import refresh_stats
from territories.models import Territory
from tests.browser.conftest import axe_violations
from tests.factories import SignatureFactory, TerritoryFactory, bulk_signatures, fake_siren

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "alliance-des-territoires"


def _official(kind: str, code: str, name: str, population: int, **extra):
    """A région or département with its real code (the map and filters key on it),
    reused if the official referential happens to be in the test database."""
    territory, _created = Territory.objects.get_or_create(
        kind=kind,
        code=code,
        defaults={"name": name, "population": population, "is_referential": True, **extra},
    )
    return territory


@pytest.fixture
def content(migration_data):
    """Published signatures in two départements, one pending, the counts computed.

    Communes and the métropole have made-up names and codes, so that searching
    them finds exactly these even beside the official referential.
    """
    declaration = Declaration.objects.get(slug=SLUG)
    declaration.signature_goal = 1000
    declaration.save(update_fields=["signature_goal"])
    occitanie = _official("region", "76", "Occitanie", 6_000_000)
    aquitaine = _official("region", "75", "Nouvelle-Aquitaine", 6_100_000)
    garonne = _official("departement", "31", "Haute-Garonne", 1_400_000, region=occitanie)
    gironde = _official("departement", "33", "Gironde", 1_650_000, region=aquitaine)

    def place(kind, name, departement, population, **extra):
        return TerritoryFactory(
            kind=kind,
            name=name,
            departement=departement,
            region=departement.region,
            population=population,
            **extra,
        )

    relanceville = place("commune", "Relanceville", garonne, 504_078, postal_codes="31990")
    metropole = place(
        "metropole", "Relanceville Métropole", garonne, 810_000, siren=fake_siren(31)
    )
    cooperac = place("commune", "Coopérac-sur-Garonne", gironde, 261_804)
    entraide = place("commune", "Entraide-les-Bains", garonne, 25_000)
    pending_place = place("commune", "Solidarité-en-Lauragais", garonne, 39_000)
    networks = list(Network.objects.order_by("position"))
    published = [
        (
            relanceville,
            "Martin",
            Signature.Function.MAIRE,
            "Pour une relance qui parte des territoires.",
        ),
        (metropole, "Bernard", Signature.Function.PRESIDENT, ""),
        (garonne, "Dubois", Signature.Function.PRESIDENT, "Engagés !"),
        (cooperac, "Thomas", Signature.Function.MAIRE, ""),
        (gironde, "Robert", Signature.Function.PRESIDENT, ""),
        (occitanie, "Richard", Signature.Function.PRESIDENT, ""),
        (entraide, "Petit", Signature.Function.MAIRE, ""),
    ]
    for index, (territory, last_name, function, comment) in enumerate(published):
        signature = last_published = SignatureFactory(
            declaration=declaration,
            territory=territory,
            last_name=last_name,
            function=function,
            comment=comment,
            status=Signature.Status.PUBLISHED,
        )
        signature.networks.set(networks[: 1 + index % 3])
    pending = SignatureFactory(declaration=declaration, territory=pending_place)
    refresh_stats(declaration_id=declaration.pk)
    return {"declaration": declaration, "pending": pending, "published": last_published}


def sign_url() -> str:
    return reverse("signatures:sign", args=[SLUG])


# Each public page in the state a visitor first sees it, by the path that shows it.
PAGES = {
    "home": lambda content: "/",
    "declaration": lambda content: reverse("declarations:detail", args=[SLUG]),
    "sign": lambda content: sign_url(),
    "check-inbox": lambda content: reverse("signatures:check_inbox", args=[SLUG]),
    "confirm": lambda content: reverse(
        "signatures:confirm", args=[content["pending"].make_confirmation_token()]
    ),
    "link-problem": lambda content: reverse("signatures:confirm", args=["lien-abime"]),
    "resend": lambda content: reverse("signatures:resend"),
    "list": lambda content: reverse("public:list", args=[SLUG]),
    "list-filtered": lambda content: (
        reverse("public:list", args=[SLUG])
        + "?q=relance&kind=commune&region=76&departement=31&network=anpp&sort=nom"
    ),
    "statistics": lambda content: reverse("public:statistics", args=[SLUG]),
    "widget": lambda content: reverse("public:widget", args=[SLUG]),
    "territory-search": lambda content: reverse("territories:search") + "?q=relanceville",
    "privacy": lambda content: reverse("public:privacy"),
    "legal": lambda content: reverse("public:legal"),
    "contact": lambda content: reverse("public:contact"),
    "accessibility": lambda content: reverse("public:accessibility"),
    "engagement": lambda content: reverse("declarations:engagement", args=[SLUG]),
    "contest": lambda content: reverse(
        "signatures:contest", args=[content["published"].public_id]
    ),
    "manage": lambda content: reverse(
        "signatures:manage", args=[content["pending"].make_manage_token()]
    ),
    "manage-request": lambda content: reverse("signatures:manage_request"),
    "verify": lambda content: reverse("public:verify", args=[content["published"].public_id]),
    "share-mastodon": lambda content: reverse("public:share_mastodon") + "?text=Signez",
    "share-mastodon-ready": lambda content: (
        reverse("public:share_mastodon") + "?instance=piaille.fr&text=Signez"
    ),
    "not-found": lambda content: "/nulle-part/",
}


# Moderate too: that is where axe puts heading order, landmarks and content outside them.
IMPACTS = ("moderate", "serious", "critical")
# The widget is a card inside other sites' pages: a heading of its own would not fit theirs.
WIDGET_ALLOWED = {"page-has-heading-one"}


def accessibility_problems(page, *, allowed: set[str] = frozenset()) -> list:
    """What fails on the page as it is now: its language, axe's findings, reflow."""
    problems = []
    lang = page.evaluate("document.documentElement.lang")
    if lang != "fr":
        problems.append(f"<html lang={lang!r}>")
    problems += [v for v in axe_violations(page, impacts=IMPACTS) if v["id"] not in allowed]
    if page.viewport_size["width"] <= 400:
        # WCAG 1.4.10 (reflow): no sideways scrolling on a phone.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{overflow} px of horizontal scrolling")
    return problems


def assert_accessible(page) -> None:
    assert accessibility_problems(page) == []


def test_public_pages_are_accessible(page, content):
    """Every public page as first shown, one after the other in the same tab."""
    problems = {}
    for name, path in PAGES.items():
        page.goto(path(content))
        found = accessibility_problems(page, allowed=WIDGET_ALLOWED if name == "widget" else set())
        if name != "widget":  # the widget lives in other sites' iframes: no page chrome
            if page.locator("a.skip-link[href='#contenu']").count() != 1:
                found.append("no skip link to #contenu")
            if page.locator("main#contenu").count() != 1:
                found.append("no <main id=contenu>")
            if page.get_by_role("heading", level=1).count() != 1:
                found.append("not exactly one <h1>")
        if found:
            problems[name] = found
    assert problems == {}


# WCAG 1.4.10: content reflows at 320 CSS px (1280 px at 400 % zoom) without sideways scrolling.
@pytest.mark.parametrize("viewport", [{"width": 320, "height": 568}], ids=["320px"])
def test_public_pages_reflow_at_320_px(page, content):
    overflowing = {}
    for name, path in PAGES.items():
        page.goto(path(content))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            overflowing[name] = overflow
    assert overflowing == {}


def test_server_error_page_is_accessible(page, content):
    """Django renders 500.html with no request; shown here in place of a page of the site."""
    page.goto("/")  # so that the page's /static/ addresses resolve
    page.set_content(render_to_string("500.html"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Une erreur est survenue")
    assert_accessible(page)


def test_english_page_marks_the_french_declaration_text(page, content):
    """RGAA 8.7: on the English interface the declaration stays French, and says so."""
    page.goto("/")
    page.get_by_label("Langue").select_option("en")
    page.get_by_role("button", name="Changer").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    closest_lang = "e => e.closest('[lang]').lang"
    assert page.locator("h1").evaluate(closest_lang) == "fr"
    assert page.locator(".declaration-body").evaluate(closest_lang) == "fr"
    assert page.locator("#sign-title").evaluate(closest_lang) == "en"
    assert page.locator("#founders-title").evaluate(closest_lang) == "en"


def _empty_list(page, content):
    page.goto(reverse("public:list", args=[SLUG]) + "?q=introuvable")
    expect(page.get_by_text("Aucune signature publiée ne correspond")).to_be_visible()


def _second_page_of_list(page, content):
    bulk_signatures(content["declaration"], 60)
    refresh_stats(declaration_id=content["declaration"].pk)
    page.goto(reverse("public:list", args=[SLUG]) + "?page=2")
    expect(page.get_by_role("navigation", name="Pages de résultats")).to_be_visible()


def _territory_search_without_match(page, content):
    page.goto(reverse("territories:search") + "?q=introuvable")
    expect(page.get_by_text("Aucun territoire ne correspond")).to_be_visible()


def _resend_with_invalid_address(page, content):
    page.goto(reverse("signatures:resend"))
    page.get_by_label("Adresse e-mail utilisée pour signer").fill("pas-une-adresse")
    page.get_by_role("button", name="Envoyer un nouveau lien").click()
    field = page.get_by_label("Adresse e-mail utilisée pour signer")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile("Saisissez une adresse e-mail valide"))


def _resend_done(page, content):
    page.goto(reverse("signatures:resend"))
    page.get_by_label("Adresse e-mail utilisée pour signer").fill(content["pending"].email)
    page.get_by_role("button", name="Envoyer un nouveau lien").click()
    expect(page.get_by_role("status")).to_contain_text("un nouveau lien")


def _signing_closed(page, content):
    content["declaration"].is_open = False
    content["declaration"].save(update_fields=["is_open"])
    page.goto(sign_url())
    expect(page.get_by_role("heading", name="Les signatures sont closes")).to_be_visible()


# Pages in a state other than the first visit: empty, paginated, after a form, closed.
STATES = {
    "empty-list": _empty_list,
    "list-page-2": _second_page_of_list,
    "territory-search-no-match": _territory_search_without_match,
    "resend-invalid": _resend_with_invalid_address,
    "resend-done": _resend_done,
    "signing-closed": _signing_closed,
}


@pytest.mark.parametrize("state", STATES)
def test_public_page_state_is_accessible(page, content, state):
    STATES[state](page, content)
    assert_accessible(page)


def _outline(locator) -> tuple[str, float]:
    """The computed outline: its style and its width in px."""
    style, width = locator.evaluate(
        "e => [getComputedStyle(e).outlineStyle, parseFloat(getComputedStyle(e).outlineWidth)]"
    )
    return style, width


def test_skip_link_moves_focus_to_main_and_focus_is_outlined(page, content):
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_be_focused()
    box = skip_link.bounding_box()  # visually hidden until focused, then on screen
    assert box["width"] > 20
    assert box["height"] > 10
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert _outline(skip_link) == ("solid", 3)

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"

    # The next Tab starts from the main content: its first link, outlined.
    page.keyboard.press("Tab")
    link = page.locator(":focus")
    assert link.evaluate("e => e.tagName === 'A' && e.closest('main') !== null")
    assert _outline(link) == ("solid", 3)
    # Backwards from there: the last control of the header, a Bootstrap button.
    page.keyboard.press("Shift+Tab")
    button = page.get_by_role("button", name="Changer")
    expect(button).to_be_focused()
    assert _outline(button) == ("solid", 3)
    # The outline is the focus indicator: without focus there is none.
    page.locator("h1").click()
    assert _outline(button)[0] == "none"
    assert _outline(link)[0] == "none"


TAB_STOPS = """() => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    return {
        element: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
            + (e.className ? '.' + e.className : ''),
        outline: s.outlineStyle,
        width: parseFloat(s.outlineWidth),
    };
}"""


@pytest.mark.parametrize("name", ["sign", "list", "statistics"])
def test_every_tab_stop_has_a_visible_outline(page, content, name):
    """Tab through the whole page: each control shows a 2 px (or more) solid outline."""
    page.goto(PAGES[name](content))
    stops = []
    for _press in range(120):
        page.keyboard.press("Tab")
        stop = page.evaluate(TAB_STOPS)
        if stops and stop["element"] == stops[0]["element"]:
            break  # round the page and back to the skip link
        if stop["element"] != "body":
            stops.append(stop)
    assert len(stops) >= 8
    hidden = [s for s in stops if s["outline"] in ("none", "hidden") or s["width"] < 2]
    assert hidden == []


def _invalid_submission(page) -> None:
    page.get_by_role("button", name="Signer la déclaration").click()
    expect(page.locator("#form-errors")).to_be_focused()


SUMMARY_LINKS = """() => [...document.querySelectorAll('#form-errors a[href^="#"]')].map(link => {
    const clean = text => text.replace(/\\s+/g, ' ').trim();
    const field = document.getElementById(link.getAttribute('href').slice(1));
    const message = clean(link.parentElement.textContent.slice(link.textContent.length))
        .replace(/^: /, '');
    if (field === null) return {label: link.textContent, message, field: null};
    // A radio group is described as a whole, on its fieldset.
    const describedBy = field.getAttribute('aria-describedby')
        || (field.type === 'radio' && field.closest('fieldset').getAttribute('aria-describedby'))
        || '';
    const description = describedBy.split(/\\s+/).filter(Boolean)
        .map(id => document.getElementById(id))
        .map(element => element === null ? '[missing id]' : clean(element.textContent))
        .join(' ');
    return {
        label: clean(link.textContent), message, field: field.id, visible: field.checkVisibility(),
        invalid: field.getAttribute('aria-invalid'), description,
    };
})"""


def _assert_errors_tied_to_fields(page) -> list[str]:
    """Each link of the summary reaches a visible, invalid field described by the message."""
    links = page.evaluate(SUMMARY_LINKS)
    for link in links:
        assert link["field"] is not None, link
        assert link["visible"], link
        assert link["invalid"] == "true", link
        assert link["message"], link
        assert link["message"] in link["description"], link
    return [link["label"] for link in links]


def test_sign_form_errors_are_summarised_and_tied_to_their_fields(page, content):
    page.goto(sign_url())
    page.get_by_text("Mon territoire n'est pas dans la liste (PETR").click()
    page.get_by_label("SIREN du territoire").fill("123 456 789")
    page.get_by_role("textbox", name="Prénom*", exact=True).fill("Camille")
    page.get_by_role("textbox", name="Nom*", exact=True).fill("Martin")
    # RGAA 11.13: the purpose of personal fields is declared, for autofill and assistive tools.
    purposes = page.evaluate(
        "() => ['id_first_name', 'id_last_name', 'id_email', 'id_phone']"
        ".map(id => document.getElementById(id).autocomplete)"
    )
    assert purposes == ["given-name", "family-name", "email", "tel"]

    _invalid_submission(page)

    assert page.title().startswith("Erreur :")
    summary = page.locator("#form-errors")
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 8 erreurs :")
    assert _assert_errors_tied_to_fields(page) == [
        "Type de territoire",
        "Nom du territoire",
        "SIREN du territoire",
        "Département",
        "Fonction ou mandat",
        "Adresse e-mail professionnelle",
        "Accord de publication",
        "Habilitation",
    ]
    expect(page.get_by_label("SIREN du territoire")).to_have_accessible_description(
        re.compile("Ce numéro SIREN n'est pas valide")
    )
    expect(page.get_by_label("Adresse e-mail professionnelle")).to_have_accessible_description(
        re.compile("Ce champ est obligatoire")
    )
    # Following a link of the summary puts the keyboard in the field.
    summary.get_by_role("link", name="Adresse e-mail professionnelle").click()
    expect(page.get_by_label("Adresse e-mail professionnelle")).to_be_focused()
    assert_accessible(page)

    # The territory picker's own markup (not crispy's) when no territory is chosen: the
    # "not listed" panel, emptied and folded, is no longer the choice.
    page.get_by_label("SIREN du territoire").fill("")
    page.get_by_text("Mon territoire n'est pas dans la liste (PETR").click()
    _invalid_submission(page)
    labels = _assert_errors_tied_to_fields(page)
    assert labels[0] == "Territoire"
    assert labels[-4:] == [
        "Fonction ou mandat",
        "Adresse e-mail professionnelle",
        "Accord de publication",
        "Habilitation",
    ]
    expect(
        page.get_by_role("combobox", name="Rechercher votre territoire")
    ).to_have_accessible_description(re.compile("Choisissez votre territoire dans la liste"))


def test_territory_combobox_follows_aria_1_2(page, content):
    page.goto(sign_url())
    combobox = page.get_by_role("combobox", name="Rechercher votre territoire")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(combobox).to_have_attribute("aria-autocomplete", "list")
    expect(combobox).to_have_attribute("aria-controls", "territory-listbox")

    combobox.press_sequentially("relance", delay=20)

    listbox = page.get_by_role("listbox", name="Territoires trouvés")
    expect(listbox).to_be_visible()
    expect(listbox).to_have_attribute("id", "territory-listbox")
    expect(combobox).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(combobox).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(page.locator("#territory-status")).to_have_text(re.compile("2 territoires trouvés"))

    combobox.press("ArrowDown")
    first_id = options.nth(0).get_attribute("id")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    combobox.press("ArrowDown")
    expect(combobox).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    expect(combobox).to_be_focused()  # DOM focus stays in the field
    assert_accessible(page)  # with the listbox open and an option highlighted

    combobox.press("Escape")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(combobox).not_to_have_attribute("aria-activedescendant", re.compile("."))
    expect(listbox).to_be_hidden()

    combobox.press("ArrowDown")  # reopens on the first option
    expect(combobox).to_have_attribute("aria-expanded", "true")
    expect(combobox).to_have_attribute("aria-activedescendant", first_id)
    combobox.press("Enter")
    expect(combobox).to_have_attribute("aria-expanded", "false")
    expect(combobox).to_have_value("Relanceville Métropole")
    expect(page.locator("#territory-chosen")).to_have_text(
        re.compile("^Territoire choisi : Relanceville Métropole")
    )


def test_territory_search_without_javascript_is_accessible(page, content):
    """Our scripts answered empty: the page as a browser without JavaScript shows it.

    (A context with JavaScript disabled would also stop axe's own timers.)
    """
    page.route(
        "**/static/**/*.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
    )
    page.goto(sign_url())
    page.get_by_label("Rechercher votre territoire").fill("relance")

    page.get_by_role("button", name="Rechercher", exact=True).click()

    choices = page.get_by_role("group", name="Choisissez votre territoire :")
    expect(choices.get_by_role("radio")).to_have_count(2)
    expect(page.locator("#form-errors")).to_have_count(0)  # searching judges nothing yet
    assert_accessible(page)


SWAGGER_KNOWN = {
    # Swagger UI puts the operation's deep link inside the button that expands it;
    # only a fork of Swagger UI could change that. See docs/accessibility.md.
    "nested-interactive",
}


def test_api_docs_have_no_serious_violation_outside_swagger_known_issues(page, content):
    page.goto("/api/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    page.locator(".opblock-summary-control").first.click()  # one operation open
    expect(page.locator(".opblock-body").first).to_be_visible()

    assert page.evaluate("document.documentElement.lang") == "fr"
    found = axe_violations(page)
    assert {v["id"] for v in found} <= SWAGGER_KNOWN
    for violation in found:
        for target in violation["nodes"]:
            assert page.locator(target[0]).evaluate("e => e.closest('#swagger-ui') !== null")
    if page.viewport_size["width"] <= 400:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scrolling"


def _contrast(page, selector: str) -> float:
    """Contrast ratio between an element's border colour and white (WCAG formula)."""
    return page.evaluate(
        """selector => {
            const colour = getComputedStyle(document.querySelector(selector)).borderTopColor;
            const parts = colour.match(/[\\d.]+/g).map(Number);
            const alpha = parts.length > 3 ? parts[3] : 1;  // blended over the white page
            const [r, g, b] = parts.slice(0, 3).map(v => alpha * v + (1 - alpha) * 255).map(v => {
                v /= 255;
                return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            });
            const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
            return 1.05 / (luminance + 0.05);
        }""",
        selector,
    )


def test_radio_and_checkbox_borders_reach_3_to_1(page, content):
    """WCAG 1.4.11: the boundary of a control is at least 3:1 against the page."""
    page.goto(sign_url())
    assert _contrast(page, "input[type=radio].form-check-input") >= 3
    assert _contrast(page, "input[type=checkbox].form-check-input") >= 3
