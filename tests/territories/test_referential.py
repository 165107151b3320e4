import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from territories.models import Territory
from territories.referential import import_referential
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db

Kind = Territory.Kind
EPCI_SIREN = "000000018"  # like every code of the tiny data set below, absent from the real data


def _commune(code: str, name: str, *, siren: str, departement: str = "X2", population=100):
    return {
        "code": code,
        "nom": name,
        "type": "commune-actuelle",
        "zone": "metro",
        "departement": departement,
        "region": "X1",
        "siren": siren,
        "codesPostaux": ["99100"],
        "population": population,
    }


def _write_data(directory, communes: list[dict]):
    """A hand-made data set: one région, two départements, one EPCI of all the communes."""
    data = {
        "regions.json": [{"code": "X1", "nom": "Région test", "zone": "metro"}],
        "departements.json": [
            {"code": "X2", "region": "X1", "nom": "Département test", "zone": "metro"},
            {"code": "X3", "region": "X1", "nom": "Autre département", "zone": "metro"},
        ],
        "epci.json": [
            {
                "code": EPCI_SIREN,
                "nom": "CC du Test",
                "type": "CC",
                "populationMunicipale": sum(commune["population"] for commune in communes),
                "membres": [
                    {"code": commune["code"], "populationMunicipale": commune["population"]}
                    for commune in communes
                ],
            }
        ],
        "ept.json": [],
        "communes.json": communes,
    }
    for name, content in data.items():
        (directory / name).write_text(json.dumps(content), encoding="utf-8")
    return directory


def test_import_deactivates_vanished_rows_and_reactivates_returning_ones(tmp_path):
    first = _commune("X9001", "Premierville", siren="000000101")
    second = _commune("X9002", "Secondville", siren="000000102")
    import_referential(_write_data(tmp_path, [first, second]))

    report = import_referential(_write_data(tmp_path, [first]))
    assert report.deactivated[Kind.COMMUNE] == 1
    vanished = Territory.objects.get(kind=Kind.COMMUNE, code="X9002")
    assert not vanished.is_active

    report = import_referential(_write_data(tmp_path, [first, second]))
    assert report.updated[Kind.COMMUNE] == 1
    vanished.refresh_from_db()
    assert vanished.is_active


def test_import_adopts_an_unlisted_territory_holding_an_official_siren(tmp_path):
    unlisted = TerritoryFactory(name="Comcom du test (saisie)", siren=EPCI_SIREN)
    assert not unlisted.is_referential

    report = import_referential(
        _write_data(tmp_path, [_commune("X9001", "Premierville", siren="000000101")])
    )

    adopted = Territory.objects.get(siren=EPCI_SIREN)
    assert adopted.pk == unlisted.pk
    assert (adopted.kind, adopted.code, adopted.name) == (Kind.CC, EPCI_SIREN, "CC du Test")
    assert adopted.is_referential
    assert len(report.adopted) == 1
    assert Territory.objects.get(code="X9001").epci == adopted


def test_import_moves_a_siren_to_the_territory_now_holding_it(tmp_path):
    import_referential(
        _write_data(tmp_path, [_commune("X9001", "Ancienneville", siren="000000101")])
    )

    # A commune nouvelle with a new INSEE code inherits the SIREN of a merged commune.
    report = import_referential(
        _write_data(tmp_path, [_commune("X9003", "Nouvelleville", siren="000000101")])
    )

    assert Territory.objects.get(siren="000000101").code == "X9003"
    former = Territory.objects.get(kind=Kind.COMMUNE, code="X9001")
    assert (former.siren, former.is_active) == (None, False)
    assert len(report.released) == 1


def test_import_places_an_epci_in_its_most_populated_departement(tmp_path):
    communes = [
        _commune("X9001", "Petiteville", siren="000000101", departement="X2", population=100),
        _commune("X9002", "Grandeville", siren="000000102", departement="X3", population=900),
    ]
    import_referential(_write_data(tmp_path, communes))

    epci = Territory.objects.get(siren=EPCI_SIREN)
    assert (epci.departement.code, epci.region.code, epci.population) == ("X3", "X1", 1000)
    assert Territory.objects.get(kind=Kind.DEPARTEMENT, code="X3").population == 900
    assert Territory.objects.get(kind=Kind.REGION, code="X1").population == 1000


