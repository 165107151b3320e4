"""The attestation of a published signature (signatures.proof.attestation) and the public
verification page its QR code leads to (public.verify)."""

import io
import re
from html import unescape

import pypdf
import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from signatures.models import Signature
from signatures.proof.attestation import attestation_pdf, winansi
from signatures.services import change_status
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

Status = Signature.Status
PRIVATE = {
    "email": "prive.verification@mairie-test.fr",
    "phone": "0561234567",
    "submitted_ip": "203.0.113.77",
    "user_agent": "NavigateurSecret/1.0",
    "filler_first_name": "Claudine",
    "filler_last_name": "Cachée",
}


@pytest.fixture
def attested(declaration, territory):
    """Camille Durand's published signature for Métropole de Testville (Haute-Garonne, 31),
    backed by a deliberation, with contact details the public must never see."""
    territory.departement = TerritoryFactory(kind="departement", code="31", name="Haute-Garonne")
    territory.save()
    return SignatureFactory(
        declaration=declaration,
        territory=territory,
        first_name="Camille",
        last_name="Durand",
        function=Signature.Function.OTHER,
        function_other="Présidente déléguée",
        status=Status.PUBLISHED,
        verification=Signature.Verification.DELIBERATION,
        signs_on_behalf=True,
        **PRIVATE,
    )


