"""Flags that help moderators judge a signature. They inform; they never block.

Computed with the verification level (signatures.proof.levels.refresh_proofs calls
`refresh_flags`, named in settings.PROOF_REFRESHERS) a few seconds after a signature is
submitted and again when it is confirmed (the "many territories" flags depend on
signatures made meanwhile), and stored.
"""

import datetime
from collections import defaultdict

from django.utils.translation import gettext as _

from signatures.models import Flag, Signature, function_fits
from signatures.proof.levels import WEBMAIL_DOMAINS, proconnect_matches
from signatures.text import MARKUP
from territories.models import Territory, TerritoryDomain

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
    """{code: detail}: what the signature says of itself, then where it came from."""
    return {
        **_content_flags(signature),
        **_identity_flags(signature, other_territory),
        **_burst_flags(signature, domain_count, ip_count),
    }


def _content_flags(signature: Signature) -> dict:
    """The territory, the time taken and the text typed."""
    found = {}
    if not signature.territory.is_referential:
        found[Flag.Code.UNLISTED_TERRITORY] = _("%(kind)s, SIREN %(siren)s") % {
            "kind": signature.territory.get_kind_display(),
            "siren": signature.territory.siren or "?",
        }
    if signature.fill_seconds is None:
        found[Flag.Code.TOO_FAST] = _("envoyé sans passer par le formulaire du site")
    elif signature.fill_seconds < MIN_FILL_SECONDS:
        found[Flag.Code.TOO_FAST] = _("%(seconds)s s") % {"seconds": signature.fill_seconds}
    texts = (
        signature.first_name,
        signature.last_name,
        signature.function_other,
        signature.comment,
    )
    if any(MARKUP.search(text) for text in texts):
        found[Flag.Code.MARKUP] = ""
    if not function_fits(signature.function, signature.territory.kind):
        found[Flag.Code.FUNCTION_MISMATCH] = _(
            "%(function)s pour un territoire de type %(kind)s"
        ) % {
            "function": signature.get_function_display(),
            "kind": signature.territory.get_kind_display(),
        }
    return found


def _identity_flags(signature: Signature, other_territory) -> dict:
    """Whether the address and the ProConnect organisation fit the territory."""
    found = {}
    domain = signature.email_domain
    if domain in WEBMAIL_DOMAINS:
        found[Flag.Code.WEBMAIL] = domain
    if other_territory:
        found[Flag.Code.OTHER_TERRITORY_DOMAIN] = _(
            "@%(domain)s est un domaine de %(territory)s"
        ) % {"domain": domain, "territory": other_territory.label}
    if signature.proconnect_siret and not proconnect_matches(signature):
        found[Flag.Code.PROCONNECT_MISMATCH] = _(
            "SIRET ProConnect %(siret)s ; SIREN du territoire %(siren)s"
        ) % {"siret": signature.proconnect_siret, "siren": signature.territory.siren or "—"}
    return found


def _burst_flags(signature: Signature, domain_count: int, ip_count: int) -> dict:
    """Several territories signed from one domain or one address in a short while."""
    found = {}
    if domain_count >= BURST_TERRITORIES:
        found[Flag.Code.DOMAIN_BURST] = _("%(count)s territoires en 24 h depuis @%(domain)s") % {
            "count": domain_count,
            "domain": signature.email_domain,
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


def refresh_flags_for(signatures: list[Signature]) -> None:
    """refresh_flags for several signatures (with their territories), each read made once."""
    _store_flags(signatures, compute_flags_for(signatures))


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
