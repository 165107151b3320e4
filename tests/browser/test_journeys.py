"""People's journeys, in Chromium, at desktop and mobile sizes.

Elements are found by their visible French labels and roles, as a person (or a
screen reader) finds them. The mayor's journey uses the keyboard alone.
"""

import csv
import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfWriter

from signatures import services, signing
from signatures.models import Signature
from signatures.proof.deliberations import review_deliberation
from signatures.stats import refresh_stats
from tests.conftest import confirmation_path, wait_for
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, fake_siren

pytestmark = pytest.mark.django_db(transaction=True)

SLUG = "alliance-des-territoires"
PASSWORD = "mot-de-passe-de-test"


@pytest.fixture
def places():
    # Made-up names and codes: the official referential may share the test database.
    aura = TerritoryFactory(kind="region", code="B84", name="Région Nord-Exemple")
    occitanie = TerritoryFactory(kind="region", code="B76", name="Région Sud-Exemple")
    rhone = TerritoryFactory(
        kind="departement", code="B69", name="Département Nord-Exemple", region=aura
    )
    garonne = TerritoryFactory(
        kind="departement", code="B31", name="Département Sud-Exemple", region=occitanie
    )
    villeurbanne = TerritoryFactory(
        kind="commune", code="B69266", name="Coopérville", population=150000,
        departement=rhone, region=aura, postal_codes="69100",
    )  # fmt: skip
    toulouse = TerritoryFactory(
        kind="metropole", code="B243100518", siren=fake_siren(31),
        name="Métropole de Relanceville", population=800000,
        departement=garonne, region=occitanie,
    )  # fmt: skip
    return {"villeurbanne": villeurbanne, "toulouse": toulouse, "rhone": rhone}


def _tab_to(page, locator, limit=40):
    """Press Tab until the keyboard focus reaches the element, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {locator}")


def _sign_as_president(page, first_name: str, last_name: str, email: str) -> None:
    """Fill in the signatory's part of the form with the mouse, consent, and submit."""
    page.get_by_role("textbox", name="Prénom").fill(first_name)
    page.get_by_role("textbox", name=re.compile(r"^Nom\*?$")).fill(last_name)
    page.get_by_role("radio", name="Président·e", exact=True).check()
    page.get_by_role("textbox", name="Adresse e-mail professionnelle").fill(email)
    page.get_by_role("checkbox", name=re.compile("Je suis habilité·e à engager")).check()
    page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")).check()
    page.get_by_role("button", name="Signer la déclaration").click()


@pytest.mark.celery_worker
def test_mayor_signs_with_the_keyboard_alone(page, places, celery_worker, smtp_sink):
    page.goto(reverse("signatures:sign", args=[SLUG]))
    search = page.get_by_role("combobox", name="Rechercher votre territoire")
    _tab_to(page, search)
    page.keyboard.type("coopérv", delay=30)
    expect_option = page.get_by_role("option", name=re.compile("Coopérville"))
    expect_option.wait_for()
    page.keyboard.press("ArrowDown")
    assert search.get_attribute("aria-activedescendant")
    page.keyboard.press("Enter")
    assert "Territoire choisi : Coopérville" in page.locator("#territory-chosen").inner_text()

    _tab_to(page, page.get_by_role("textbox", name="Prénom"))
    page.keyboard.type("Cédric")
    _tab_to(page, page.get_by_role("textbox", name=re.compile(r"^Nom\*?$")))
    page.keyboard.type("Van Styvendael")
    _tab_to(page, page.get_by_role("radio", name="Président·e", exact=True))
    page.keyboard.press("ArrowRight")  # radios move and select with the arrows: Maire
    assert page.get_by_role("radio", name="Maire").is_checked()
    _tab_to(page, page.get_by_role("textbox", name="Adresse e-mail professionnelle"))
    page.keyboard.type("maire@mairie-cooperville.fr")
    _tab_to(page, page.get_by_role("checkbox", name="France urbaine"))
    page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("checkbox", name=re.compile("Je suis habilité·e à engager")))
    page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")))
    page.keyboard.press("Space")
    _tab_to(page, page.get_by_role("button", name="Signer la déclaration"))
    page.keyboard.press("Enter")

    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    assert wait_for(lambda: smtp_sink.messages), "the confirmation email never arrived"
    message = smtp_sink.messages[0]
    assert message["To"] == "maire@mairie-cooperville.fr"

    page.goto(confirmation_path(message))
    confirm = page.get_by_role("button", name="Je confirme la signature de mon territoire")
    _tab_to(page, confirm)
    page.keyboard.press("Enter")
    page.get_by_text("Votre signature est confirmée").wait_for()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.territory == places["villeurbanne"]
    assert [n.slug for n in signature.networks.all()] == ["france-urbaine"]


