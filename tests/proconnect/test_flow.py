"""Sign in with ProConnect against a real OpenID provider: the local stand-in (npm's
oidc-provider, tests/proconnect/provider.mjs) on loopback, played with plain HTTP at the
provider's pages and with Django's test client on our side. No mock of the protocol."""

import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from proconnect import session as proconnect
from tests.conftest import _service_missing
from tests.proconnect_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    JSON_CLIENT_ID,
    MARIE,
    StandIn,
    missing,
)
from tests.smtp_sink import free_port

pytestmark = pytest.mark.django_db

NEXT = "/declarations/alliance-test/signer/"


@pytest.fixture(scope="module")
def stand_in():
    reason = missing()
    if reason:
        _service_missing(reason)
    callback = django_settings.SITE_URL + reverse("signatures:proconnect_callback")
    with StandIn([callback]) as provider:
        yield provider


@pytest.fixture
def proconnect_settings(stand_in, settings):
    """Our settings pointing at the stand-in, with the client whose userinfo is a JWT."""
    settings.PROCONNECT_BASE_URL = stand_in.issuer
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    return settings


def _login(client, next_path: str = NEXT) -> str:
    """Press the button: the address of the provider's authorization endpoint."""
    response = client.get(reverse("signatures:proconnect_login"), {"next": next_path})
    assert response.status_code == 302
    return response["Location"]


