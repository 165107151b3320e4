"""The ids, secrets and keyed hashes a signature carries, and their lifetimes."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.files.storage import FileSystemStorage

CONFIRMATION_SALT = "signatures.confirmation"
MANAGE_SALT = "signatures.manage"
CONFIRMATION_VALID_DAYS = 7  # a week to find the email and click
CONFIRMATION_MAX_AGE = CONFIRMATION_VALID_DAYS * 24 * 3600  # seconds, for signing.loads
# A second identical submission or resend within this delay sends no second email.
RESEND_COOLDOWN = datetime.timedelta(minutes=2)
# Older than this and still unsent, a queued email is presumed lost (broker down
# when it was queued, worker killed mid-send…): the sweeper, every 15 s, queues it
# again. A worker sends a confirmation in well under a second; an email waiting for
# its next try after an SMTP error (`*_retry_at`) is not lost, and one being sent
# right now is skipped (its row is locked).
EMAIL_LOST_AFTER = datetime.timedelta(seconds=30)
# A re-queued email is not queued again before this: a dead worker would otherwise
# find a pile of duplicate messages (harmless, each sends nothing) when it restarts.
EMAIL_RESWEEP_AFTER = datetime.timedelta(seconds=60)


def new_public_id() -> str:
    """An opaque reference for URLs, anchors, the API and emails: 16 random URL-safe characters.

    Row ids are sequential and would tell how many submissions exist.
    """
    return secrets.token_urlsafe(12)


def private_storage() -> FileSystemStorage:
    """Files no URL serves: only views that check who asks read them (settings.PRIVATE_ROOT)."""
    return FileSystemStorage(location=settings.PRIVATE_ROOT)


def deliberation_path(signature, filename: str) -> str:
    """A random name: the signatory's file name may say who they are, and must not be guessed."""
    return f"deliberations/{secrets.token_urlsafe(18)}.pdf"


def new_manage_secret() -> str:
    return secrets.token_urlsafe(16)


def source_hash(value: str) -> str:
    """A keyed hash of an IP address or email address: comparable, not reversible.

    Lets moderators group signatures by source, and caps count emails per
    recipient, without keeping the address itself longer than needed.
    """
    if not value:
        return ""
    key = hashlib.sha256(f"source-hash:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


# Emails asked for longer ago than the link's validity are not sent any more.
CONFIRMATION_LINK_AGE = datetime.timedelta(seconds=CONFIRMATION_MAX_AGE)
