"""The identity ProConnect verified, as this site keeps it in the session.

    {"email", "given_name", "usual_name", "siret", "verified_at"}  (verified_at: ISO 8601, UTC)

Read it with `identity(request)`; the flow that writes it is in flow.py, behind views.py.
"""

import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

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


def safe_next(value: str | None) -> str:
    """A path on this site: never another host, so the flow cannot become an open redirect."""
    if (
        value
        and value.startswith("/")
        and url_has_allowed_host_and_scheme(value, allowed_hosts=None)
    ):
        return value
    return "/"
