"""A territory outside the referential, described by its signatory: created out of
the public search, it joins it once a signature on it is published."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from territories.models import Territory


@dataclass(frozen=True, kw_only=True)
class UnlistedTerritory:
    """A territory the signatory describes because the referential lacks it."""

    kind: str
    name: str
    siren: str
    departement: Territory


def get_or_create_unlisted_territory(unlisted: UnlistedTerritory) -> Territory:
    """A territory outside the referential, keyed by its SIREN.

    A SIREN already known (official or added before) returns that territory,
    so "not listed" cannot be used to sign twice for the same body. A new one
    stays inactive, out of the public search, until a signature on it is
    published: nobody can put text in the autocomplete without moderation.
    """
    existing = Territory.objects.filter(siren=unlisted.siren).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return Territory.objects.create(
                kind=unlisted.kind,
                code=unlisted.siren,
                siren=unlisted.siren,
                name=unlisted.name,
                departement=unlisted.departement,
                region=unlisted.departement.region,
                is_referential=False,
                is_active=False,
            )
    except IntegrityError:  # created meanwhile by a concurrent submission
        return Territory.objects.get(siren=unlisted.siren)


def make_searchable(territory: Territory) -> None:
    """A territory a signatory added becomes searchable once a signature on it is published."""
    if not territory.is_active:
        Territory.objects.filter(pk=territory.pk, is_referential=False).update(is_active=True)