def _back(client, url: str, settings=django_settings):
    """Take the provider's redirect to our callback, as the browser would."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        settings.SITE_URL + reverse("signatures:proconnect_callback")
    )
    return client.get(f"{parts.path}?{parts.query}")


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def _with_param(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**query, **changes})).geturl()


def test_login_redirects_to_the_provider_with_state_nonce_and_pkce(client, proconnect_settings):
    url = _login(client)

    parts = urlsplit(url)
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == f"{proconnect_settings.PROCONNECT_BASE_URL}/auth"
    )
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://127.0.0.1:8000/proconnect/callback/"
    assert query["scope"] == "openid email given_name usual_name siret"
    # ProConnect wants at least 32 characters of each.
    assert len(query["state"]) >= 32
    assert len(query["nonce"]) >= 32
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256
    assert "client_secret" not in url


def test_sign_in_keeps_the_verified_identity_in_the_session(client, proconnect_settings, stand_in):
    url = _login(client)
    key_before = client.session.session_key

    response = _back(client, stand_in.sign_in(url, MARIE))

    assert response.status_code == 302
    assert response["Location"] == NEXT
    session = client.session
    found = session[proconnect.SESSION_KEY]
    assert set(found) == {"email", "given_name", "usual_name", "siret", "verified_at"}
    assert found["email"] == "marie@mairie-toulouse.fr"
    assert found["given_name"] == "Marie"
    assert found["usual_name"] == "Dupont"
    assert found["siret"] == "21310555400012"
    verified_at = datetime.datetime.fromisoformat(found["verified_at"])
    assert timezone.now() - verified_at < datetime.timedelta(minutes=1)
    # A new session key once identified; the flow's temporary data is gone.
    assert session.session_key != key_before
    assert not [key for key in list(session.keys()) if key.startswith("_state_proconnect")]
    assert proconnect.NEXT_SESSION_KEY not in session
    assert _messages(response) == [
        "Vous êtes identifié·e avec ProConnect : Marie Dupont (marie@mairie-toulouse.fr)."
    ]


def test_sign_in_reads_a_plain_json_userinfo(client, proconnect_settings, stand_in):
    proconnect_settings.PROCONNECT_CLIENT_ID = JSON_CLIENT_ID
    url = _login(client)

    login = "jean-pierre.martin@cc-exemple.fr|200012345|00017|Jean-Pierre|Martin-Durand"
    response = _back(client, stand_in.sign_in(url, login))

    assert response["Location"] == NEXT
    found = client.session[proconnect.SESSION_KEY]
    assert (found["email"], found["given_name"], found["usual_name"], found["siret"]) == (
        "jean-pierre.martin@cc-exemple.fr",
        "Jean-Pierre",
        "Martin-Durand",
        "20001234500017",
    )


def test_identity_helper_returns_the_session_identity(client, proconnect_settings, stand_in):
    _back(client, stand_in.sign_in(_login(client)))

    request = RequestFactory().get("/")
    request.session = client.session
    assert proconnect.identity(request)["siret"] == "21310555400012"


def test_identity_is_forgotten_after_an_hour(client, proconnect_settings, stand_in):
    _back(client, stand_in.sign_in(_login(client)))
    session = client.session
    session[proconnect.SESSION_KEY]["verified_at"] = (
        timezone.now() - datetime.timedelta(hours=1, minutes=1)
    ).isoformat()
    session.save()

    request = RequestFactory().get("/")
    request.session = client.session
    assert proconnect.identity(request) is None


def test_identity_is_none_without_sign_in(client):
    request = RequestFactory().get("/")
    request.session = client.session
    assert proconnect.identity(request) is None


def test_tampered_state_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))

    response = _back(client, _with_param(back, state="x" * 43))

    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response) == [
        "La connexion avec ProConnect a expiré ou n'a pas été demandée depuis ce navigateur. "
        "Veuillez réessayer."
    ]


def test_callback_from_another_browser_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))

    other = Client()
    response = _back(other, back)

    assert response["Location"] == "/"
    assert proconnect.SESSION_KEY not in other.session
    assert "expiré" in _messages(response)[0]


def test_callback_replayed_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))
    _back(client, back)
    client.post(reverse("signatures:proconnect_logout"))

    response = _back(client, back)

    assert proconnect.SESSION_KEY not in client.session
    assert "expiré" in _messages(response)[-1]


def test_cancelling_at_the_provider_is_access_denied(client, proconnect_settings, stand_in):
    back = stand_in.cancel(_login(client))
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]

    response = _back(client, back)

    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response) == ["Vous avez annulé la connexion avec ProConnect."]


def test_id_token_with_another_nonce_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))
    # The nonce this browser's session expects is no longer the one the ID token carries.
    session = client.session
    (state_key,) = [key for key in list(session.keys()) if key.startswith("_state_proconnect_")]
    session[state_key]["data"]["nonce"] = "n" * 43
    session.save()

    response = _back(client, back)

    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response) == [
        "ProConnect n'a pas pu confirmer votre identité. Veuillez réessayer."
    ]


def test_code_issued_to_another_client_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))
    # The code and its ID token are for alliance-dev; we now claim to be another client.
    proconnect_settings.PROCONNECT_CLIENT_ID = JSON_CLIENT_ID

    response = _back(client, back)

    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response) == [
        "ProConnect n'a pas pu confirmer votre identité. Veuillez réessayer."
    ]


def test_answer_from_another_issuer_is_refused(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))
    assert parse_qs(urlsplit(back).query)["iss"] == [stand_in.issuer]

    response = _back(client, _with_param(back, iss="https://attacker.example"))

    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response) == [
        "ProConnect n'a pas pu confirmer votre identité. Veuillez réessayer."
    ]


def test_provider_down_at_login_gives_a_message(client, settings):
    settings.PROCONNECT_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET

    response = client.get(reverse("signatures:proconnect_login"), {"next": NEXT})

    assert response.status_code == 302
    assert response["Location"] == NEXT
    assert _messages(response) == [
        "ProConnect ne répond pas pour le moment. Veuillez réessayer dans quelques minutes."
    ]


def test_provider_down_at_callback_gives_a_message(client, proconnect_settings, stand_in):
    back = stand_in.sign_in(_login(client))
    proconnect_settings.PROCONNECT_BASE_URL = f"http://127.0.0.1:{free_port()}"

    response = _back(client, back)

    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert "ne répond pas" in _messages(response)[0]


@pytest.mark.parametrize(
    "name", ["PROCONNECT_BASE_URL", "PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET"]
)
def test_not_configured_when_a_setting_is_empty(settings, name):
    settings.PROCONNECT_BASE_URL = "http://127.0.0.1:9090"
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    assert proconnect.is_configured()

    setattr(settings, name, "")

    assert not proconnect.is_configured()


def test_login_when_not_configured_says_so(client, settings):
    settings.PROCONNECT_BASE_URL = ""

    response = client.get(reverse("signatures:proconnect_login"), {"next": NEXT})

    assert response["Location"] == NEXT
    assert _messages(response) == ["La connexion avec ProConnect n'est pas disponible."]


@pytest.mark.parametrize(
    "next_path",
    ["https://attacker.example/", "//attacker.example/x", "/\\attacker.example", "javascript:x"],
)
def test_next_must_be_a_path_on_this_site(client, settings, next_path):
    settings.PROCONNECT_BASE_URL = ""

    response = client.get(reverse("signatures:proconnect_login"), {"next": next_path})

    assert response["Location"] == "/"


def test_logout_forgets_the_identity_here(client, proconnect_settings, stand_in):
    _back(client, stand_in.sign_in(_login(client)))
    assert proconnect.SESSION_KEY in client.session

    response = client.post(reverse("signatures:proconnect_logout"), {"next": NEXT})

    assert response["Location"] == NEXT
    assert proconnect.SESSION_KEY not in client.session
    assert _messages(response)[-1] == "Ce site a oublié votre identité ProConnect."


def test_logout_only_by_post(client):
    assert client.get(reverse("signatures:proconnect_logout")).status_code == 405


def _button(**context) -> str:
    request = RequestFactory().get(NEXT)
    return render_to_string("signatures/proconnect/button.html", context, request=request)


def test_button_shows_only_when_configured():
    assert "S'identifier avec ProConnect" not in _button(
        proconnect_configured=False, proconnect_identity=None
    )
    html = _button(proconnect_configured=True, proconnect_identity=None)
    assert "S&#x27;identifier avec ProConnect" in html or "S'identifier avec ProConnect" in html
    assert "/proconnect/login/?next=/declarations/alliance-test/signer/" in html


def test_button_shows_the_identity_once_identified():
    identity = {
        "email": "marie@mairie-toulouse.fr",
        "given_name": "Marie",
        "usual_name": "Dupont",
        "siret": "21310555400012",
        "verified_at": timezone.now().isoformat(),
    }
    html = _button(proconnect_configured=True, proconnect_identity=identity)
    assert "Marie Dupont (marie@mairie-toulouse.fr)" in html
    assert "21310555400012" in html
    assert 'action="/proconnect/logout/"' in html
    assert "/proconnect/login/" not in html
