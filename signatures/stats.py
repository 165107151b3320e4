"""Counts of published signatures: computed from the table by Celery, read from a snapshot.

`refresh_stats` recomputes a declaration's snapshot exactly (it never adds to
previous figures), so running it twice or concurrently gives the same result;
the row lock serialises concurrent runs so an older computation never
overwrites a newer one. Readers call `stats_for`, which costs one cache read.
"""

import hashlib
import zoneinfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    Exists,
    Func,
    OuterRef,
    Q,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone

from core.resilience import cache_or_none, write_cache_quietly
from declarations.models import Declaration, Network
from territories.models import Territory

from .models import Signature, SignatureStats

CACHE_TIMEOUT = 24 * 3600  # refreshed on every change; the timeout only bounds staleness


def _cache_key(declaration_id: int) -> str:
    return f"signature-stats:{declaration_id}"


def _version_key(slug: str) -> str:
    return f"signature-stats-version:{slug}"


def version_for_slug(slug: str) -> str | None:
    """The snapshot's version by the declaration's slug, None for an unknown slug.

    One cache read, for ETags and the page cache. An unknown slug writes nothing:
    otherwise every made-up address would leave a key in the Redis the broker uses.
    """
    version = cache_or_none(lambda: cache.get(_version_key(slug)), "the counts' version")
    if version is None:
        row = Declaration.objects.filter(slug=slug).values_list("stats__version").first()
        if row is None:
            return None
        version = row[0] or "empty"
        write_cache_quietly(
            lambda: cache.set(_version_key(slug), version, CACHE_TIMEOUT), "the counts' version"
        )
    return version


def stats_for(declaration: Declaration) -> SignatureStats:
    """The latest snapshot: from the cache, else the database, else an empty one."""
    key = _cache_key(declaration.pk)
    stats = cache_or_none(lambda: cache.get(key), "the counts")
    if stats is None:
        stats = SignatureStats.objects.filter(declaration=declaration).first()
        if stats is None:
            return SignatureStats(declaration=declaration, computed_at=None)
        write_cache_quietly(lambda: cache.set(key, stats, CACHE_TIMEOUT), "the counts")
    return stats


# Every field of a published signature that a public page, the API or the exports show
# (templates/public/includes/signature_item.html, templates/includes/latest_signatories.html,
# public.filters.public_row), with what names it (civility, function) and what hides it
# (anonymised_at); its networks are read apart. The territory's own fields follow the
# referential, not the signatures: the page cache's TTL bounds how long they take to show.
SHOWN_FIELDS = (
    "pk",
    "public_id",
    "territory_id",
    "first_name",
    "last_name",
    "civility",
    "function",
    "function_other",
    "comment",
    "verification",
    "deliberation",
    "deliberation_is_public",
    "published_at",
    "anonymised_at",
    "corrected_at",
)


def _version(published) -> str:
    """Fingerprint of what the public sees: every shown field of every published signature.

    Cached pages live as long as this version (core/pagecache.py), so any change the
    public would see must change it. Counts and latest dates missed some (a deliberation
    made public, a network or a civility corrected, a level swapped between two
    signatures): the fingerprint is exact instead. Two queries whatever the number of
    signatures; PostgreSQL hashes the rows itself and sends back one sum each.
    """
    separated = []
    for field in SHOWN_FIELDS:
        separated += [Cast(field, TextField()), Value("\x1f")]
    networks = Signature.networks.through.objects.filter(signature__in=published)
    pair = _joined(
        [Cast("signature_id", TextField()), Value(":"), Cast("network_id", TextField())]
    )
    digests = (
        _digest(published, _joined(separated), order_by=["pk"]),
        _digest(networks, pair, order_by=["signature_id", "network_id"]),
    )
    return hashlib.sha256(" ".join(digests).encode()).hexdigest()[:32]


def _digest(queryset, expression, *, order_by: list[str]) -> str:
    """A digest of the expression's values. PostgreSQL adds up a 64-bit hash of each row's
    value (35,000 signatures: one number back, no sort and no long string built; any
    change of a row changes the sum, short of a collision no edit can aim at); SQLite, in
    development, sends the values here to be hashed in order."""
    if connection.vendor == "postgresql":
        hashed = Func(
            expression, Value(0), function="hashtextextended", output_field=BigIntegerField()
        )
        found = queryset.aggregate(
            rows=Count("pk"),
            total=Sum(hashed, output_field=DecimalField(max_digits=40, decimal_places=0)),
        )
        return f"{found['rows']}:{found['total'] or 0}"
    values = (
        queryset.annotate(shown=expression).order_by(*order_by).values_list("shown", flat=True)
    )
    return hashlib.md5("\x1e".join(values).encode(), usedforsecurity=False).hexdigest()