@pytest.mark.celery_worker
def test_moderator_approves_from_the_queue(page, moderator, places, celery_worker, smtp_sink):
    # `page` first: its migration_data brings back the moderators' group a flush removed.
    signature = SignatureFactory(
        declaration__slug="moderee", territory=places["toulouse"], status="confirmed"
    )

    page.goto("/admin/")
    page.get_by_label("Nom d’utilisateur").fill("moderatrice")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("link", name="1 signature à modérer").click()
    page.get_by_role("row", name=re.compile("Métropole de Relanceville")).get_by_role(
        "checkbox"
    ).check()
    page.get_by_role("combobox", name=re.compile(r"^Action")).select_option(label="Publier")
    page.get_by_role("button", name="Envoyer").click()
    page.get_by_text("1 signature traitée.").wait_for()

    signature.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED
    assert wait_for(lambda: smtp_sink.messages), "the signatory was not told"
    assert str(smtp_sink.messages[0]["Subject"]).strip().startswith("Votre signature est publiée")


@pytest.mark.celery_worker
def test_visitor_sees_a_new_signature_appear_without_reloading(page, places, celery_worker):
    declaration = DeclarationFactory(slug="en-direct")
    SignatureFactory(declaration=declaration, territory=places["villeurbanne"], status="published")
    waiting = SignatureFactory(
        declaration=declaration, territory=places["toulouse"], status="confirmed"
    )
    refresh_stats(declaration_id=declaration.pk)
    page.goto(reverse("public:list", args=[declaration.slug]))
    list_items = page.locator("#signature-list > li")
    assert list_items.count() == 1
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    services.change_status(signature_id=waiting.pk, action="approve")  # a moderator decides

    first = list_items.first
    first.get_by_text("Métropole de Relanceville").wait_for(timeout=25_000)
    assert list_items.count() == 2
    assert (
        page.locator("#list-announcer").inner_text() == "Une nouvelle signature en tête de liste."
    )
    assert page.locator("#signature-counters").get_by_text("2", exact=True).is_visible()
    assert navigations == []  # no reload


def test_visitor_filters_by_region_and_downloads_the_csv(page, places):
    declaration = DeclarationFactory(slug="filtres")
    for territory in (places["villeurbanne"], places["toulouse"]):
        SignatureFactory(declaration=declaration, territory=territory, status="published")
    page.goto(reverse("public:list", args=[declaration.slug]))
    page.get_by_label("Région").select_option(label="Région Sud-Exemple")
    page.get_by_role("button", name="Filtrer").click()  # applied on change already (htmx)
    page.wait_for_url(re.compile(r"region=B76"))
    items = page.locator("#signature-list > li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Métropole de Relanceville")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger (CSV)").click()
    content = open(download_info.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))  # a French Excel's separator
    assert [row[0] for row in rows[1:]] == ["Métropole de Relanceville"]
    assert "@" not in content