def test_import_command_prints_progress_and_counts(tmp_path):
    data_dir = _write_data(tmp_path, [_commune("X9001", "Premierville", siren="000000101")])
    stdout = io.StringIO()

    call_command("import_territories", data_dir=data_dir, stdout=stdout)

    output = stdout.getvalue()
    assert "Communes : 1 lues…" in output
    assert "Commune : 1 créés, 0 mis à jour" in output
    assert "Total : " in output


def test_import_command_refuses_a_missing_data_dir(tmp_path):
    with pytest.raises(CommandError, match="npm ci"):
        call_command("import_territories", data_dir=tmp_path)


@pytest.mark.usefixtures("referential")
def test_import_creates_every_kind_of_territory():
    active = Territory.objects.filter(is_referential=True, is_active=True)
    assert 34_000 < active.filter(kind=Kind.COMMUNE).count() < 36_000
    epci_kinds = [Kind.METROPOLE, Kind.CU, Kind.CA, Kind.CC]
    assert 1_200 < active.filter(kind__in=epci_kinds).count() < 1_300
    assert active.filter(kind=Kind.EPT).count() == 11
    assert active.filter(kind=Kind.REGION).count() == 18
    assert active.filter(kind=Kind.DEPARTEMENT).count() == 101
    assert active.filter(kind=Kind.COM).count() == 8


@pytest.mark.usefixtures("referential")
def test_import_twice_changes_nothing():
    count = Territory.objects.count()

    report = import_referential()

    assert report.created.total() == 0
    assert report.updated.total() == 0
    assert report.deactivated.total() == 0
    assert Territory.objects.count() == count


@pytest.mark.usefixtures("referential")
def test_import_restores_a_changed_row():
    Territory.objects.filter(kind=Kind.COMMUNE, code="31555").update(
        name="Toulouse (modifiée)", population=1
    )

    report = import_referential()

    assert report.updated == {Kind.COMMUNE: 1}
    toulouse = Territory.objects.get(kind=Kind.COMMUNE, code="31555")
    assert (toulouse.name, toulouse.search_name) == ("Toulouse", "toulouse")
    assert toulouse.population > 400_000


@pytest.mark.usefixtures("referential")
def test_import_links_a_commune_to_its_epci_departement_and_region():
    toulouse = Territory.objects.get(kind=Kind.COMMUNE, code="31555")

    assert (toulouse.siren, toulouse.name) == ("213105554", "Toulouse")
    assert "31000" in toulouse.postal_codes.split()
    assert (toulouse.epci.siren, toulouse.epci.kind) == ("243100518", Kind.METROPOLE)
    assert (toulouse.departement.kind, toulouse.departement.code) == (Kind.DEPARTEMENT, "31")
    assert (toulouse.region.kind, toulouse.region.code) == (Kind.REGION, "76")
    assert (toulouse.epci.departement, toulouse.epci.region) == (
        toulouse.departement,
        toulouse.region,
    )


@pytest.mark.usefixtures("referential")
def test_import_links_regions_departements_and_com_to_themselves():
    occitanie = Territory.objects.get(kind=Kind.REGION, code="76")
    haute_garonne = Territory.objects.get(kind=Kind.DEPARTEMENT, code="31")
    polynesie = Territory.objects.get(kind=Kind.COM, code="987")
    papeete = Territory.objects.get(kind=Kind.COMMUNE, code="98735")

    assert (occitanie.region, occitanie.departement) == (occitanie, None)
    assert (haute_garonne.departement, haute_garonne.region) == (haute_garonne, occitanie)
    assert (polynesie.departement, polynesie.region) == (polynesie, polynesie)
    assert (papeete.departement, papeete.region) == (polynesie, polynesie)
    # COM entries are listed as régions and as départements: imported once.
    assert not Territory.objects.filter(code="987").exclude(kind=Kind.COM).exists()


@pytest.mark.usefixtures("referential")
def test_import_sums_the_population_of_departements_and_regions():
    haute_garonne = Territory.objects.get(kind=Kind.DEPARTEMENT, code="31")
    communes = Territory.objects.filter(kind=Kind.COMMUNE, departement=haute_garonne)
    occitanie_communes = Territory.objects.filter(kind=Kind.COMMUNE, region__code="76")

    assert haute_garonne.population == communes.aggregate(total=Sum("population"))["total"]
    assert haute_garonne.population > 1_000_000
    assert (
        Territory.objects.get(kind=Kind.REGION, code="76").population
        == occitanie_communes.aggregate(total=Sum("population"))["total"]
    )
