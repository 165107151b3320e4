"""Signing, confirming by the emailed link, asking for a new link."""

import datetime
import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from declarations.models import Declaration
from signatures.models import Signature
from tests.factories import (
    DeclarationFactory,
    SignatureFactory,
    TerritoryFactory,
    fake_siren,
    signature_form_data,
    unlisted_territory_data,
)

pytestmark = pytest.mark.django_db


def _sign(client, declaration, **data):
    """Post the signing form, as filled in by tests.factories.signature_form_data."""
    return client.post(
        reverse("signatures:sign", args=[declaration.slug]), signature_form_data(**data)
    )


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def _confirm_url(message) -> str:
    return re.search(r"https?://\S+/signatures/confirmer/\S+/", message.body).group(0)


def test_sign_page_shows_the_form_with_the_territory_search(client, declaration):
    response = client.get(reverse("signatures:sign", args=[declaration.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="territory-picker"' in html
    assert 'hx-get="/territoires/recherche/"' in html
    assert "Mon territoire n'est pas dans la liste (PETR" in html
    assert "Mon adresse e-mail et mon téléphone ne sont jamais publiés." in html
    assert 'class="hp-field"' in html


def test_sign_saves_a_pending_signature_and_sends_the_confirmation_email(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _sign(client, declaration, territory=territory.pk, comment="Pour la relance")
    assert response.status_code == 302
    assert response["Location"] == reverse("signatures:check_inbox", args=[declaration.slug])
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.territory == territory
    assert signature.comment == "Pour la relance"
    assert signature.submitted_ip == "127.0.0.1"
    assert signature.confirmation_send_count == 1
    assert signature.confirmation_sent_at >= signature.confirmation_queued_at
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["camille.durand@mairie-test.fr"]
    assert (
        message.subject
        == "Confirmez la signature de votre territoire — Métropole de Testville (métropole)"
    )
    assert "Bonjour Camille Durand" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert _confirm_url(message) in html
    inbox = client.get(response["Location"]).content.decode()
    assert "camille.durand@mairie-test.fr" in inbox


def test_sign_with_errors_keeps_what_was_typed_and_says_what_is_wrong(client, declaration):
    response = _sign(
        client,
        declaration,
        **unlisted_territory_data(name="PETR du Pays de Test", siren="123456789"),
        comment="Mon commentaire",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Ce numéro SIREN n&#x27;est pas valide" in html
    assert 'value="PETR du Pays de Test"' in html
    assert 'value="123456789"' in html
    assert "Mon commentaire</textarea>" in html
    assert 'value="camille.durand@mairie-test.fr"' in html
    assert '<details class="mt-3" id="unlisted-territory" open>' in html
    # The summary links each error to its field.
    assert 'href="#id_unlisted_siren"' in html
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("value", ["²", "١٢", "abc", "-1", "9" * 40, "1.5"])
@pytest.mark.parametrize("action", ["", "search"])
def test_sign_never_crashes_on_malformed_territory_values(client, declaration, value, action):
    response = _sign(client, declaration, territory=value, action=action, territory_query="x")
    assert response.status_code in (200, 400)
    assert Signature.objects.count() == 0


def test_sign_search_button_lists_territories_without_javascript(client, declaration, territory):
    response = _sign(
        client, declaration, action="search", territory_query="testville", comment="Gardé"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'type="radio" name="territory" id="territory-{territory.pk}"' in html
    assert "Métropole de Testville — Métropole" in html
    assert "Gardé</textarea>" in html
    assert "is-invalid" not in html  # searching is not submitting: no error yet
    assert Signature.objects.count() == 0


def test_sign_search_button_does_not_use_up_the_rate_limit(client, declaration, territory):
    for _ in range(25):
        _sign(client, declaration, action="search", territory_query="test")
    assert _sign(client, declaration, territory=territory.pk).status_code == 302


def test_sign_with_errors_keeps_the_chosen_territory_checked(client, declaration, territory):
    response = _sign(
        client, declaration, territory=territory.pk, territory_query="testville", email="x"
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert f'value="{territory.pk}" data-name="Métropole de Testville" checked' in html


def test_sign_twice_with_the_same_form_does_not_duplicate(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, declaration, territory=territory.pk)
        _sign(client, declaration, territory=territory.pk, email="Camille.Durand@mairie-test.fr")
    assert Signature.objects.count() == 1
    assert len(mailoutbox) == 1  # the second submit came within the resend cool-down


def test_sign_refuses_a_signed_territory_next_to_the_field(client, declaration, territory):
    SignatureFactory(declaration=declaration, territory=territory, status="published")
    response = _sign(client, declaration, territory=territory.pk)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="territory-errors"' in html
    assert "Métropole de Testville a déjà signé la déclaration le" in html
    assert Signature.objects.count() == 1


def test_sign_page_of_a_closed_declaration_shows_no_form(client):
    declaration = DeclarationFactory(is_open=False)
    response = client.get(reverse("signatures:sign", args=[declaration.slug]))
    assert "Les signatures sont closes" in response.content.decode()
    assert '<form method="post" action' not in response.content.decode()
    assert _sign(client, declaration, territory=1).status_code == 403


def test_sign_creates_an_unlisted_territory_once_by_siren(
    client, declaration, django_capture_on_commit_callbacks
):
    departement = TerritoryFactory(kind="departement", code="X12", name="Aveyron test")
    siren = fake_siren(3)
    data = unlisted_territory_data(name="PETR du Pays Test", siren=siren, departement=departement)
    with django_capture_on_commit_callbacks(execute=True):
        assert _sign(client, declaration, **data).status_code == 302
        assert _sign(client, declaration, email="autre@pays-test.fr", **data).status_code == 302
    signatures = Signature.objects.select_related("territory")
    assert signatures.count() == 2
    assert {s.territory.siren for s in signatures} == {siren}
    territory = signatures[0].territory
    assert (territory.kind, territory.is_referential) == ("petr", False)


def test_confirm_link_shows_a_button_and_only_post_confirms(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, declaration, territory=territory.pk)
    url = _confirm_url(mailoutbox[0])
    page = client.get(url)
    assert "Je confirme la signature de mon territoire" in page.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING  # a scanner's GET
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("signatures:confirmed")
    assert "Merci ! Votre signature est confirmée." in response.content.decode()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.confirmed_at is not None
    assert signature.published_at is None


def test_confirm_publishes_at_once_under_post_moderation(
    client, territory, django_capture_on_commit_callbacks
):
    declaration = DeclarationFactory(moderation=Declaration.Moderation.POST)
    signature = SignatureFactory(declaration=declaration, territory=territory)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signatures:confirm", args=[signature.make_confirmation_token()]))
    signature.refresh_from_db()
    declaration.refresh_from_db()
    assert signature.status == Signature.Status.PUBLISHED
    assert signature.published_at is not None
    assert declaration.signature_count == 1


def test_confirm_still_works_after_the_declaration_closed(client, declaration):
    signature = SignatureFactory(declaration=declaration)
    declaration.is_open = False
    declaration.save()
    client.post(reverse("signatures:confirm", args=[signature.make_confirmation_token()]))
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_confirm_with_a_used_link_says_already_used(client, declaration, territory):
    signature = SignatureFactory(declaration=declaration, territory=territory)
    url = reverse("signatures:confirm", args=[signature.make_confirmation_token()])
    client.post(url)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 410
        assert "Ce lien a déjà servi" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.CONFIRMED


def test_confirm_with_an_expired_link_offers_to_resend(client, declaration, territory):
    signature = SignatureFactory(declaration=declaration, territory=territory)
    with freeze_time(datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=8)):
        token = signature.make_confirmation_token()
    response = client.post(reverse("signatures:confirm", args=[token]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Ce lien a expiré" in html
    assert reverse("signatures:resend") in html
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_confirm_with_a_forged_link_is_refused(client, declaration, territory):
    signature = SignatureFactory(declaration=declaration, territory=territory)
    forged = signing.dumps({"s": signature.pk}, salt="another.salt", compress=True)
    for token in (forged, "nimportequoi", signature.make_confirmation_token()[:-2] + "xx"):
        response = client.post(reverse("signatures:confirm", args=[token]))
        assert response.status_code == 400
        assert "Ce lien n'est pas valide" in response.content.decode()
    assert Signature.objects.get().status == Signature.Status.PENDING


def test_confirm_refuses_a_territory_signed_meanwhile(client, declaration, territory):
    SignatureFactory(declaration=declaration, territory=territory, status="confirmed")
    late = SignatureFactory(declaration=declaration, territory=territory)
    response = client.post(reverse("signatures:confirm", args=[late.make_confirmation_token()]))
    assert response.status_code == 409
    assert "Ce territoire a déjà signé" in response.content.decode()
    late.refresh_from_db()
    assert late.status == Signature.Status.PENDING


def test_resend_answers_the_same_for_known_and_unknown_addresses(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    SignatureFactory(declaration=declaration, territory=territory, email="connu@testville.fr")
    url = reverse("signatures:resend")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "CONNU@testville.fr"}, follow=True)
        unknown = client.post(url, {"email": "inconnu@testville.fr"}, follow=True)
    assert _without_csrf(known.content) == _without_csrf(unknown.content)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["connu@testville.fr"]


def test_resend_rejects_a_malformed_address(client):
    response = client.post(reverse("signatures:resend"), {"email": "nope"})
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide." in response.content.decode()


def test_resend_after_the_cooldown_sends_a_new_link(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _sign(client, declaration, territory=territory.pk)
    later = freeze_time(timezone.now() + datetime.timedelta(minutes=3))
    with later, django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("signatures:resend"), {"email": "camille.durand@mairie-test.fr"})
    assert len(mailoutbox) == 2
    assert Signature.objects.get().confirmation_send_count == 2


def test_sign_for_a_signed_territory_says_who_signed_and_offers_the_ways_out(
    client, declaration, territory
):
    SignatureFactory(
        declaration=declaration,
        territory=territory,
        status="published",
        civility="madame",
        function="president",
        first_name="Claire",
        last_name="Première",
    )
    html = _sign(client, declaration, territory=territory.pk).content.decode()
    assert "par Madame la Présidente, Claire Première" in html
    assert reverse("public:contact") in html  # write to the team
    assert "/signatures/contester/" in html  # the contest path


def test_check_inbox_shows_the_address_and_is_kept_out_of_caches(client, declaration, territory):
    """The page names the signatory's address: no shared or browser cache may keep it."""
    response = client.get(_sign(client, declaration, territory=territory.pk)["Location"])
    assert response.status_code == 200
    assert "camille.durand@mairie-test.fr" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_contest_past_its_rate_is_refused_and_records_nothing(client, declaration, territory):
    live = SignatureFactory(declaration=declaration, territory=territory, status="published")
    url = reverse("signatures:contest", args=[live.public_id])
    for _ in range(5):  # CONTEST_RATE: invalid attempts count too
        assert client.post(url, {"first_name": "Sacha"}).status_code == 400
    response = client.post(
        url,
        {
            "first_name": "Sacha",
            "last_name": "Maire",
            "function": "Maire",
            "email": "maire@testville.fr",
        },
    )
    assert response.status_code == 429
    assert "Trop de demandes depuis votre connexion." in response.content.decode()
    assert not live.contests.exists()


def test_resend_past_its_rate_is_refused_and_sends_nothing(
    client, declaration, territory, mailoutbox, django_capture_on_commit_callbacks
):
    SignatureFactory(declaration=declaration, territory=territory, email="connu@testville.fr")
    url = reverse("signatures:resend")
    for _ in range(10):  # RESEND_RATE
        assert client.post(url, {"email": "nope"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"email": "connu@testville.fr"})
    assert response.status_code == 429
    assert "Trop de demandes depuis votre connexion." in response.content.decode()
    assert mailoutbox == []