def test_invalid_siren_is_explained_next_to_the_field_and_input_is_kept(page, places):
    page.goto(reverse("signatures:sign", args=[SLUG]))
    page.get_by_text("Mon territoire n'est pas dans la liste (PETR").click()  # no box to tick
    page.get_by_label("Type de territoire").select_option(label="PETR / Pays")
    page.get_by_role("textbox", name="Nom du territoire").fill("PETR du Pays Test")
    page.get_by_role("textbox", name="SIREN du territoire").fill("123456789")
    page.get_by_label("Département").select_option(label=places["rhone"].name)
    _sign_as_president(page, "Anne", "Durand", "anne@petr.fr")

    siren = page.get_by_role("textbox", name="SIREN du territoire")
    assert siren.get_attribute("aria-invalid") == "true"
    error_id = siren.get_attribute("aria-describedby").split()[-1]
    assert "Ce numéro SIREN n'est pas valide" in page.locator(f"#{error_id}").inner_text()
    assert siren.input_value() == "123456789"
    assert (
        page.get_by_role("textbox", name="Nom du territoire").input_value() == "PETR du Pays Test"
    )
    assert page.get_by_role("textbox", name="Prénom").input_value() == "Anne"
    assert page.title().startswith("Erreur :")
    assert Signature.objects.count() == 0


def test_already_signed_territory_is_refused_next_to_the_field(page, places):
    declaration = DeclarationFactory(slug="deja")
    SignatureFactory(declaration=declaration, territory=places["toulouse"], status="published")
    page.goto(reverse("signatures:sign", args=["deja"]))
    search = page.get_by_role("combobox", name="Rechercher votre territoire")
    search.fill("relancev")
    page.get_by_role("option", name=re.compile("Métropole de Relanceville")).click()
    _sign_as_president(page, "Jean-Luc", "Moudenc", "jl@toulouse.fr")

    error = page.locator("#territory-errors")
    assert "Métropole de Relanceville a déjà signé la déclaration le" in error.inner_text()
    assert search.get_attribute("aria-invalid") == "true"
    assert "territory-errors" in search.get_attribute("aria-describedby")
    assert page.get_by_role("textbox", name="Prénom").input_value() == "Jean-Luc"
    assert Signature.objects.filter(territory=places["toulouse"]).count() == 1


def _manage_path(message) -> str:
    """The personal "manage my signature" link in an email the SMTP sink received."""
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://[^/\s]+(/signatures/gerer/[^/\s]+/)", text).group(1)


@pytest.mark.celery_worker
def test_signatory_corrects_then_withdraws_from_the_emailed_link(
    page, places, celery_worker, smtp_sink
):
    declaration = DeclarationFactory(slug="gestion", moderation="post")
    signature = SignatureFactory(
        declaration=declaration,
        territory=places["villeurbanne"],
        status="pending",
        first_name="Cédric",
        last_name="Van Styvendal",
        email="maire@mairie-cooperville.fr",
        confirmation_queued_at=None,
    )
    signing.send_new_links(email=signature.email)  # the confirmation email, with both links
    assert wait_for(lambda: smtp_sink.messages), "the email never arrived"
    page.goto(confirmation_path(smtp_sink.messages[0]))
    page.get_by_role("button", name="Je confirme la signature de mon territoire").click()
    page.get_by_text("Votre signature est confirmée").wait_for()

    page.goto(_manage_path(smtp_sink.messages[0]))
    page.get_by_role("heading", name="Gérer ma signature").wait_for()
    assert "maire@mairie-cooperville.fr" in page.content()  # what is held, shown to its owner
    name = page.get_by_role("textbox", name=re.compile(r"^Nom\*?$"))
    name.fill("Van Styvendael")
    page.get_by_role("button", name="Enregistrer la correction").click()
    page.get_by_text("Votre correction est enregistrée").wait_for()
    assert signature.corrections.get().last_name == "Van Styvendael"

    page.get_by_role("button", name="Retirer ma signature…").click()
    page.get_by_role("heading", name="Retirer ma signature ?").wait_for()
    page.get_by_role("button", name="Oui, retirer la signature").click()
    page.get_by_text("Votre signature est retirée").first.wait_for()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.WITHDRAWN
    assert wait_for(lambda: len(smtp_sink.messages) >= 2), "no acknowledgement"
    assert "est retirée" in str(smtp_sink.messages[-1]["Subject"])
    refresh_stats(declaration_id=declaration.pk)
    page.goto(reverse("public:list", args=[declaration.slug]))
    assert "Coopérville" not in page.locator("main").inner_text()


