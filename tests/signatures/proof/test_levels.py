"""Proof that the territory signed: who signs, with which function, from which domain."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfWriter

from public.filters import public_row
from signatures import services
from signatures.forms import SignatureForm
from signatures.models import Flag, Signature, function_fits
from signatures.proof import deliberations
from territories.models import TerritoryDomain
from tests.factories import SignatureFactory, TerritoryFactory, fake_siren, signature_form_data

pytestmark = pytest.mark.django_db


def _sign(client, declaration, **data):
    return client.post(
        reverse("signatures:sign", args=[declaration.slug]), signature_form_data(**data)
    )


ON_BEHALF = {
    "signer_role": "executive",
    "civility": "madame",
    "first_name": "Élise",
    "last_name": "Exécutive",
    "function": "president",
    "filler_first_name": "Paul",
    "filler_last_name": "Cabinet",
    "filler_function": "Directeur de cabinet",
    "email": "cabinet@testville.fr",
}


def test_on_behalf_the_public_sees_the_executive_and_never_the_filler(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert _sign(client, declaration, territory=territory.pk, **ON_BEHALF).status_code == 302
    signature = Signature.objects.get()
    assert signature.signs_on_behalf
    assert (signature.filler_last_name, signature.filler_function) == (
        "Cabinet",
        "Directeur de cabinet",
    )
    assert mailoutbox[0].body.startswith("Bonjour Paul Cabinet,")  # the emails greet the filler
    services.confirm_signature(signature_id=signature.pk)
    services.change_status(signature_id=signature.pk, action="approve")
    signature.refresh_from_db()
    assert signature.public_signatory == "Madame la Présidente, Élise Exécutive"
    html = client.get(reverse("public:list", args=[declaration.slug])).content.decode()
    api = client.get(f"/api/declarations/{declaration.slug}/signatures").content.decode()
    csv = client.get(reverse("public:csv", args=[declaration.slug])).getvalue().decode()
    assert "Madame la Présidente, Élise Exécutive" in html
    for output in (html, api, csv, str(public_row(signature))):
        assert "Élise Exécutive" in output or "Exécutive" in output
        for private in ("Paul", "Cabinet", "cabinet@testville.fr", "Directeur de cabinet"):
            assert private not in output


def test_on_behalf_the_filler_must_say_who_they_are(declaration, territory):
    data = {**ON_BEHALF, "filler_first_name": "", "filler_last_name": "", "filler_function": ""}
    form = SignatureForm(
        signature_form_data(territory=territory.pk, **data), declaration=declaration
    )
    assert not form.is_valid()
    assert set(form.errors) == {"filler_first_name", "filler_last_name", "filler_function"}


def test_the_signer_declares_being_authorised(declaration, territory):
    data = signature_form_data(territory=territory.pk)
    del data["declares_authorised"]
    form = SignatureForm(data, declaration=declaration)
    assert not form.is_valid()
    assert "Seule une personne habilitée" in str(form.errors["declares_authorised"])


@pytest.mark.parametrize(
    ("kind", "function"), [("metropole", "maire"), ("commune", "president"), ("cc", "maire")]
)
def test_a_function_that_does_not_fit_the_kind_asks_for_confirmation(
    client, declaration, kind, function, django_capture_on_commit_callbacks
):
    place = TerritoryFactory(kind=kind)
    response = _sign(client, declaration, territory=place.pk, function=function)
    html = response.content.decode()
    assert response.status_code == 400
    assert "est inhabituel pour un territoire de type" in html
    assert "Je confirme cette fonction pour ce territoire" in html
    with django_capture_on_commit_callbacks(execute=True):  # the flags' task
        confirmed = _sign(
            client, declaration, territory=place.pk, function=function, function_confirmed="on"
        )
    assert confirmed.status_code == 302
    assert Signature.objects.get().flags.filter(code=Flag.Code.FUNCTION_MISMATCH).exists()


def test_functions_read_in_the_civility_gender():
    assert SignatureFactory.build(civility="madame", function="maire").public_signatory.startswith(
        "Madame la Maire, "
    )
    assert SignatureFactory.build(civility="monsieur", function="president").function_label == (
        "Président"
    )
    assert SignatureFactory.build(civility="", function="president").function_label == (
        "Président·e"
    )


def test_a_known_domain_of_the_territory_gives_the_official_domain_level(declaration):
    territory = TerritoryFactory(kind="commune")
    TerritoryDomain.objects.create(territory=territory, domain="testville.fr", source="moderator")
    signature = SignatureFactory(
        declaration=declaration, territory=territory, email="maire@testville.fr", function="maire"
    )
    services.refresh_proof(signature)
    assert signature.verification == Signature.Verification.OFFICIAL_DOMAIN
    other = SignatureFactory(declaration=declaration, email="x@testville.fr", function="maire")
    services.refresh_proof(other)
    assert other.verification == Signature.Verification.EMAIL
    flag = other.flags.get(code=Flag.Code.OTHER_TERRITORY_DOMAIN)
    assert territory.name in flag.detail


def test_a_matching_proconnect_siret_is_the_strongest_level_and_teaches_the_domain(declaration):
    territory = TerritoryFactory(kind="metropole", siren=fake_siren(41))
    signature = SignatureFactory(
        declaration=declaration,
        territory=territory,
        email="dgs@metropole-exemple.fr",
        proconnect_siret=f"{territory.siren}00017",
    )
    services.refresh_proof(signature)
    assert signature.verification == Signature.Verification.PROCONNECT
    assert TerritoryDomain.objects.get(domain="metropole-exemple.fr").territory == territory
    later = SignatureFactory(
        declaration=declaration, territory=territory, email="elu@metropole-exemple.fr"
    )
    services.refresh_proof(later)
    assert later.verification == Signature.Verification.OFFICIAL_DOMAIN


def test_a_proconnect_siret_of_another_organisation_is_flagged_naming_both(declaration):
    territory = TerritoryFactory(kind="metropole", siren=fake_siren(42))
    signature = SignatureFactory(
        declaration=declaration, territory=territory, proconnect_siret=f"{fake_siren(43)}00011"
    )
    services.refresh_proof(signature)
    assert signature.verification == Signature.Verification.EMAIL
    detail = signature.flags.get(code=Flag.Code.PROCONNECT_MISMATCH).detail
    assert fake_siren(43) in detail
    assert territory.siren in detail
    assert not TerritoryDomain.objects.exists()


def test_function_fits_the_executive_of_each_kind():
    assert function_fits("maire", "commune")
    assert not function_fits("maire", "region")
    assert function_fits("president", "region")
    assert function_fits("autre", "commune")


def _pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_deliberation_attached_when_signing_waits_for_a_moderator(
    client, declaration, territory, settings, tmp_path
):
    settings.PRIVATE_ROOT = tmp_path
    upload = SimpleUploadedFile("deliberation-conseil.pdf", _pdf_bytes(), "application/pdf")
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        {**signature_form_data(territory=territory.pk), "deliberation": upload},
    )
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert signature.verification == Signature.Verification.EMAIL  # not looked at yet
    assert signature.deliberation_review == "pending"
    assert "deliberation-conseil" not in signature.deliberation.name  # a random name
    assert (tmp_path / signature.deliberation.name).read_bytes().startswith(b"%PDF-")


def test_a_renamed_non_pdf_is_refused_next_to_the_field(client, declaration, territory):
    upload = SimpleUploadedFile(
        "deliberation.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/pdf"
    )
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]),
        {**signature_form_data(territory=territory.pk), "deliberation": upload},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ce fichier n&#x27;est pas un PDF" in html or "Ce fichier n'est pas un PDF" in html
    assert 'value="Durand"' in html  # what was typed is kept
    assert not Signature.objects.exists()


def test_a_deliberation_joined_later_from_the_manage_page_can_be_made_public(
    client, moderator_client, declaration, settings, tmp_path
):
    settings.PRIVATE_ROOT = tmp_path
    signature = SignatureFactory(declaration=declaration, status="published")
    path = reverse("signatures:manage", args=[signature.make_manage_token()])
    upload = SimpleUploadedFile("mandat.pdf", _pdf_bytes(), "application/pdf")
    response = client.post(path, {"action": "deliberation", "deliberation": upload})
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.verification == Signature.Verification.EMAIL  # until a moderator accepts it
    public = reverse("public:deliberation", args=[signature.public_id])
    listing = reverse("public:list", args=[declaration.slug])
    assert public not in client.get(listing).content.decode()
    assert client.get(public).status_code == 404
    moderator_client.post(
        reverse("admin:signatures_signature_changelist"),
        {"action": "make_deliberation_public", "_selected_action": [signature.pk]},
    )
    assert "délibération jointe" in client.get(listing).content.decode()
    response = client.get(public)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def _attach(signature) -> Signature:
    upload = SimpleUploadedFile("deliberation.pdf", _pdf_bytes(), "application/pdf")
    deliberations.attach_deliberation(signature_id=signature.pk, uploaded_file=upload)
    signature.refresh_from_db()
    return signature


def _review(signature, outcome, actor, **refusal) -> Signature:
    deliberations.review_deliberation(
        signature_id=signature.pk, outcome=outcome, actor=actor, **refusal
    )
    signature.refresh_from_db()
    return signature


@pytest.fixture
def official(declaration, settings, tmp_path):
    """A published signature from one of its territory's official domains."""
    settings.PRIVATE_ROOT = tmp_path
    territory = TerritoryFactory(kind="commune", siren=fake_siren(51))
    TerritoryDomain.objects.create(territory=territory, domain="testville.fr", source="moderator")
    signature = SignatureFactory(
        declaration=declaration,
        territory=territory,
        email="maire@testville.fr",
        function="maire",
        status="published",
    )
    services.refresh_proof(signature)
    assert signature.verification == Signature.Verification.OFFICIAL_DOMAIN
    return signature