def _pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _qr_codes(pdf: bytes) -> list[str]:
    """What the QR codes on the first page say, read from the page drawn at 150 dpi."""
    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=150 / 72).to_pil()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def _text(response) -> str:
    """The page's text, tags dropped and whitespace folded."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _verify_path(signature) -> str:
    return reverse("public:verify", kwargs={"public_id": signature.public_id})


def _attestation_path(signature) -> str:
    return reverse("public:attestation", kwargs={"public_id": signature.public_id})


# The attestation


def test_attestation_is_a_one_page_pdf_with_the_public_record(attested, declaration):
    pdf = attestation_pdf(attested)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = _pdf_text(pdf)
    assert pdf.startswith(b"%PDF-")
    assert len(reader.pages) == 1
    assert reader.pages[0].mediabox.width == pytest.approx(595.27, abs=0.1)  # A4
    assert "Attestation de signature" in text
    assert f"« {declaration.title} »" in text
    assert "15 janvier 2024" in text
    assert "Métropole de Testville" in text
    assert "Métropole" in text
    assert attested.territory.siren in text
    assert "Haute-Garonne (31)" in text
    assert "Camille Durand" in text
    assert "Présidente déléguée" in text
    assert "délibération" in text
    assert attested.public_id in text
    assert "indique si la signature est toujours valable" in text
    assert reader.metadata.title == "Attestation de signature — Métropole de Testville"
    assert reader.metadata.author == "Alliance des territoires"
    assert reader.metadata.subject == f"Signature de la déclaration « {declaration.title} »"


def test_attestation_holds_no_private_data(attested):
    text = _pdf_text(attestation_pdf(attested))
    for value in PRIVATE.values():
        assert value not in text


def test_attestation_qr_code_leads_to_a_page_that_tells_published_from_withdrawn(client, attested):
    pdf = client.get(_attestation_path(attested)).content
    url = settings.SITE_URL + _verify_path(attested)
    assert _qr_codes(pdf) == [url]
    assert url in _pdf_text(pdf)  # printed under the code, for those who cannot scan it

    path = url.removeprefix(settings.SITE_URL)
    response = client.get(path)
    text = _text(response)
    assert response.status_code == 200
    assert "Cette signature est publiée : elle est valable." in text
    assert "Métropole de Testville (Métropole)" in text
    assert "Camille Durand, Présidente déléguée" in text
    assert "Haute-Garonne (31)" in text
    assert "délibération" in text
    assert attested.public_id in text

    change_status(signature_id=attested.pk, action="withdraw")
    attested.refresh_from_db()
    response = client.get(path)
    text = _text(response)
    assert response.status_code == 200
    assert "Cette signature a été retirée le" in text
    assert "elle n'est plus valable" in text
    assert "Camille Durand" not in text
    assert "Cette signature est publiée" not in text
    assert client.get(_attestation_path(attested)).status_code == 404


def test_attestation_download_is_a_pdf_attachment_named_after_the_territory(client, attested):
    response = client.get(_attestation_path(attested))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="attestation-metropole-de-testville-{attested.public_id}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")


def test_attestation_is_french_whatever_the_visitor_reads(attested):
    with translation.override("en"):
        text = _pdf_text(attestation_pdf(attested))
    assert "Attestation de signature" in text
    assert "Signée le" in text


def test_attestation_draws_french_typography_and_replaces_what_helvetica_lacks(attested):
    declaration = attested.declaration
    declaration.title = "Saisissons l’opportunité\u202f! Cœur · « relance » – Łódź"
    declaration.save()
    text = _pdf_text(attestation_pdf(attested))
    assert "l’opportunité" in text
    assert "Cœur · « relance » – Lódz" in text
    assert "■" not in text  # no glyph missing from the font


def test_winansi_keeps_french_and_finds_close_equivalents():
    french = "Élu·e à l’œuvre : « déjà » — Noël, 1\u00a0000\u00a0€…"
    assert winansi(french) == french
    assert winansi("a\u202f!") == "a\u00a0!"
    assert winansi("Wałęsa, Nguyễn") == "Walesa, Nguyen"
    assert winansi("東京") == "??"


def test_attestation_of_an_anonymised_signature_names_no_one(attested):
    attested.anonymised_at = attested.published_at
    attested.first_name = attested.last_name = ""
    attested.save()
    assert "Signataire anonymisé·e" in _pdf_text(attestation_pdf(attested))


# The verification page


def test_verify_page_shows_no_private_data(client, attested):
    published_page = client.get(_verify_path(attested)).content.decode()
    change_status(signature_id=attested.pk, action="withdraw")
    withdrawn_page = client.get(_verify_path(attested)).content.decode()
    for page in (published_page, withdrawn_page):
        for value in PRIVATE.values():
            assert value not in page


def test_verify_page_of_an_anonymised_signature(client, attested):
    attested.anonymised_at = attested.published_at
    attested.save()
    text = _text(client.get(_verify_path(attested)))
    assert "Signataire anonymisé·e, Présidente déléguée" in text
    assert "Camille" not in text


def test_verify_page_links_the_list_the_attestation_and_the_contest(client, attested):
    html = client.get(_verify_path(attested)).content.decode()
    list_url = reverse("public:list", kwargs={"slug": attested.declaration.slug})
    assert f'href="{list_url}?q=M%C3%A9tropole%20de%20Testville"' in html
    assert f'href="{_attestation_path(attested)}"' in html
    assert f'href="{reverse("signatures:contest", args=[attested.public_id])}"' in html
    assert '<meta name="robots" content="noindex">' in html


@pytest.mark.parametrize("status", [Status.SUSPECT, Status.PENDING, Status.CONFIRMED])
def test_no_verify_page_nor_attestation_before_publication(client, declaration, status):
    signature = SignatureFactory(declaration=declaration, status=status)
    response = client.get(_verify_path(signature))
    assert response.status_code == 404
    assert "Aucune signature publiée ne porte cette référence." in _text(response)
    assert client.get(_attestation_path(signature)).status_code == 404


def test_a_signature_refused_after_publication_says_it_no_longer_stands(client, attested):
    """Issue 24: the attestation promises its page says whether the signature stands."""
    change_status(signature_id=attested.pk, action="reject")
    response = client.get(_verify_path(attested))
    assert response.status_code == 200
    assert "Cette signature a été retirée le" in _text(response)
    assert "elle n'est plus valable" in _text(response)
    assert "Camille Durand" not in _text(response)
    assert client.get(_attestation_path(attested)).status_code == 404


def test_a_signature_refused_before_publication_has_no_page(client, declaration):
    signature = SignatureFactory(declaration=declaration, status=Status.CONFIRMED)
    change_status(signature_id=signature.pk, action="reject")
    response = client.get(_verify_path(signature))
    assert response.status_code == 404
    assert "Aucune signature publiée ne porte cette référence." in _text(response)


def test_a_signature_withdrawn_before_publication_has_no_page(client, declaration):
    signature = SignatureFactory(declaration=declaration, status=Status.CONFIRMED)
    change_status(signature_id=signature.pk, action="withdraw")
    assert client.get(_verify_path(signature)).status_code == 404


def test_unknown_reference_is_not_repeated_on_the_page(client, db):
    response = client.get(reverse("public:verify", args=["SIGNATURE-VALIDE"]))
    assert response.status_code == 404
    assert "SIGNATURE-VALIDE" not in _text(response)  # only in the language switch's "next"
    assert client.get(reverse("public:attestation", args=["SIGNATURE-VALIDE"])).status_code == 404
