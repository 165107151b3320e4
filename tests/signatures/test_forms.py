"""The signing form: what it accepts, what it refuses and how it says so."""

import pytest
from django.urls import reverse

from declarations.models import Network
from signatures.forms import SignatureForm
from signatures.models import Signature
from tests.factories import (
    SignatureFactory,
    TerritoryFactory,
    signature_form_data,
    unlisted_territory_data,
)

pytestmark = pytest.mark.django_db


def _form(declaration, **overrides):
    return SignatureForm(signature_form_data(**overrides), declaration=declaration)


def test_form_accepts_a_listed_territory(declaration, territory):
    form = _form(declaration, territory=territory.pk)
    assert form.is_valid(), form.errors
    assert form.resolved_territory() == territory
    assert form.signatory().email == "camille.durand@mairie-test.fr"


def test_territory_is_required_unless_not_listed(declaration):
    form = _form(declaration)
    assert not form.is_valid()
    assert "Choisissez votre territoire dans la liste" in form.errors["territory"][0]


def test_unknown_territory_is_refused(declaration):
    form = _form(declaration, territory=999999)
    assert not form.is_valid()
    assert form.errors["territory"] == ["Ce territoire n'existe pas dans le référentiel."]


def test_not_listed_requires_kind_name_siren_and_departement(declaration):
    form = _form(declaration, not_listed="on")
    assert not form.is_valid()
    assert form.errors["unlisted_kind"] == ["Choisissez le type de territoire."]
    assert form.errors["unlisted_name"] == ["Indiquez le nom du territoire."]
    assert form.errors["unlisted_siren"] == ["Indiquez le SIREN du territoire."]
    assert form.errors["unlisted_departement"] == ["Choisissez le département."]


@pytest.mark.parametrize(
    ("siren", "message"),
    [
        ("12345678", "Le SIREN compte exactement 9 chiffres."),
        ("12345678A", "Le SIREN compte exactement 9 chiffres."),
        ("243100519", "Ce numéro SIREN n'est pas valide : vérifiez les chiffres saisis."),
    ],
)
def test_unlisted_siren_must_be_nine_digits_with_a_valid_key(declaration, siren, message):
    form = _form(declaration, not_listed="on", unlisted_siren=siren)
    assert not form.is_valid()
    assert form.errors["unlisted_siren"] == [message]


def test_unlisted_siren_accepts_spaces(declaration):
    departement = TerritoryFactory(kind="departement", code="X31", name="Département test")
    form = _form(
        declaration,
        **unlisted_territory_data(
            name="PETR du Pays Test", siren="243 100 518", departement=departement
        ),
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["unlisted_siren"] == "243100518"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "pas-une-adresse", "Saisissez une adresse e-mail valide, par exemple"),
        ("first_name", "x" * 101, "Assurez-vous que cette valeur comporte au plus 100 caractères"),
        ("last_name", "1234", "Indiquez un nom en lettres."),
        ("comment", "x" * 501, "Assurez-vous que cette valeur comporte au plus 500 caractères"),
        ("phone", "appelez-moi", "Numéro de téléphone invalide."),
        ("function", "empereur", "Sélectionnez un choix valide."),
    ],
)
def test_field_errors_are_in_french(declaration, territory, field, value, message):
    form = _form(declaration, territory=territory.pk, **{field: value})
    assert not form.is_valid()
    assert message in form.errors[field][0]


def test_publication_consent_is_required(declaration, territory):
    data = signature_form_data(territory=territory.pk)
    del data["consents_to_publication"]
    form = SignatureForm(data, declaration=declaration)
    assert not form.is_valid()
    assert form.errors["consents_to_publication"] == [
        "La signature est publique : votre accord est nécessaire."
    ]


def test_other_function_needs_its_wording(declaration, territory):
    form = _form(declaration, territory=territory.pk, function="autre")
    assert not form.is_valid()
    assert form.errors["function_other"] == ["Précisez votre fonction."]
    form = _form(declaration, territory=territory.pk, function="autre", function_other="Déléguée")
    assert form.is_valid()
    assert form.signatory().function_other == "Déléguée"


def test_email_domain_is_lowercased(declaration, territory):
    form = _form(declaration, territory=territory.pk, email="Camille@CC-Test.FR")
    assert form.is_valid()
    assert form.cleaned_data["email"] == "Camille@cc-test.fr"


def _refusal(client, declaration, **data) -> str:
    """What the signing page says, next to the territory, when the service refuses."""
    response = client.post(
        reverse("signatures:sign", args=[declaration.slug]), signature_form_data(**data)
    )
    assert response.status_code == 400
    return response.content.decode()


def test_signed_territory_is_refused_with_its_public_signatory_but_no_address(
    client, declaration, territory
):
    """The public name is already on the list; the email address never shows."""
    SignatureFactory(
        declaration=declaration,
        territory=territory,
        status=Signature.Status.PUBLISHED,
        email="secret.maire@cc-test.fr",
        last_name="Publicnom",
    )
    message = _refusal(client, declaration, territory=territory.pk)
    assert "a déjà signé la déclaration le" in message
    assert "par Dominique Publicnom, Président·e" in message
    assert f"/declarations/{declaration.slug}/signataires/?q=" in message
    assert "secret.maire" not in message


def test_confirmed_but_unpublished_signature_holds_the_territory_without_naming_anyone(
    client, declaration, territory
):
    SignatureFactory(
        declaration=declaration, territory=territory, status="confirmed", last_name="Secretnom"
    )
    message = _refusal(client, declaration, territory=territory.pk)
    assert "en cours de vérification" in message
    assert "Secretnom" not in message  # not public yet


def test_pending_signature_does_not_block_the_territory(declaration, territory):
    SignatureFactory(declaration=declaration, territory=territory, status="pending")
    assert _form(declaration, territory=territory.pk).is_valid()


def test_unlisted_siren_of_a_signed_territory_is_refused(client, declaration, territory):
    SignatureFactory(declaration=declaration, territory=territory, status="published")
    departement = TerritoryFactory(kind="departement", code="X74", name="Département test")
    html = _refusal(
        client,
        declaration,
        **unlisted_territory_data(
            kind="autre", name="Autre nom", siren=territory.siren, departement=departement
        ),
    )
    # The message sits under the SIREN field, the one that named the territory.
    siren_field = html[html.index('id="id_unlisted_siren"') :]
    assert "a déjà signé" in siren_field[: siren_field.index("</div>") + 2000]


def test_chosen_networks_are_kept(declaration, territory):
    network = Network.objects.get(slug="france-urbaine")
    form = _form(declaration, territory=territory.pk, networks=[network.pk])
    assert form.is_valid()
    assert list(form.cleaned_data["networks"]) == [network]


def test_a_siren_left_in_the_panel_beside_a_listed_territory_is_asked_about(
    declaration, territory
):
    """Filling the "not listed" panel is a choice: beside a listed territory, the form asks
    which one is meant instead of silently dropping what was typed."""
    form = _form(declaration, territory=territory.pk, unlisted_siren="123")
    assert not form.is_valid()
    assert form.errors["territory"] == [
        "Vous avez choisi un territoire dans la liste et rempli aussi « Mon territoire n'est "
        "pas dans la liste ». Gardez l'un des deux : videz les champs de ce cadre, ou effacez "
        "le territoire choisi."
    ]
