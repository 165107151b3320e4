"""The verification level of a signature: the strongest proof that it comes from its territory.

ProConnect (the organisation vouched for is the territory), a deliberation a moderator
accepted, an email from one of the territory's official domains, or only a confirmed
email address.
"""

import functools

from django.conf import settings
from django.db.models.functions import Now
from django.utils.module_loading import import_string

from territories.models import TerritoryDomain

from ..models import Signature

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


@functools.cache
def _refreshers():
    """What else is computed with the level (settings.PROOF_REFRESHERS): the apps above
    signatures, such as moderation's flags, are named there rather than imported."""
    return [import_string(path) for path in settings.PROOF_REFRESHERS]


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
        elif signature.deliberation_review == Signature.DeliberationReview.ACCEPTED:
            # Not the file alone: anyone can upload a PDF; it proves something once a
            # moderator has read it. An anonymised signature keeps the review, and so
            # the level, after its file is deleted.
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

    Side effects: runs each function named in settings.PROOF_REFRESHERS (the
    moderators' flags: moderation.flags.refresh_flags); stores the verification
    level (verification_level) and `proof_refreshed_at` of each; a ProConnect-verified
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
    for refresh in _refreshers():
        refresh(signatures)
    levels = _verification_levels(signatures)
    by_level = {}
    for signature in signatures:
        signature.verification = levels[signature.pk]
        by_level.setdefault(signature.verification, []).append(signature.pk)
    for level, ids in by_level.items():
        Signature.objects.filter(pk__in=ids).update(verification=level, proof_refreshed_at=Now())
