"""The ProConnect authorization code flow, behind the views of `proconnect` (see its docstring)."""

import functools
import logging
import re
import secrets

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth, OAuthError
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from .session import NEXT_SESSION_KEY, SESSION_KEY, is_configured, safe_next

logger = logging.getLogger(__name__)

# ProConnect refuses a state or nonce shorter than 32 characters; 32 bytes give 43.
RANDOM_BYTES = 32
HTTP_TIMEOUT_SECONDS = 10
REQUIRED_CLAIMS = ("email", "given_name", "usual_name", "siret")
SIRET = re.compile(r"\d{14}")


class IdentityRefused(Exception):
    """The provider's answer cannot be trusted or used; `message` is shown to the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request.GET.get("next"))
    if not is_configured():
        messages.error(request, _("La connexion avec ProConnect n'est pas disponible."))
        return redirect(next_url)
    client = _client()
    try:
        _check_issuer(client)
        response = client.authorize_redirect(
            request,
            settings.SITE_URL + reverse("signatures:proconnect_callback"),
            state=secrets.token_urlsafe(RANDOM_BYTES),
            nonce=secrets.token_urlsafe(RANDOM_BYTES),
        )
    # RuntimeError: Authlib's word for a discovery document without an endpoint it needs.
    except (requests.RequestException, ValueError, RuntimeError, IdentityRefused) as exc:
        logger.warning("ProConnect unavailable at login: %r", exc)
        messages.error(request, _provider_down_message())
        return redirect(next_url)
    request.session[NEXT_SESSION_KEY] = next_url
    return response


def callback(request: HttpRequest) -> HttpResponse:
    next_url = request.session.pop(NEXT_SESSION_KEY, "/")
    if not is_configured():
        messages.error(request, _("La connexion avec ProConnect n'est pas disponible."))
        return redirect(next_url)
    try:
        verified = _verified_identity(request, _client())
    except IdentityRefused as exc:
        messages.error(request, exc.message)
        return redirect(next_url)
    # A new session key once the person is identified, against session fixation.
    request.session.cycle_key()
    request.session[SESSION_KEY] = verified
    name = f"{verified['given_name']} {verified['usual_name']}"
    messages.success(
        request,
        _("Vous êtes identifié·e avec ProConnect : %(name)s (%(email)s).")
        % {"name": name, "email": verified["email"]},
    )
    return redirect(next_url)


def _client():
    return _client_for(
        settings.PROCONNECT_BASE_URL.rstrip("/"),
        settings.PROCONNECT_CLIENT_ID,
        settings.PROCONNECT_CLIENT_SECRET,
        settings.PROCONNECT_SCOPES,
    )


@functools.lru_cache(maxsize=4)
def _client_for(base_url: str, client_id: str, client_secret: str, scopes: str):
    """One Authlib client per configuration, so the discovery document and the JWKS are
    fetched once per process (the JWKS again when a token names an unknown key)."""
    return OAuth().register(
        name="proconnect",
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=f"{base_url}/.well-known/openid-configuration",
        client_kwargs={
            "scope": scopes,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def _check_issuer(client) -> dict:
    """The discovery document, if it names the issuer we were given (OpenID Discovery §4.3)."""
    metadata = client.load_server_metadata()
    if metadata.get("issuer") != settings.PROCONNECT_BASE_URL.rstrip("/"):
        raise IdentityRefused(_provider_down_message())
    return metadata


def _verified_identity(request: HttpRequest, client) -> dict:
    if request.GET.get("error"):
        logger.info("ProConnect answered %s", request.GET["error"][:100])
        if request.GET["error"] == "access_denied":
            raise IdentityRefused(_("Vous avez annulé la connexion avec ProConnect."))
        raise IdentityRefused(_not_verified_message())
    try:
        metadata = _check_issuer(client)
        # RFC 9207: the issuer of the answer, when given, is ours (against mix-up attacks).
        if "iss" in request.GET and request.GET["iss"] != metadata["issuer"]:
            raise IdentityRefused(_not_verified_message())
        # Checks the state against the session, exchanges the code with the PKCE
        # verifier, and validates the ID token (signature, iss, aud, exp, iat, nonce).
        token = client.authorize_access_token(request)
        if "userinfo" not in token:
            raise IdentityRefused(_not_verified_message())
        claims = _userinfo(client, metadata, token)
    except requests.RequestException as exc:
        logger.warning("ProConnect unavailable at callback: %r", exc)
        raise IdentityRefused(_provider_down_message()) from exc
    except OAuthError as exc:
        logger.warning("ProConnect answer refused: %r", exc)
        if exc.error == "mismatching_state":
            raise IdentityRefused(
                _(
                    "La connexion avec ProConnect a expiré ou n'a pas été demandée depuis "
                    "ce navigateur. Veuillez réessayer."
                )
            ) from exc
        raise IdentityRefused(_not_verified_message()) from exc
    except (AuthlibBaseError, JoseError, ValueError, KeyError, RuntimeError) as exc:
        logger.warning("ProConnect answer refused: %r", exc)
        raise IdentityRefused(_not_verified_message()) from exc
    return _identity_from(claims)


def _userinfo(client, metadata: dict, token: dict) -> dict:
    """The userinfo claims, whose subject must be the ID token's (OpenID Connect Core §5.3.2)."""
    response = client.get(metadata["userinfo_endpoint"], token=token)
    response.raise_for_status()
    subject = token["userinfo"]["sub"]
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if content_type == "application/jwt":
        claims = _decode_signed(client, response.text, metadata)
        jwt.JWTClaimsRegistry(
            iss={"value": metadata["issuer"]},
            aud={"value": client.client_id},
            sub={"essential": True, "value": subject},
        ).validate(claims)
    else:
        claims = response.json()
        if not isinstance(claims, dict) or claims.get("sub") != subject:
            raise IdentityRefused(_not_verified_message())
    return claims


def _decode_signed(client, text: str, metadata: dict) -> dict:
    registry = JWSRegistry(
        algorithms=metadata.get("userinfo_signing_alg_values_supported"),
        strict_check_header=False,
    )
    try:
        keys = KeySet.import_key_set(client.fetch_jwk_set())
        return jwt.decode(text, keys, registry=registry).claims
    except InvalidKeyIdError:
        # The provider rotated its keys since we read them.
        keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
        return jwt.decode(text, keys, registry=registry).claims


def _identity_from(claims: dict) -> dict:
    values = {name: str(claims.get(name) or "").strip() for name in REQUIRED_CLAIMS}
    missing = [name for name, value in values.items() if not value]
    if missing or not SIRET.fullmatch(values["siret"]):
        logger.warning("ProConnect identity incomplete: missing %s", missing or ["a valid siret"])
        raise IdentityRefused(
            _(
                "ProConnect n'a pas transmis votre adresse électronique, votre nom ou le "
                "SIRET de votre organisation : l'identification n'a pas pu aboutir."
            )
        )
    return {**values, "verified_at": timezone.now().isoformat()}


def _provider_down_message() -> str:
    return _("ProConnect ne répond pas pour le moment. Veuillez réessayer dans quelques minutes.")


def _not_verified_message() -> str:
    return _("ProConnect n'a pas pu confirmer votre identité. Veuillez réessayer.")
