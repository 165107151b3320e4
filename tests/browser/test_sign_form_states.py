"""The signing form's states in Chromium, at desktop and mobile sizes: the "other
function" field, the territory error once a territory is chosen, the "not listed"
panel without a box to tick, and the confirmation page's warning of a competing
signature. Found by visible French labels and roles; axe finds nothing of moderate
impact or more in each state."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from signatures.models import Signature
from tests.browser.conftest import axe_violations
from tests.factories import SignatureFactory, TerritoryFactory, fake_siren

pytestmark = pytest.mark.django_db(transaction=True)

IMPACTS = ("moderate", "serious", "critical")
UNLISTED = "Mon territoire n'est pas dans la liste (PETR"
OTHER_FUNCTION = "Autre fonction : précisez laquelle"


def _goto_sign(page, declaration) -> None:
    # Straight to the form: the declaration page may hold two links to it.
    page.goto(reverse("signatures:sign", args=[declaration.slug]))


def _assert_accessible(page) -> None:
    assert axe_violations(page, impacts=IMPACTS) == []
    if page.viewport_size["width"] <= 400:
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def _choose_territory(page, typed: str, name: str) -> None:
    page.get_by_role("combobox", name="Rechercher votre territoire").press_sequentially(
        typed, delay=20
    )
    page.get_by_role("option", name=re.compile(name)).click()


def _fill_signatory(page) -> None:
    page.get_by_role("textbox", name=re.compile(r"^Prénom\*?$")).fill("Camille")
    page.get_by_role("textbox", name=re.compile(r"^Nom\*?$")).fill("Durand")
    page.get_by_role("radio", name="Président·e", exact=True).check()
    page.get_by_role("textbox", name="Adresse e-mail professionnelle").fill("camille@petr-test.fr")
    page.get_by_role("checkbox", name=re.compile("Je suis habilité·e à engager")).check()


def _consent_and_submit(page) -> None:
    page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")).check()
    page.get_by_role("button", name="Signer la déclaration").click()


def test_other_function_field_shows_only_for_other_function(page, declaration):
    _goto_sign(page, declaration)
    other = page.get_by_role("textbox", name=OTHER_FUNCTION)
    expect(other).to_be_hidden()

    page.get_by_role("radio", name="Maire", exact=True).check()
    expect(other).to_be_hidden()
    page.get_by_role("radio", name="Autre fonction").check()
    expect(other).to_be_visible()
    # The next Tab after the radio group reaches it: it follows the group.
    page.get_by_role("radio", name="Autre fonction").focus()
    page.keyboard.press("Tab")
    expect(other).to_be_focused()
    page.keyboard.type("Déléguée au climat")

    # A value is never hidden, whatever function is chosen next.
    page.get_by_role("radio", name="Maire", exact=True).check()
    expect(other).to_be_visible()
    other.fill("")
    page.get_by_role("radio", name="Président·e", exact=True).check()
    expect(other).to_be_hidden()
    _assert_accessible(page)


def test_other_function_field_with_an_error_stays_in_sight(page, declaration, territory):
    _goto_sign(page, declaration)
    _choose_territory(page, "testvil", "Métropole de Testville")
    _fill_signatory(page)
    page.get_by_role("radio", name="Autre fonction").check()
    _consent_and_submit(page)

    other = page.get_by_role("textbox", name=OTHER_FUNCTION)
    expect(other).to_be_visible()
    expect(other).to_have_attribute("aria-invalid", "true")
    expect(other).to_have_accessible_description(re.compile("Précisez votre fonction."))
    assert Signature.objects.count() == 0


def test_other_function_field_without_javascript_is_visible_and_labelled(page, declaration):
    page.route(
        "**/static/**/*.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=""),
    )
    _goto_sign(page, declaration)
    page.get_by_role("radio", name="Maire", exact=True).check()
    expect(page.get_by_role("textbox", name=OTHER_FUNCTION)).to_be_visible()


def test_choosing_a_territory_clears_the_territory_error(page, declaration, territory):
    _goto_sign(page, declaration)
    page.get_by_role("button", name="Signer la déclaration").click()
    combobox = page.get_by_role("combobox", name="Rechercher votre territoire")
    expect(combobox).to_have_attribute("aria-invalid", "true")
    expect(combobox).to_have_accessible_description(
        re.compile("Choisissez votre territoire dans la liste")
    )
    expect(page.locator("#territory-errors")).to_be_visible()

    _choose_territory(page, "testvil", "Métropole de Testville")

    expect(page.locator("#territory-chosen")).to_have_text(
        re.compile("^Territoire choisi : Métropole de Testville")
    )
    expect(page.locator("#territory-errors")).to_have_count(0)
    expect(combobox).not_to_have_attribute("aria-invalid", re.compile("."))
    expect(combobox).not_to_have_class(re.compile("is-invalid"))
    expect(combobox).to_have_attribute("aria-describedby", "id_territory_query_helptext")
    expect(combobox).not_to_have_accessible_description(re.compile("Choisissez votre territoire"))
    _assert_accessible(page)


def test_opening_and_filling_the_unlisted_panel_is_the_choice(page, declaration):
    # A made-up name: the official referential may share the test database.
    departement = TerritoryFactory(kind="departement", code="X31", name="Département Exemple")
    _goto_sign(page, declaration)
    page.get_by_text(UNLISTED).click()
    page.get_by_label("Type de territoire").select_option(label="PETR / Pays")
    page.get_by_role("textbox", name="Nom du territoire").fill("PETR du Pays Test")
    page.get_by_role("textbox", name="SIREN du territoire").fill(fake_siren(601))
    page.get_by_label("Département").select_option(label="Département Exemple")
    _fill_signatory(page)
    page.get_by_role("button", name="Signer la déclaration").click()  # consent forgotten

    # The error is elsewhere; the panel stays open with everything typed.
    expect(page.locator("#form-errors")).to_be_focused()
    panel = page.locator("#unlisted-territory")
    expect(panel).to_have_attribute("open", "")
    expect(page.get_by_role("textbox", name="Nom du territoire")).to_have_value(
        "PETR du Pays Test"
    )
    expect(page.get_by_role("textbox", name="SIREN du territoire")).to_have_value(fake_siren(601))
    expect(page.locator("#form-errors")).not_to_contain_text("Territoire")
    _assert_accessible(page)

    _consent_and_submit(page)
    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    expect(page.locator("#moderation-delay")).to_contain_text(
        "vérifiée par un modérateur avant d'être publiée"
    )
    signature = Signature.objects.get()
    assert signature.territory.name == "PETR du Pays Test"
    assert signature.territory.departement == departement


def test_an_opened_empty_panel_asks_for_its_fields_not_for_a_territory(page, declaration):
    _goto_sign(page, declaration)
    page.get_by_text(UNLISTED).click()
    page.get_by_role("button", name="Signer la déclaration").click()

    summary = page.locator("#form-errors")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Indiquez le nom du territoire.")
    expect(summary).not_to_contain_text("Choisissez votre territoire dans la liste")
    expect(page.get_by_role("textbox", name="Nom du territoire")).to_be_visible()


def test_a_listed_territory_and_a_filled_panel_are_asked_about_keeping_both(
    page, declaration, territory
):
    _goto_sign(page, declaration)
    _choose_territory(page, "testvil", "Métropole de Testville")
    page.get_by_text(UNLISTED).click()
    page.get_by_role("textbox", name="Nom du territoire").fill("PETR du Pays Test")
    page.get_by_text(UNLISTED).click()  # folded again, but still filled
    _fill_signatory(page)
    _consent_and_submit(page)

    combobox = page.get_by_role("combobox", name="Rechercher votre territoire")
    expect(combobox).to_have_attribute("aria-invalid", "true")
    expect(combobox).to_have_accessible_description(
        re.compile("Vous avez choisi un territoire dans la liste et rempli aussi")
    )
    expect(page.locator("#territory-chosen")).to_have_text(
        re.compile("^Territoire choisi : Métropole de Testville")
    )
    name = page.get_by_role("textbox", name="Nom du territoire")
    expect(name).to_be_visible()  # the panel is open again: nothing typed is folded away
    expect(name).to_have_value("PETR du Pays Test")
    assert Signature.objects.count() == 0
    _assert_accessible(page)

    # Keeping the listed territory: empty the panel and send again.
    name.fill("")
    _consent_and_submit(page)
    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    assert Signature.objects.get().territory == territory


def test_confirm_page_warns_of_a_competing_signature_before_its_button(
    page, declaration, territory
):
    mine = SignatureFactory(declaration=declaration, territory=territory)
    SignatureFactory(
        declaration=declaration, territory=territory, email="autre@secret.fr", last_name="Secret"
    )
    page.goto(reverse("signatures:confirm", args=[mine.make_confirmation_token()]))

    warning = page.locator("#territory-rivals")
    expect(warning.get_by_role("heading")).to_have_text(
        "Une autre signature attend pour ce territoire"
    )
    expect(warning).to_contain_text("la première signature confirmée est retenue")
    button = page.get_by_role("button", name="Je confirme la signature de mon territoire")
    # Before the button in reading order, and above it on screen.
    assert warning.evaluate(
        "(w, b) => !!(w.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)",
        button.element_handle(),
    )
    assert warning.bounding_box()["y"] < button.bounding_box()["y"]
    assert "autre@secret.fr" not in page.content()
    _assert_accessible(page)