def _pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as file:
        writer.write(file)


def test_chief_of_staff_signs_for_the_president_with_a_deliberation(
    page, places, smtp_sink, settings, tmp_path
):
    settings.PRIVATE_ROOT = tmp_path / "private"
    declaration = DeclarationFactory(slug="au-nom", moderation="post")
    page.goto(reverse("signatures:sign", args=[declaration.slug]))
    search = page.get_by_role("combobox", name="Rechercher votre territoire")
    search.fill("Relanceville")
    page.get_by_role("option", name=re.compile("Métropole de Relanceville")).click()
    page.get_by_role("radio", name=re.compile("Au nom de l'exécutif")).check()
    page.get_by_role("radio", name="Madame").check()
    page.get_by_role("textbox", name="Prénom", exact=False).first.fill("Élise")
    page.get_by_role("textbox", name=re.compile(r"^Nom\*?$")).fill("Exécutive")
    page.get_by_role("radio", name="Président·e", exact=True).check()
    page.get_by_text("Vous signez au nom de l'exécutif ? Indiquez qui vous êtes").click()
    page.get_by_role("textbox", name="Votre prénom").fill("Paul")
    page.get_by_role("textbox", name="Votre nom").fill("Cabinet")
    page.get_by_role("textbox", name="Votre fonction").fill("Directeur de cabinet")
    page.get_by_role("textbox", name="Adresse e-mail professionnelle").fill(
        "cabinet@relanceville.fr"
    )
    fake = tmp_path / "deliberation.pdf"
    fake.write_bytes(b"Ceci est un document texte renomme en PDF.")
    page.get_by_label(re.compile("Délibération ou mandat")).set_input_files(fake)
    page.get_by_role("checkbox", name=re.compile("Je suis habilité·e à engager")).check()
    page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")).check()
    page.get_by_role("button", name="Signer la déclaration").click()

    # A renamed non-PDF is refused next to its field; the rest is kept.
    upload = page.get_by_label(re.compile("Délibération ou mandat"))
    expect(upload).to_have_accessible_description(re.compile("Ce fichier n'est pas un PDF"))
    assert page.get_by_role("textbox", name="Votre nom").input_value() == "Cabinet"
    real = tmp_path / "deliberation-conseil.pdf"
    _pdf(real)
    page.get_by_label(re.compile("Délibération ou mandat")).set_input_files(real)
    page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")).check()
    page.get_by_role("button", name="Signer la déclaration").click()
    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()

    signature = Signature.objects.get()
    # The file waits for a moderator: until accepted it proves nothing to the public.
    assert signature.verification == Signature.Verification.EMAIL
    assert signature.deliberation_review == Signature.DeliberationReview.PENDING
    assert wait_for(lambda: smtp_sink.messages)
    page.goto(confirmation_path(smtp_sink.messages[0]))
    page.get_by_role("button", name="Je confirme la signature de mon territoire").click()
    page.get_by_text("Votre signature est confirmée").wait_for()
    review_deliberation(
        signature_id=signature.pk, outcome=Signature.DeliberationReview.ACCEPTED, actor=None
    )
    refresh_stats(declaration_id=declaration.pk)
    page.goto(reverse("public:list", args=[declaration.slug]))
    listing = page.locator("main").inner_text()
    assert "Madame la Présidente, Élise Exécutive" in listing
    assert "délibération" in listing  # the verification badge
    for private in ("Paul", "Cabinet", "cabinet@relanceville.fr"):
        assert private not in listing
