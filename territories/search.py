"""Territory search for the autocomplete: by name, INSEE code, postal code or SIREN."""

import re
from functools import reduce
from operator import and_

from django.db.models import Case, F, IntegerField, Q, Value, When

from .models import Territory
from .normalize import normalize

MIN_QUERY_LENGTH = 2
_SIREN = re.compile(r"\d{9}")
# An INSEE code or a postal code; Corsica's INSEE codes start with 2A or 2B.
_CODE = re.compile(r"\d{5}|2[ab]\d{3}")


def search_territories(query: str, *, limit: int = 10) -> list[Territory]:
    """Active territories matching the query, best first, in one query.

    Nine digits look up a SIREN, five characters an INSEE or postal code; other
    queries need every word inside the normalised name, so a prefix is enough for
    an autocomplete. Ranking: the exact name, then names starting with the query,
    then the most populated. Empty or one-character queries find nothing.
    """
    normalized = normalize(query)
    if len(normalized) < MIN_QUERY_LENGTH:
        return []
    condition, exact = _conditions(normalized)
    rank = Case(
        When(exact, then=Value(0)),
        When(search_name__startswith=normalized, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    territories = (
        Territory.objects.filter(condition, is_active=True)
        .select_related("departement")
        .annotate(rank=rank)
        .order_by("rank", F("population").desc(nulls_last=True), "name", "pk")
    )
    return list(territories[:limit])


def _conditions(normalized: str) -> tuple[Q, Q]:
    """What the territories must match, and what counts as an exact match."""
    compact = normalized.replace(" ", "")  # "244 200 770", "42 000"
    if _SIREN.fullmatch(compact):
        return Q(siren=compact) | Q(code=compact), Q(siren=compact)
    if _CODE.fullmatch(compact):
        code = compact.upper()
        return Q(code=code) | _postal_code_q(code), Q(code=code)
    every_word = reduce(and_, (Q(search_name__contains=word) for word in normalized.split()))
    return every_word, Q(search_name=normalized)


def _postal_code_q(code: str) -> Q:
    """A whole token of the space-separated postal codes, never part of a longer one.

    Each pattern is a plain LIKE, which the trigram index serves on PostgreSQL.
    """
    return (
        Q(postal_codes=code)
        | Q(postal_codes__startswith=f"{code} ")
        | Q(postal_codes__endswith=f" {code}")
        | Q(postal_codes__contains=f" {code} ")
    )
