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

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from .session import SESSION_KEY, safe_next

# The flow itself is in flow.py, imported by these two views only: Authlib,
# cryptography and requests add 15 MiB to every web process that loads them
# (docs/performance.md), and most never see a ProConnect sign-in.


@require_safe
def login(request: HttpRequest) -> HttpResponse:
    """Start the authorization code flow; come back to the relative path `next`."""
    from . import flow  # noqa: PLC0415

    return flow.login(request)


@require_safe
def callback(request: HttpRequest) -> HttpResponse:
    """Check the provider's answer and keep the verified identity in the session."""
    from . import flow  # noqa: PLC0415

    return flow.callback(request)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Forget the identity on this site only; the session at ProConnect stays open."""
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("Ce site a oublié votre identité ProConnect."))
    return redirect(safe_next(request.POST.get("next")))
