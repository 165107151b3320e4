"""Sign in with ProConnect in Chromium, against the local stand-in provider (npm's
oidc-provider on loopback): the browser goes to the provider, signs in there by typing an
account, and comes back to the site with the verified identity in its session."""

import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from playwright.sync_api import expect

from signatures import proconnect
from tests.conftest import _service_missing
from tests.proconnect_provider import CLIENT_ID, CLIENT_SECRET, MARIE, StandIn, missing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def stand_in(live_server):
    reason = missing()
    if reason:
        _service_missing(reason)
    with StandIn([live_server.url + reverse("signatures:proconnect_callback")]) as provider:
        yield provider


@pytest.fixture
def proconnect_settings(stand_in, live_server, settings):
    # The redirect URI is built from SITE_URL: here, the live server's address.
    settings.SITE_URL = live_server.url
    settings.PROCONNECT_BASE_URL = stand_in.issuer
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    return settings


def test_person_signs_in_with_proconnect(page, live_server, proconnect_settings, stand_in):
    page.goto(reverse("signatures:proconnect_login") + "?next=/")

    # At the provider: its sign-in page, found by its label and button.
    expect(page).to_have_url(re.compile(rf"^{re.escape(stand_in.issuer)}/interaction/"))
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
