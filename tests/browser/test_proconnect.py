"""Sign in with ProConnect in Chromium, against the local stand-in provider (npm's
oidc-provider on loopback): the browser goes to the provider, signs in there by typing an
account, and comes back to the site with the verified identity in its session."""

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import expect

from proconnect import session as proconnect
from signatures.models import Flag, Signature
from territories.models import TerritoryDomain
from tests.conftest import _service_missing, wait_for
from tests.factories import DeclarationFactory, TerritoryFactory, fake_siren
from tests.proconnect_provider import CLIENT_ID, CLIENT_SECRET, MARIE, StandIn, missing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def live_stand_in(live_server):
    reason = missing()
    if reason:
        _service_missing(reason)
    with StandIn([live_server.url + reverse("signatures:proconnect_callback")]) as provider:
        yield provider


@pytest.fixture
def live_proconnect_settings(live_stand_in, live_server, settings):
    # The redirect URI is built from SITE_URL: here, the live server's address.
    settings.SITE_URL = live_server.url
    settings.PROCONNECT_BASE_URL = live_stand_in.issuer
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    return settings


def test_person_signs_in_with_proconnect(
    page, live_server, live_proconnect_settings, live_stand_in
):
    page.goto(reverse("signatures:proconnect_login") + "?next=/")

    # At the provider: its sign-in page, found by its label and button.
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_stand_in.issuer)}/interaction/"))
    page.get_by_role("textbox", name="Identifiant").fill(MARIE)
    page.get_by_role("button", name="Se connecter").click()

    # Back on the site, at `next`, with the identity.
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("status")).to_contain_text(
        "Vous êtes identifié·e avec ProConnect : Marie Dupont (marie@mairie-toulouse.fr)."
    )
    (cookie,) = [c for c in page.context.cookies(live_server.url) if c["name"] == "sessionid"]
    identity = SessionStore(session_key=cookie["value"]).load()[proconnect.SESSION_KEY]
    assert identity["email"] == "marie@mairie-toulouse.fr"
    assert (identity["given_name"], identity["usual_name"]) == ("Marie", "Dupont")
    assert identity["siret"] == "21310555400012"


def _choose_territory(page, name: str) -> None:
    search = page.get_by_role("combobox", name="Rechercher votre territoire")
    search.fill(name[:8])
    page.get_by_role("option", name=re.compile(re.escape(name))).click()


def _sign_in_at_the_provider(page, login: str) -> None:
    page.get_by_role("link", name="S'identifier avec ProConnect").click()
    page.get_by_role("textbox", name="Identifiant").fill(login)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Oublier cette identité")).to_be_visible()


def _finish_signing(page) -> None:
    page.get_by_role("radio", name="Président·e", exact=True).check()
    page.get_by_role("checkbox", name=re.compile("Je suis habilité·e à engager")).check()
    page.get_by_role("checkbox", name=re.compile("J'accepte que soient publiés")).check()
    page.get_by_role("button", name="Signer la déclaration").click()


def test_official_whose_organisation_is_the_territory_signs_without_an_email(
    page, live_server, live_proconnect_settings, smtp_sink
):
    declaration = DeclarationFactory(slug="verifiee")
    territory = TerritoryFactory(
        kind="metropole", name="Métropole de Vérifville", siren=fake_siren(77)
    )
    page.goto(reverse("signatures:sign", args=[declaration.slug]))
    _sign_in_at_the_provider(page, f"dgs@verifville.fr|{territory.siren}|00017|Marie|Dupont")
    # The verified address is locked; the names come from ProConnect.
    email = page.get_by_role("textbox", name=re.compile("Adresse e-mail"))
    expect(email).to_be_disabled()
    expect(email).to_have_value("dgs@verifville.fr")
    _choose_territory(page, territory.name)
    _finish_signing(page)

    expect(
        page.get_by_text("ProConnect a vérifié que vous représentez ce territoire")
    ).to_be_visible()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.CONFIRMED
    assert signature.verification == Signature.Verification.PROCONNECT
    assert (signature.first_name, signature.last_name) == ("Marie", "Dupont")
    assert smtp_sink.messages == []  # no email round trip
    assert TerritoryDomain.objects.get(domain="verifville.fr").territory == territory


def test_official_of_another_organisation_goes_through_the_email_with_a_flag(
    page, live_server, live_proconnect_settings, smtp_sink
):
    declaration = DeclarationFactory(slug="non-verifiee")
    territory = TerritoryFactory(
        kind="metropole", name="Métropole de Doutville", siren=fake_siren(78)
    )
    page.goto(reverse("signatures:sign", args=[declaration.slug]))
    _sign_in_at_the_provider(page, f"agent@ailleurs.fr|{fake_siren(79)}|00011|Paul|Martin")
    _choose_territory(page, territory.name)
    _finish_signing(page)

    page.get_by_role("heading", name="Vérifiez votre messagerie").wait_for()
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING
    assert signature.verification == Signature.Verification.EMAIL
    flag = signature.flags.get(code=Flag.Code.PROCONNECT_MISMATCH)
    assert fake_siren(79) in flag.detail
    assert territory.siren in flag.detail
    assert wait_for(lambda: smtp_sink.messages), "the confirmation email never arrived"
    assert smtp_sink.messages[0]["To"] == "agent@ailleurs.fr"
