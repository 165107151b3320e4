"""Sign in with ProConnect, the State's OpenID Connect federation for professionals.

The authorization code flow, through Authlib's Django client: `login` sends the person to
the provider with a `state`, a `nonce` and a PKCE S256 challenge; `callback` checks the
`state`, exchanges the code (client_secret_post, with the PKCE verifier), checks the ID
token (signature against the provider's JWKS, iss, aud, exp, iat, nonce, at_hash), fetches
the userinfo (a signed JWT at ProConnect, checked the same way; plain JSON elsewhere), and
keeps the verified identity in the session under `SESSION_KEY`:

    {"email", "given_name", "usual_name", "siret", "verified_at"}  (verified_at: ISO 8601, UTC)

Read it with `identity(request)`. Nothing is written to the database here.

Every failure (provider down, person cancelling, expired or forged `state`, invalid token)
ends on the page the person came from with a French message, never a 500.
Settings are read at each request: PROCONNECT_BASE_URL (the issuer), PROCONNECT_CLIENT_ID,
PROCONNECT_CLIENT_SECRET, PROCONNECT_SCOPES. See docs/proconnect.md.
"""

import datetime

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

SESSION_KEY = "proconnect"
NEXT_SESSION_KEY = "proconnect_next"
# An identity older than this no longer counts: long enough to fill in the signing form,
# short enough that a shared computer does not lend it to the next person. Signing in
# again is one redirect while the ProConnect session (12 hours) is open.
IDENTITY_MAX_AGE = datetime.timedelta(hours=1)


def is_configured() -> bool:
    """Whether the « S'identifier avec ProConnect » button may be shown."""
    return bool(
        settings.PROCONNECT_BASE_URL
        and settings.PROCONNECT_CLIENT_ID
        and settings.PROCONNECT_CLIENT_SECRET
    )


def identity(request: HttpRequest) -> dict | None:
    """The identity ProConnect verified for this session, unless older than IDENTITY_MAX_AGE.

    Keys: email (verified by the provider), given_name, usual_name, siret (14 digits, its
    first 9 the SIREN), verified_at (ISO 8601).
    """
    found = request.session.get(SESSION_KEY)
    if not isinstance(found, dict):
        return None
    try:
        verified_at = datetime.datetime.fromisoformat(found["verified_at"])
    except (KeyError, TypeError, ValueError):
        return None
    if timezone.now() - verified_at > IDENTITY_MAX_AGE:
        return None
    return found


# The flow itself is in proconnect_flow, imported by these two views only: Authlib,
# cryptography and requests add 15 MiB to every web process that loads them
# (docs/performance.md), and most never see a ProConnect sign-in.


@require_safe
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow; come back to the relative path `next`."""
    from . import proconnect_flow  # noqa: PLC0415

    return proconnect_flow.login(request)


@require_safe
def callback(request: HttpRequest) -> HttpResponse:
    """Check the provider's answer and keep the verified identity in the session."""
    from . import proconnect_flow  # noqa: PLC0415

    return proconnect_flow.callback(request)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Forget the identity on this site only; the session at ProConnect stays open."""
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("Ce site a oublié votre identité ProConnect."))
    return redirect(safe_next(request.POST.get("next")))


def safe_next(value: str | None) -> str:
    """A path on this site: never another host, so the flow cannot become an open redirect."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return "/"