def _joined(expressions: list):
    """Concat as a balanced tree: Django nests Concat's pairs one in the other, and
    SQLite's parser overflows past a few dozen levels."""
    if len(expressions) == 1:
        return expressions[0]
    middle = len(expressions) // 2
    return Concat(
        _joined(expressions[:middle]), _joined(expressions[middle:]), output_field=TextField()
    )


def refresh_stats(*, declaration_id: int) -> SignatureStats:
    """Recompute the snapshot from the signatures table.

    Side effects: locks (or creates) the snapshot row, rewrites it when the
    published set changed, copies the total to `Declaration.signature_count`,
    and after commit puts the snapshot in the cache.
    """
    with transaction.atomic():
        stats, _created = SignatureStats.objects.get_or_create(declaration_id=declaration_id)
        stats = SignatureStats.objects.select_for_update().get(pk=stats.pk)
        published = Signature.objects.published().filter(declaration_id=declaration_id)
        version = _version(published)
        now = timezone.now()
        if version != stats.version:
            _fill(stats, published)
            stats.version = version
            stats.last_change_at = now
        stats.computed_at = now
        stats.save()
        Declaration.objects.filter(pk=declaration_id).exclude(signature_count=stats.total).update(
            signature_count=stats.total
        )
        slug = Declaration.objects.values_list("slug", flat=True).get(pk=declaration_id)

        def publish_snapshot():
            cache.set(_cache_key(declaration_id), stats, CACHE_TIMEOUT)
            cache.set(_version_key(slug), stats.version, CACHE_TIMEOUT)

        # robust: with Redis down the snapshot is in the database; readers fall back to it.
        # The stale cached copy, if Redis kept one, is replaced at the next refresh (5 s).
        transaction.on_commit(publish_snapshot, robust=True)
    return stats


def _fill(stats: SignatureStats, published) -> None:
    stats.total = published.count()
    stats.population = covered_population(published)
    stats.by_verification = dict(
        published.values_list("verification").annotate(count=Count("pk")).order_by()
    )
    stats.by_kind = dict(
        published.values_list("territory__kind").annotate(count=Count("pk")).order_by()
    )
    stats.by_network = [
        {"slug": n.slug, "name": n.short_name, "count": n.count}
        for n in Network.objects.annotate(
            count=Count("signatures", filter=Q(signatures__in=published))
        ).order_by("position")
    ]
    stats.by_region = [
        {"code": code, "name": name, "count": count}
        for code, name, count in published.filter(territory__region__isnull=False)
        .values_list("territory__region__code", "territory__region__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "territory__region__name")
    ]
    stats.by_departement = dict(
        published.filter(territory__departement__isnull=False)
        .values_list("territory__departement__code")
        .annotate(count=Count("territory", distinct=True))
        .order_by()
    )
    paris = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    stats.by_day = [
        [day.isoformat(), count]
        for day, count in published.annotate(day=TruncDate("published_at", tzinfo=paris))
        .values_list("day")
        .annotate(count=Count("pk"))
        .order_by("day")
    ]


def covered_population(published) -> int:
    """Population of the communes the signing territories cover, each commune once.

    A commune counts when it signed, or its intercommunalité, département or
    région did. Territories the referential links no commune to (EPT, bodies
    added by signatories) add their own population, which may overlap.
    """
    signing = published.values("territory_id")
    communes = Territory.objects.filter(kind=Territory.Kind.COMMUNE).filter(
        Q(pk__in=signing)
        | Q(epci_id__in=signing)
        | Q(departement_id__in=signing)
        | Q(region_id__in=signing)
    )
    linked = Territory.objects.filter(kind=Territory.Kind.COMMUNE).filter(
        Q(epci_id=OuterRef("pk")) | Q(departement_id=OuterRef("pk")) | Q(region_id=OuterRef("pk"))
    )
    unlinked = (
        Territory.objects.filter(pk__in=signing)
        .exclude(kind=Territory.Kind.COMMUNE)
        .exclude(Exists(linked))
    )
    total = communes.aggregate(total=Sum("population"))["total"] or 0
    return total + (unlinked.aggregate(total=Sum("population"))["total"] or 0)


def refresh_all_stats() -> int:
    """Refresh every declaration still collecting or shown; returns how many."""
    ids = list(Declaration.objects.values_list("pk", flat=True))
    for declaration_id in ids:
        refresh_stats(declaration_id=declaration_id)
    return len(ids)
