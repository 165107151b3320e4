"""Flags that help moderators judge a signature. They inform; they never block.

Computed when a signature is submitted and again when it is confirmed (the
"many territories" flags depend on signatures made meanwhile), and stored.
"""

import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from .models import Flag, Signature
from .text import MARKUP

# Free webmail domains: an official is expected to write from an institutional address.
WEBMAIL_DOMAINS = frozenset(
    {
        "aol.com", "bbox.fr", "club-internet.fr", "free.fr", "gmail.com", "googlemail.com",
        "gmx.com", "gmx.fr", "hotmail.com", "hotmail.fr", "icloud.com", "laposte.net",
        "live.com", "live.fr", "mac.com", "me.com", "msn.com", "neuf.fr", "numericable.fr",
        "orange.fr", "outlook.com", "outlook.fr", "proton.me", "protonmail.com", "sfr.fr",
        "wanadoo.fr", "yahoo.com", "yahoo.fr", "ymail.com",
    }
)  # fmt: skip
# Several territories from one domain or one IP within these windows is unusual:
# one official signs for one body (an EPCI president may also sign for a commune).
DOMAIN_WINDOW = datetime.timedelta(hours=24)
IP_WINDOW = datetime.timedelta(hours=1)
BURST_TERRITORIES = 3
# Reading the text and filling in the form takes a person well over this.
MIN_FILL_SECONDS = 8


# Flags computed here; the others (suspect, contested) are set by the workflows.
COMPUTED_CODES = (
    Flag.Code.WEBMAIL,
    Flag.Code.UNLISTED_TERRITORY,
    Flag.Code.TOO_FAST,
    Flag.Code.MARKUP,
    Flag.Code.DOMAIN_BURST,
    Flag.Code.IP_BURST,
)


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def compute_flags(signature: Signature) -> dict[str, str]:
    """{flag code: detail} for this signature, from its data and recent signatures."""
    found = {}
    domain = signature.email_domain
    if domain in WEBMAIL_DOMAINS:
        found[Flag.Code.WEBMAIL] = domain
    if not signature.territory.is_referential:
        found[Flag.Code.UNLISTED_TERRITORY] = _("%(kind)s, SIREN %(siren)s") % {
            "kind": signature.territory.get_kind_display(),
            "siren": signature.territory.siren or "?",
        }
    if signature.fill_seconds is None:
        found[Flag.Code.TOO_FAST] = _("envoyé sans passer par le formulaire du site")
    elif signature.fill_seconds < MIN_FILL_SECONDS:
        found[Flag.Code.TOO_FAST] = _("%(seconds)s s") % {"seconds": signature.fill_seconds}
    texts = [
        signature.first_name,
        signature.last_name,
        signature.function_other,
        signature.comment,
    ]
    if any(MARKUP.search(text) for text in texts):
        found[Flag.Code.MARKUP] = ""
    if domain and domain not in WEBMAIL_DOMAINS:
        count = _territories_nearby(signature, Q(email_domain=domain), DOMAIN_WINDOW)
        if count >= BURST_TERRITORIES:
            found[Flag.Code.DOMAIN_BURST] = _(
                "%(count)s territoires en 24 h depuis @%(domain)s"
            ) % {
                "count": count,
                "domain": domain,
            }
    if signature.ip_hash:
        count = _territories_nearby(signature, Q(ip_hash=signature.ip_hash), IP_WINDOW)
        if count >= BURST_TERRITORIES:
            found[Flag.Code.IP_BURST] = _("%(count)s territoires en 1 h depuis %(ip)s") % {
                "count": count,
                "ip": signature.submitted_ip or signature.ip_hash[:12],
            }
    return found


def _territories_nearby(signature: Signature, same_source: Q, window) -> int:
    """Distinct territories signed from the same source around this signature's time."""
    return (
        Signature.objects.filter(
            same_source,
            declaration_id=signature.declaration_id,
            submitted_at__gte=signature.submitted_at - window,
            submitted_at__lte=signature.submitted_at + window,
        )
        .values("territory_id")
        .distinct()
        .count()
    )


def refresh_flags(signature: Signature) -> None:
    """Store the flags as computed now: add new ones, update details, drop stale ones."""
    found = compute_flags(signature)
    signature.flags.filter(code__in=COMPUTED_CODES).exclude(code__in=found).delete()
    for code, detail in found.items():
        Flag.objects.update_or_create(
            signature=signature, code=code, defaults={"detail": detail[:300]}
        )


def add_flag(signature: Signature, code: str, detail: str = "") -> None:
    """Set a flag the workflows decide (suspect, contested), keeping the latest detail."""
    Flag.objects.update_or_create(
        signature=signature, code=code, defaults={"detail": str(detail)[:300]}
    )
