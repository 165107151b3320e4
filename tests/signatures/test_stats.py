"""The counts snapshot: exact, idempotent, safe under concurrency, fast to read."""

import time

import pytest
from django.db import connection

from signatures import services
from signatures.models import Signature, SignatureStats
from signatures.stats import covered_population, refresh_all_stats, refresh_stats, stats_for
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory


@pytest.fixture
def territories(db):
    region = TerritoryFactory(kind="region", name="Région test")
    departement = TerritoryFactory(kind="departement", name="Dép test", region=region)
    epci = TerritoryFactory(
        kind="cc", name="CC test", population=3000, departement=departement, region=region
    )
    inside = [
        TerritoryFactory(
            kind="commune", population=1000, epci=epci, departement=departement, region=region
        ),
        TerritoryFactory(
            kind="commune", population=2000, epci=epci, departement=departement, region=region
        ),
    ]
    outside = TerritoryFactory(
        kind="commune", population=500, departement=departement, region=region
    )
    return {"epci": epci, "inside": inside, "outside": outside, "departement": departement}


def _publish(declaration, territory, **kwargs):
    return SignatureFactory(
        declaration=declaration, territory=territory, status="published", **kwargs
    )


@pytest.mark.django_db
def test_snapshot_matches_a_recount(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["inside"][0])
    _publish(declaration, territories["epci"])
    SignatureFactory(declaration=declaration, territory=territories["outside"], status="confirmed")
    stats = refresh_stats(declaration_id=declaration.pk)
    published = Signature.objects.published().filter(declaration=declaration)
    assert stats.total == published.count() == 2
    assert stats.by_kind == {"commune": 1, "cc": 1}
    assert {r["name"]: r["count"] for r in stats.by_region} == {"Région test": 2}
    assert sum(count for _day, count in stats.by_day) == 2
    declaration.refresh_from_db()
    assert declaration.signature_count == 2


@pytest.mark.django_db
def test_population_counts_a_commune_once_even_when_its_epci_signed(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["inside"][0])
    _publish(declaration, territories["epci"])
    _publish(declaration, territories["outside"])
    published = Signature.objects.published().filter(declaration=declaration)
    # 1,000 + 2,000 (the EPCI's communes, the first counted once) + 500
    assert covered_population(published) == 3500


@pytest.mark.django_db
def test_population_of_a_departement_covers_its_communes(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["departement"])
    _publish(declaration, territories["outside"])
    published = Signature.objects.published().filter(declaration=declaration)
    assert covered_population(published) == 3500


@pytest.mark.django_db
def test_territory_without_linked_communes_adds_its_own_population():
    declaration = DeclarationFactory()
    _publish(declaration, TerritoryFactory(kind="petr", population=42000))
    published = Signature.objects.published().filter(declaration=declaration)
    assert covered_population(published) == 42000


@pytest.mark.django_db
def test_refresh_twice_gives_the_same_snapshot_and_keeps_its_version(territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["epci"])
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
def test_version_changes_with_publication_and_anonymisation(territories):
    declaration = DeclarationFactory()
    signature = _publish(declaration, territories["epci"])
    before = refresh_stats(declaration_id=declaration.pk).version
    services.anonymise_signature(signature_id=signature.pk, actor=None)
    assert refresh_stats(declaration_id=declaration.pk).version != before


@pytest.mark.django_db
def test_stats_for_reads_the_cache_without_queries(django_assert_num_queries, territories):
    declaration = DeclarationFactory()
    _publish(declaration, territories["epci"])
    refresh_stats(declaration_id=declaration.pk)
    stats_for(declaration)  # fills the cache
    with django_assert_num_queries(0):
        assert stats_for(declaration).total == 1


@pytest.mark.django_db
def test_stats_for_an_unknown_snapshot_is_empty():
    stats = stats_for(DeclarationFactory())
    assert (stats.total, stats.population, stats.by_region) == (0, 0, [])


@pytest.mark.django_db
def test_refresh_all_covers_every_declaration():
    DeclarationFactory()
    assert refresh_all_stats() == 2  # with the declaration of 25 May 2020
    assert SignatureStats.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_agree_with_a_recount():
    import threading

    declaration = DeclarationFactory()
    for _ in range(30):
        _publish(declaration, TerritoryFactory(kind="commune", population=100))
    barrier = threading.Barrier(8)
    errors = []

    def run():
        try:
            barrier.wait(timeout=30)
            refresh_stats(declaration_id=declaration.pk)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
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
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and stats_for(declaration).total != 1:
        time.sleep(0.2)
    assert stats_for(declaration).total == 1
