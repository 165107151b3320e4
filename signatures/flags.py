"""Flags that help moderators judge a signature. They inform; they never block.

Computed when a signature is submitted and again when it is confirmed (the
"many territories" flags depend on signatures made meanwhile), and stored.
"""

import datetime

from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext as _

from territories.models import Territory, TerritoryDomain

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
    Flag.Code.OTHER_TERRITORY_DOMAIN,
    Flag.Code.PROCONNECT_MISMATCH,
    Flag.Code.FUNCTION_MISMATCH,
)


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
    other = (
        TerritoryDomain.objects.filter(domain=domain)
        .exclude(territory_id=signature.territory_id)
        .select_related("territory")
        .first()
    )
    if other:
        found[Flag.Code.OTHER_TERRITORY_DOMAIN] = _(
            "@%(domain)s est un domaine de %(territory)s"
        ) % {
            "domain": domain,
            "territory": other.territory.label,
        }
    if signature.proconnect_siret and not proconnect_matches(signature):
        found[Flag.Code.PROCONNECT_MISMATCH] = _(
            "SIRET ProConnect %(siret)s ; SIREN du territoire %(siren)s"
        ) % {"siret": signature.proconnect_siret, "siren": signature.territory.siren or "—"}
    if not function_fits(signature.function, signature.territory.kind):
        found[Flag.Code.FUNCTION_MISMATCH] = _(
            "%(function)s pour un territoire de type %(kind)s"
        ) % {
            "function": signature.get_function_display(),
            "kind": signature.territory.get_kind_display(),
        }
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
    """Store the flags as computed now: add new ones, update details, drop stale ones.

    One read of the stored flags, then only the writes that change something: the
    worker does this for every signature, and a new one is usually one INSERT.
    """
    found = {code: detail[:300] for code, detail in compute_flags(signature).items()}
    stored = dict(signature.flags.filter(code__in=COMPUTED_CODES).values_list("code", "detail"))
    if stale := set(stored) - set(found):
        signature.flags.filter(code__in=stale).delete()
    if new := [
        Flag(signature=signature, code=code, detail=detail)
        for code, detail in found.items()
        if code not in stored
    ]:
        # A refresh running at the same time (signing, then confirming) may add one first.
        Flag.objects.bulk_create(new, ignore_conflicts=True)
    for code, detail in found.items():
        if code in stored and stored[code] != detail:
            signature.flags.filter(code=code).update(detail=detail)


def add_flag(signature: Signature, code: str, detail: str = "") -> None:
    """Set a flag the workflows decide (suspect, contested), keeping the latest detail."""
    Flag.objects.update_or_create(
        signature=signature, code=code, defaults={"detail": str(detail)[:300]}
    )


# A mayor leads a commune; a président·e leads every other kind of local authority.
FUNCTIONS_BY_KIND = {
    Signature.Function.MAIRE: {Territory.Kind.COMMUNE},
    Signature.Function.PRESIDENT: set(Territory.Kind) - {Territory.Kind.COMMUNE},
}


def function_fits(function: str, kind: str) -> bool:
    """False for an executive function that does not lead this kind (a "Maire" of an EPCI)."""
    kinds = FUNCTIONS_BY_KIND.get(function)
    return kinds is None or kind in kinds


def proconnect_matches(signature: Signature) -> bool:
    """The organisation ProConnect vouched for is the territory: SIRET starts with its SIREN."""
    siren = signature.territory.siren
    return bool(siren) and signature.proconnect_siret[:9] == siren


def verification_level(signature: Signature) -> str:
    """The strongest proof that applies to this signature (Signature.Verification)."""
    level = Signature.Verification
    if signature.proconnect_siret and proconnect_matches(signature):
        return level.PROCONNECT
    if signature.deliberation:
        return level.DELIBERATION
    if (
        signature.email_domain
        and TerritoryDomain.objects.filter(
            territory_id=signature.territory_id, domain=signature.email_domain
        ).exists()
    ):
        return level.OFFICIAL_DOMAIN
    return level.EMAIL


def refresh_proof(signature: Signature) -> None:
    """Recompute what tells moderators and the public how the signature is proven.

    Side effects: stores the flags (refresh_flags), the verification level
    (verification_level) and `proof_refreshed_at`; a ProConnect-verified signature teaches
    the territory its email domain (TerritoryDomain, unless webmail or already
    known for another territory), so later signatures from it rank "official
    domain".
    """
    if (
        signature.proconnect_siret
        and proconnect_matches(signature)
        and signature.email_domain
        and signature.email_domain not in WEBMAIL_DOMAINS
    ):
        TerritoryDomain.objects.get_or_create(
            domain=signature.email_domain,
            defaults={
                "territory_id": signature.territory_id,
                "source": TerritoryDomain.Source.PROCONNECT,
            },
        )
    refresh_flags(signature)
    signature.verification = verification_level(signature)
    Signature.objects.filter(pk=signature.pk).update(
        verification=signature.verification, proof_refreshed_at=Now()
    )
