"""Import of the official referential from @etalab/decoupage-administratif.

The npm package ships the COG (régions, départements, collectivités d'outre-mer,
communes) and the intercommunalités as JSON. The import is an idempotent upsert:
rows are matched on (kind group, code), never deleted (signatures point at them),
deactivated when they leave the data and reactivated when they come back.
"""

import json
from collections import Counter, defaultdict, namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .models import Territory
from .normalize import normalize

Kind = Territory.Kind

BATCH_SIZE = 2000
EPCI_KINDS_BY_TYPE = {
    "CC": Kind.CC,
    "CA": Kind.CA,
    "CU": Kind.CU,
    "METRO": Kind.METROPOLE,
    "MET69": Kind.METROPOLE,  # Métropole de Lyon, a collectivité with the powers of an EPCI
    "EPT": Kind.EPT,
}

# Every column the import owns, in the order of the Row tuples it compares.
FIELDS = (
    "kind",
    "code",
    "siren",
    "name",
    "search_name",
    "population",
    "postal_codes",
    "departement_id",
    "region_id",
    "epci_id",
    "is_referential",
    "is_active",
)
Row = namedtuple("Row", FIELDS)

Key = tuple[str, str]


def territory_key(kind: str, code: str) -> Key:
    """Identity of a referential row: an EPCI keeps its SIREN when it changes kind (CC → CA)."""
    group = "epci" if kind in Territory.EPCI_KINDS else kind
    return (group, code)


@dataclass(slots=True)
class Record:
    """One territory as the data describes it; links are keys, resolved to ids when saving."""

    kind: str
    code: str
    name: str
    siren: str | None = None
    population: int | None = None
    postal_codes: str = ""
    departement: Key | None = None
    region: Key | None = None
    epci: Key | None = None

    @property
    def key(self) -> Key:
        return territory_key(self.kind, self.code)


@dataclass
class Stage:
    """Records of one level, saved after the levels they point at."""

    label: str  # "Communes : %(count)s lues…"
    records: list[Record]


