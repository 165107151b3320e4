import pytest

from territories.models import Territory
from territories.search import search_territories
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db

SAINT_ETIENNE = ("commune", "42218")
SAINT_ETIENNE_METROPOLE = ("metropole", "244200770")


def _keys(territories: list[Territory]) -> list[tuple[str, str]]:
    return [(territory.kind, territory.code) for territory in territories]


@pytest.mark.usefixtures("referential")
@pytest.mark.parametrize(
    "query", ["st etienne", "saint-etienne", "SAINT ÉTIENNE", "Saint-Étienne", " st-Étienne! "]
)
def test_search_finds_saint_etienne_however_typed(query):
    found = _keys(search_territories(query))

    assert found[:2] == [SAINT_ETIENNE, SAINT_ETIENNE_METROPOLE]


@pytest.mark.usefixtures("referential")
@pytest.mark.parametrize("query", ["42000", "42100", "42 230"])
def test_search_finds_a_commune_by_postal_code(query):
    assert SAINT_ETIENNE in _keys(search_territories(query))


@pytest.mark.usefixtures("referential")
def test_search_finds_a_commune_by_insee_code():
    assert _keys(search_territories("42218")) == [SAINT_ETIENNE]
    assert _keys(search_territories("2a004")) == [("commune", "2A004")]


@pytest.mark.usefixtures("referential")
def test_search_ranks_an_insee_code_before_the_same_postal_code():
    # 13001 is Aix-en-Provence's INSEE code and a postal code of (larger) Marseille.
    assert _keys(search_territories("13001")) == [("commune", "13001"), ("commune", "13055")]


@pytest.mark.usefixtures("referential")
@pytest.mark.parametrize("query", ["244200770", "244 200 770"])
def test_search_finds_an_epci_by_siren(query):
    assert _keys(search_territories(query)) == [SAINT_ETIENNE_METROPOLE]


@pytest.mark.usefixtures("referential")
def test_search_finds_a_commune_by_siren():
    assert _keys(search_territories("213105554")) == [("commune", "31555")]


@pytest.mark.usefixtures("referential")
def test_search_ranks_toulouse_and_its_metropole_first():
    found = _keys(search_territories("toulouse"))

    assert found[0] == ("commune", "31555")
    assert ("metropole", "243100518") in found[:3]


@pytest.mark.usefixtures("referential")
def test_search_matches_name_prefixes_for_the_autocomplete():
    assert ("commune", "31555") in _keys(search_territories("toul"))


@pytest.mark.usefixtures("referential")
def test_search_needs_every_word():
    found = search_territories("lyon metropole")

    assert _keys(found)[0] == ("metropole", "200046977")
    assert all("lyon" in t.search_name and "metropole" in t.search_name for t in found)


@pytest.mark.usefixtures("referential")
def test_search_runs_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        labels = [territory.label for territory in search_territories("saint", limit=20)]

    assert len(labels) == 20


@pytest.mark.parametrize("query", ["", "  ", "a", "É", "-"])
def test_search_ignores_empty_and_one_letter_queries(query, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert search_territories(query) == []


def test_search_matches_whole_postal_codes_only():
    whole = TerritoryFactory(name="Codeville", postal_codes="99101 99102 99103")
    TerritoryFactory(name="Piègeville", postal_codes="199102 991020")

    assert search_territories("99102") == [whole]


def test_search_skips_inactive_territories():
    active = TerritoryFactory(name="Quxville-sur-Test")
    TerritoryFactory(name="Quxville-le-Vieux", is_active=False)

    assert search_territories("quxville") == [active]


def test_search_ranks_exact_then_prefix_then_population():
    larger = TerritoryFactory(name="Grand Quxbourg", population=5_000)
    prefix = TerritoryFactory(name="Quxbourg-les-Bains", population=10)
    exact = TerritoryFactory(name="Quxbourg", population=None)
    unknown = TerritoryFactory(name="Petit Quxbourg", population=None)

    assert search_territories("QUXBOURG") == [exact, prefix, larger, unknown]


def test_search_respects_the_limit():
    TerritoryFactory.create_batch(5, name="Quxland")

    assert len(search_territories("quxland", limit=3)) == 3
