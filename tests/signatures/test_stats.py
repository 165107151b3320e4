"""The counts snapshot: exact, idempotent, safe under concurrency, fast to read."""

import pytest

from signatures import services
from signatures.models import Signature, SignatureStats
from signatures.stats import covered_population, refresh_all_stats, refresh_stats, stats_for
from tests.conftest import run_concurrently, wait_for
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory


def _publish(declaration, territory, **kwargs):
    return SignatureFactory(
        declaration=declaration, territory=territory, status="published", **kwargs
    )


@pytest.mark.django_db
def test_refresh_stats_matches_a_recount(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["members"][0])
    _publish(declaration, territories["metropole"])
    SignatureFactory(declaration=declaration, territory=territories["outside"], status="confirmed")
    stats = refresh_stats(declaration_id=declaration.pk)
    published = Signature.objects.published().filter(declaration=declaration)
    assert stats.total == published.count() == 2
    assert stats.by_kind == {"commune": 1, "metropole": 1}
    assert {r["name"]: r["count"] for r in stats.by_region} == {"Occitanie": 2}
    assert sum(count for _day, count in stats.by_day) == 2
    declaration.refresh_from_db()
    assert declaration.signature_count == 2


@pytest.mark.django_db
def test_refresh_stats_counts_published_signatures_only():
    declaration = DeclarationFactory(signature_count=99)
    SignatureFactory.create_batch(3, declaration=declaration, status="published")
    SignatureFactory(declaration=declaration, status="confirmed")
    SignatureFactory(declaration=declaration, status="pending")
    refresh_stats(declaration_id=declaration.pk)
    refresh_stats(declaration_id=declaration.pk)
    declaration.refresh_from_db()
    assert declaration.signature_count == 3


@pytest.mark.django_db
def test_covered_population_counts_a_commune_once_even_when_its_epci_signed(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["members"][0])
    _publish(declaration, territories["metropole"])
    _publish(declaration, territories["outside"])
    published = Signature.objects.published().filter(declaration=declaration)
    # 1,000 + 2,000 (the métropole's communes, the first counted once) + 500
    assert covered_population(published) == 3500


@pytest.mark.django_db
def test_covered_population_of_a_departement_is_its_communes(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["haute_garonne"])
    _publish(declaration, territories["outside"])
    published = Signature.objects.published().filter(declaration=declaration)
    assert covered_population(published) == 3500


@pytest.mark.django_db
def test_covered_population_adds_a_territory_without_communes_on_its_own():
    declaration = DeclarationFactory()
    _publish(declaration, TerritoryFactory(kind="petr", population=42000))
    published = Signature.objects.published().filter(declaration=declaration)
    assert covered_population(published) == 42000


@pytest.mark.django_db
def test_refresh_stats_twice_gives_the_same_snapshot_and_version(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["metropole"])
    first = refresh_stats(declaration_id=declaration.pk)
    second = refresh_stats(declaration_id=declaration.pk)
    assert (first.total, first.population, first.version) == (
        second.total,
        second.population,
        second.version,
    )
    assert second.last_change_at == first.last_change_at
    assert SignatureStats.objects.count() == 1


@pytest.mark.django_db
def test_snapshot_version_changes_when_a_signature_is_anonymised(territories):
    declaration = DeclarationFactory()
    signature = _publish(declaration, territories["metropole"])
    before = refresh_stats(declaration_id=declaration.pk).version
    services.anonymise_signature(signature_id=signature.pk, actor=None)
    assert refresh_stats(declaration_id=declaration.pk).version != before


@pytest.mark.django_db
def test_stats_for_reads_the_cache_without_queries(django_assert_num_queries, territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["metropole"])
    refresh_stats(declaration_id=declaration.pk)
    stats_for(declaration)  # fills the cache
    with django_assert_num_queries(0):
        assert stats_for(declaration).total == 1


@pytest.mark.django_db
def test_stats_for_an_unknown_snapshot_is_empty():
    stats = stats_for(DeclarationFactory())
    assert (stats.total, stats.population, stats.by_region) == (0, 0, [])


@pytest.mark.django_db
def test_refresh_all_stats_covers_every_declaration():
    DeclarationFactory()
    assert refresh_all_stats() == 2  # with the declaration of 25 May 2020
    assert SignatureStats.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_agree_with_a_recount():
    declaration = DeclarationFactory()
    for _ in range(30):
        _publish(declaration, TerritoryFactory(kind="commune", population=100))
    results = run_concurrently(8, lambda _i: refresh_stats(declaration_id=declaration.pk))
    assert [r for r in results if isinstance(r, Exception)] == []
    stats = SignatureStats.objects.get(declaration=declaration)
    assert stats.total == 30
    assert stats.population == 3000


@pytest.mark.postgres
@pytest.mark.celery_worker
def test_a_published_signature_reaches_the_counts_within_10_seconds(celery_worker):
    declaration = DeclarationFactory()
    signature = SignatureFactory(declaration=declaration, status="confirmed")
    refresh_stats(declaration_id=declaration.pk)
    services.change_status(signature_id=signature.pk, action="approve")
    wait_for(lambda: stats_for(declaration).total == 1, timeout=10)
    assert stats_for(declaration).total == 1