@dataclass
class ImportReport:
    """Counts per kind, plus the rows that changed hands on the way."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    deactivated: Counter = field(default_factory=Counter)
    adopted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)


def default_data_dir() -> Path:
    """Where `npm ci` puts the data; no setting, the package is a pinned dependency."""
    return Path(settings.BASE_DIR, "node_modules/@etalab/decoupage-administratif/data")


def format_count(number: int) -> str:
    """34969 -> '34 969', with the narrow no-break space of French typography."""
    return f"{number:,}".replace(",", "\u202f")


def import_referential(
    data_dir: Path | None = None, *, log: Callable[[str], None] = lambda message: None
) -> ImportReport:
    """Create, update, reactivate or deactivate the referential rows to match the data.

    Side effects, all in one transaction: referential rows are created or updated
    in bulk; a row a signatory added whose SIREN (or kind and code) the data now
    lists is adopted into the official row; a SIREN the data gives to another
    territory is first taken off its former holder; referential rows absent from
    the data get is_active=False. Nothing is deleted.
    """
    stages = read_referential(Path(data_dir or default_data_dir()))
    for stage in stages:
        log(stage.label % {"count": format_count(len(stage.records))})
    records = [record for stage in stages for record in stage.records]
    report = ImportReport()
    with transaction.atomic():
        rows = _load_rows()
        ids = _match_rows(records, rows, report)
        _release_sirens(records, rows, ids, report)
        for stage in stages:
            _save_stage(stage.records, rows, ids, report)
        _deactivate_missing(rows, set(ids.values()), report)
    return report


# Reading the data


def read_referential(data_dir: Path) -> list[Stage]:
    """The official territories, in stages: each one only points at earlier ones or itself."""
    regions = _read_json(data_dir, "regions.json")
    departements = _read_json(data_dir, "departements.json")
    epcis = _read_json(data_dir, "epci.json") + _read_json(data_dir, "ept.json")
    communes = [
        commune
        for commune in _read_json(data_dir, "communes.json")
        if commune["type"] == "commune-actuelle"
    ]
    com_codes = {region["code"] for region in regions if region["zone"] == "com"}
    commune_records = _commune_records(communes, epcis, com_codes)
    populations = _population_by_key(commune_records)
    return [
        Stage(
            _("Régions : %(count)s lues…"),
            [
                _top_record(Kind.REGION, region, populations)
                for region in regions
                if region["code"] not in com_codes
            ],
        ),
        # COM entries are both in regions.json and departements.json: imported once.
        Stage(
            _("Collectivités d'outre-mer : %(count)s lues…"),
            [
                _top_record(Kind.COM, region, populations)
                for region in regions
                if region["code"] in com_codes
            ],
        ),
        Stage(
            _("Départements : %(count)s lus…"),
            [
                _top_record(Kind.DEPARTEMENT, departement, populations)
                for departement in departements
                if departement["code"] not in com_codes
            ],
        ),
        Stage(
            _("Intercommunalités (EPCI et EPT) : %(count)s lues…"),
            [_epci_record(epci, commune_records) for epci in epcis],
        ),
        Stage(_("Communes : %(count)s lues…"), list(commune_records.values())),
    ]


def _read_json(data_dir: Path, name: str) -> list[dict]:
    with (data_dir / name).open(encoding="utf-8") as file:
        return json.load(file)


def _departement_key(code: str, com_codes: set[str]) -> Key:
    return ("com", code) if code in com_codes else ("departement", code)


def _region_key(code: str, com_codes: set[str]) -> Key:
    return ("com", code) if code in com_codes else ("region", code)


def _commune_records(
    communes: list[dict], epcis: list[dict], com_codes: set[str]
) -> dict[str, Record]:
    """Communes by INSEE code, each linked to the EPCI listing it (not the EPT)."""
    epci_by_commune = {
        member["code"]: epci["code"]
        for epci in epcis
        if epci["type"] != "EPT"
        for member in epci["membres"]
    }
    records = {}
    for commune in communes:
        epci_code = epci_by_commune.get(commune["code"])
        records[commune["code"]] = Record(
            kind=Kind.COMMUNE,
            code=commune["code"],
            name=commune["nom"],
            siren=commune.get("siren"),
            population=commune.get("population"),
            postal_codes=" ".join(commune.get("codesPostaux", [])),
            departement=_departement_key(commune["departement"], com_codes),
            region=_region_key(commune["region"], com_codes),
            epci=("epci", epci_code) if epci_code else None,
        )
    return records


def _population_by_key(communes: dict[str, Record]) -> dict[Key, int]:
    """Population of départements, régions and COM: the data gives it for communes only."""
    totals = Counter()
    for commune in communes.values():
        if commune.population is not None:
            totals[commune.departement] += commune.population
            if commune.region != commune.departement:  # a COM is both
                totals[commune.region] += commune.population
    return totals


def _top_record(kind: str, entry: dict, populations: dict[Key, int]) -> Record:
    """A région, département or COM; it is its own région or département where it acts as one."""
    key = territory_key(kind, entry["code"])
    return Record(
        kind=kind,
        code=entry["code"],
        name=entry["nom"],
        population=populations.get(key),
        departement=key if kind in (Kind.DEPARTEMENT, Kind.COM) else None,
        region=key if kind in (Kind.REGION, Kind.COM) else ("region", entry["region"]),
    )


def _epci_record(epci: dict, communes: dict[str, Record]) -> Record:
    """An EPCI or EPT, placed in the département holding most of its population."""
    members = epci["membres"]
    population = epci.get("populationMunicipale")
    if population is None:
        population = sum(member.get("populationMunicipale") or 0 for member in members)
    by_place = Counter()
    for member in members:
        commune = communes[member["code"]]
        by_place[commune.departement, commune.region] += member.get("populationMunicipale") or 0
    # max() keeps the first of equal totals, i.e. the first member's département.
    departement, region = max(by_place, key=by_place.get) if by_place else (None, None)
    return Record(
        kind=EPCI_KINDS_BY_TYPE[epci["type"]],
        code=epci["code"],
        name=epci["nom"],
        siren=epci["code"],
        population=population,
        departement=departement,
        region=region,
    )


# Saving


def _load_rows() -> dict[int, Row]:
    """Every row that can clash with the import: referential kinds or holding a SIREN."""
    rows = Territory.objects.filter(
        Q(kind__in=Territory.REFERENTIAL_KINDS) | Q(siren__isnull=False)
    ).values_list("id", *FIELDS)
    return {pk: Row(*values) for pk, *values in rows.iterator(chunk_size=BATCH_SIZE)}


def _is_managed(row: Row) -> bool:
    """Rows the import owns: it may deactivate them. Others it only adopts."""
    return row.is_referential and row.kind in Territory.REFERENTIAL_KINDS


def _match_rows(records: list[Record], rows: dict[int, Row], report: ImportReport) -> dict:
    """Key -> id of the existing row each record updates; records without one are new."""
    managed, unlisted_by_key, unlisted_by_siren = {}, {}, {}
    for pk, row in rows.items():
        key = territory_key(row.kind, row.code)
        if _is_managed(row):
            managed[key] = pk
            continue
        if row.kind in Territory.REFERENTIAL_KINDS:
            unlisted_by_key[key] = pk
        if row.siren:
            unlisted_by_siren[row.siren] = pk
    ids, adopted = {}, set()
    for record in records:
        pk = managed.get(record.key)
        if pk is None:
            pk = unlisted_by_key.get(record.key) or unlisted_by_siren.get(record.siren)
            if pk is None or pk in adopted:
                continue
            adopted.add(pk)
            report.adopted.append(
                _("« %(old)s » (#%(pk)s) devient « %(new)s » (%(code)s)")
                % {"old": rows[pk].name, "pk": pk, "new": record.name, "code": record.code}
            )
        ids[record.key] = pk
    return ids


def _release_sirens(
    records: list[Record], rows: dict[int, Row], ids: dict, report: ImportReport
) -> None:
    """Take a SIREN off a row before the data gives it to another one (unique constraint).

    The former holder is a referential row that vanished or got a new SIREN (a
    commune nouvelle), or a duplicate a signatory added for an already listed
    territory: the warning lets a moderator merge it.
    """
    holders = {row.siren: pk for pk, row in rows.items() if row.siren}
    released = {}
    for record in records:
        pk = holders.get(record.siren)
        if pk is not None and pk != ids.get(record.key):
            released[pk] = record
    if not released:
        return
    Territory.objects.filter(pk__in=list(released)).update(siren=None)
    for pk, record in released.items():
        row = rows[pk]
        rows[pk] = row._replace(siren=None)
        report.released.append(
            _("SIREN %(siren)s retiré de « %(old)s » (#%(pk)s) pour « %(new)s » (%(code)s)")
            % {
                "siren": row.siren,
                "old": row.name,
                "pk": pk,
                "new": record.name,
                "code": record.code,
            }
        )


def _values(record: Record, ids: dict, *, strict: bool = True) -> Row:
    """The row a record should be; links to rows not created yet are None unless strict."""
    link = ids.__getitem__ if strict else ids.get
    return Row(
        kind=record.kind,
        code=record.code,
        siren=record.siren,
        name=record.name,
        search_name=normalize(record.name),
        population=record.population,
        postal_codes=record.postal_codes,
        departement_id=link(record.departement) if record.departement else None,
        region_id=link(record.region) if record.region else None,
        epci_id=link(record.epci) if record.epci else None,
        is_referential=True,
        is_active=True,
    )


def _save_stage(
    records: list[Record], rows: dict[int, Row], ids: dict, report: ImportReport
) -> None:
    """Bulk-create the new rows, then bulk-update every row that differs from the data.

    New régions, départements and COM point at themselves, which needs their id:
    they are created without that link and come back in the update.
    """
    new = [record for record in records if record.key not in ids]
    new_values = [_values(record, ids, strict=False) for record in new]
    territories = [Territory(**values._asdict()) for values in new_values]
    Territory.objects.bulk_create(territories, batch_size=BATCH_SIZE)
    for record, values, territory in zip(new, new_values, territories, strict=True):
        ids[record.key] = territory.pk
        rows[territory.pk] = values
        report.created[record.kind] += 1
    created = {territory.pk for territory in territories}

    changed = defaultdict(list)
    for record in records:
        pk = ids[record.key]
        values = _values(record, ids)
        fields = tuple(name for name in FIELDS if getattr(values, name) != getattr(rows[pk], name))
        if fields:
            changed[fields].append(Territory(pk=pk, **values._asdict()))
            rows[pk] = values
        if pk not in created:
            counts = report.updated if fields else report.unchanged
            counts[record.kind] += 1
    # Only the columns that changed: bulk_update builds a CASE per row and column, which
    # costs ~0.25 ms each in Python, and a yearly refresh changes most populations only.
    for fields, territories in changed.items():
        Territory.objects.bulk_update(territories, fields, batch_size=BATCH_SIZE)


def _deactivate_missing(rows: dict[int, Row], imported: set[int], report: ImportReport) -> None:
    """Referential rows the data no longer lists stay (signatures point at them), inactive."""
    missing = [
        pk for pk, row in rows.items() if _is_managed(row) and row.is_active and pk not in imported
    ]
    for batch in _batches(missing):
        Territory.objects.filter(pk__in=batch).update(is_active=False)
    for pk in missing:
        report.deactivated[rows[pk].kind] += 1


def _batches(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