def test_an_uploaded_deliberation_counts_only_once_a_moderator_accepts_it(official, moderator):
    signature = _attach(official)
    assert signature.verification == Signature.Verification.OFFICIAL_DOMAIN
    assert signature.deliberation_review == "pending"
    signature = _review(signature, "accepted", moderator)
    assert signature.verification == Signature.Verification.DELIBERATION


def test_a_refused_deliberation_does_not_count(official, moderator):
    signature = _review(
        _attach(official),
        "refused",
        moderator,
        reason="other_territory",
    )
    assert signature.verification == Signature.Verification.OFFICIAL_DOMAIN
    signature = _review(signature, "accepted", moderator)
    assert signature.verification == Signature.Verification.DELIBERATION  # on second thoughts


def test_a_new_upload_waits_for_its_own_review(official, moderator):
    signature = _review(_attach(official), "accepted", moderator)
    assert signature.verification == Signature.Verification.DELIBERATION
    signature = _attach(signature)  # another file, which nobody has looked at
    assert signature.deliberation_review == "pending"
    assert signature.verification == Signature.Verification.OFFICIAL_DOMAIN


def test_proconnect_still_ranks_above_an_accepted_deliberation(moderator, official):
    official.proconnect_siret = f"{official.territory.siren}00017"
    official.save(update_fields=["proconnect_siret"])
    signature = _review(_attach(official), "accepted", moderator)
    assert signature.verification == Signature.Verification.PROCONNECT
