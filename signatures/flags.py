"""Flags that help moderators judge a signature. They inform; they never block.

Computed when a signature is submitted and again when it is confirmed (the
"many territories" flags depend on signatures made meanwhile), and stored.
"""

import datetime
from collections import defaultdict

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
    return compute_flags_for([signature])[signature.pk]


def compute_flags_for(signatures: list[Signature]) -> dict[int, dict[str, str]]:
    """compute_flags for several signatures, each of its three reads made once for all."""
    others = _other_territories(signatures)
    domain_counts = _territories_nearby(
        [s for s in signatures if s.email_domain and s.email_domain not in WEBMAIL_DOMAINS],
        "email_domain",
        DOMAIN_WINDOW,
    )
    ip_counts = _territories_nearby([s for s in signatures if s.ip_hash], "ip_hash", IP_WINDOW)
    return {
        s.pk: _flags(s, others.get(s.pk), domain_counts.get(s.pk, 0), ip_counts.get(s.pk, 0))
        for s in signatures
    }


def _flags(signature: Signature, other_territory, domain_count: int, ip_count: int) -> dict:
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
    if other_territory:
        found[Flag.Code.OTHER_TERRITORY_DOMAIN] = _(
            "@%(domain)s est un domaine de %(territory)s"
        ) % {
            "domain": domain,
            "territory": other_territory.label,
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
    if domain_count >= BURST_TERRITORIES:
        found[Flag.Code.DOMAIN_BURST] = _("%(count)s territoires en 24 h depuis @%(domain)s") % {
            "count": domain_count,
            "domain": domain,
        }
    if ip_count >= BURST_TERRITORIES:
        found[Flag.Code.IP_BURST] = _("%(count)s territoires en 1 h depuis %(ip)s") % {
            "count": ip_count,
            "ip": signature.submitted_ip or signature.ip_hash[:12],
        }
    return found


def _other_territories(signatures: list[Signature]) -> dict[int, Territory]:
    """For each signature, a territory its email domain is known to belong to, if not its own."""
    domains = {s.email_domain for s in signatures if s.email_domain}
    if not domains:
        return {}
    known = TerritoryDomain.objects.filter(domain__in=domains).select_related("territory")
    by_domain = {}
    for row in known.order_by("domain", "pk"):
        by_domain.setdefault(row.domain, []).append(row)
    found = {}
    for signature in signatures:
        for row in by_domain.get(signature.email_domain, ()):
            if row.territory_id != signature.territory_id:
                found[signature.pk] = row.territory
                break
    return found


def _territories_nearby(signatures: list[Signature], source: str, window) -> dict[int, int]:
    """For each signature, the distinct territories signed from the same source (email
    domain or IP) for its declaration within `window` of it, itself included.

    One read of the sources' signatures over the whole period, counted here: a
    correlated subquery per signature let PostgreSQL plan a scan of the table for a
    source value it could not see (8 ms a signature at 35,000 rows).
    """
    if not signatures:
        return {}
    rows = Signature.objects.filter(
        **{f"{source}__in": {getattr(s, source) for s in signatures}},
        declaration_id__in={s.declaration_id for s in signatures},
        submitted_at__gte=min(s.submitted_at for s in signatures) - window,
        submitted_at__lte=max(s.submitted_at for s in signatures) + window,
    ).values_list(source, "declaration_id", "submitted_at", "territory_id")
    signed = defaultdict(list)
    for value, declaration_id, submitted_at, territory_id in rows:
        signed[value, declaration_id].append((submitted_at, territory_id))
    return {
        s.pk: len(
            {
                territory_id
                for submitted_at, territory_id in signed[getattr(s, source), s.declaration_id]
                if abs(submitted_at - s.submitted_at) <= window
            }
        )
        for s in signatures
    }


def refresh_flags(signature: Signature) -> None:
    """Store the flags as computed now: add new ones, update details, drop stale ones."""
    _store_flags([signature], {signature.pk: compute_flags(signature)})


def _store_flags(signatures: list[Signature], found: dict[int, dict[str, str]]) -> None:
    """One read of the stored flags, then only the writes that change something: the
    worker does this for every signature, and new ones usually need one INSERT."""
    stored = {}
    rows = Flag.objects.filter(signature__in=signatures, code__in=COMPUTED_CODES)
    for signature_id, code, detail in rows.values_list("signature_id", "code", "detail"):
        stored.setdefault(signature_id, {})[code] = detail
    new = []
    for signature in signatures:
        now = {code: detail[:300] for code, detail in found[signature.pk].items()}
        before = stored.get(signature.pk, {})
        if stale := set(before) - set(now):
            signature.flags.filter(code__in=stale).delete()
        new += [
            Flag(signature=signature, code=code, detail=detail)
            for code, detail in now.items()
            if code not in before
        ]
        for code, detail in now.items():
            if code in before and before[code] != detail:
                signature.flags.filter(code=code).update(detail=detail)
    if new:
        # A refresh running at the same time (signing, then confirming) may add one first.
        Flag.objects.bulk_create(new, ignore_conflicts=True)


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
    return _verification_levels([signature])[signature.pk]


def _verification_levels(signatures: list[Signature]) -> dict[int, str]:
    level = Signature.Verification
    official = set(
        TerritoryDomain.objects.filter(
            domain__in={s.email_domain for s in signatures if s.email_domain},
            territory_id__in={s.territory_id for s in signatures},
        ).values_list("territory_id", "domain")
    )
    levels = {}
    for signature in signatures:
        if signature.proconnect_siret and proconnect_matches(signature):
            levels[signature.pk] = level.PROCONNECT
        elif signature.deliberation:
            levels[signature.pk] = level.DELIBERATION
        elif (signature.territory_id, signature.email_domain) in official:
            levels[signature.pk] = level.OFFICIAL_DOMAIN
        else:
            levels[signature.pk] = level.EMAIL
    return levels


def refresh_proof(signature: Signature) -> None:
    """Recompute what tells moderators and the public how the signature is proven."""
    refresh_proofs([signature])


def refresh_proofs(signatures: list[Signature]) -> None:
    """refresh_proof for several signatures (with their territories), reading once for all.

    Side effects: stores the flags (compute_flags), the verification level
    (verification_level) and `proof_refreshed_at` of each; a ProConnect-verified
    signature teaches its territory its email domain (TerritoryDomain, unless webmail
    or already known for another territory), so later signatures from it rank
    "official domain".
    """
    for signature in signatures:
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
    _store_flags(signatures, compute_flags_for(signatures))
    levels = _verification_levels(signatures)
    by_level = {}
    for signature in signatures:
        signature.verification = levels[signature.pk]
        by_level.setdefault(signature.verification, []).append(signature.pk)
    for level, ids in by_level.items():
        Signature.objects.filter(pk__in=ids).update(verification=level, proof_refreshed_at=Now())
