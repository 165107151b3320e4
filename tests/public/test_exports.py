"""The list's downloads (public.views.signatory_csv, signatory_xlsx): French spreadsheets
open them right, they hold the public fields only, with the list's filters and order,
and neither can carry a formula."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations.models import Network
from public.filters import PUBLIC_COLUMNS, public_row, public_rows, published_signatures
from signatures.models import Signature
from signatures.text import FORMULA_PREFIXES
from tests.factories import NetworkFactory, SignatureFactory, TerritoryFactory, bulk_signatures

pytestmark = pytest.mark.django_db

HEADER = [
    "territoire",
    "type",
    "code officiel",
    "SIREN",
    "département",
    "région",
    "population",
    "signataire",
    "fonction",
    "réseaux",
    "commentaire",
    "date de publication",
    "vérification",
]
# The contact details in `signed_declaration`, which no export may hold.
SECRETS = ("prive-1@toulouse.fr", "prive-2@brest.fr", "0561000000", "203.0.113.5", "attente@x.fr")


def _csv_bytes(client, declaration, **params) -> bytes:
    response = client.get(reverse("public:csv", args=[declaration.slug]), params)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return response.getvalue()  # streamed when filtered, whole (from the cache) when not


def _csv_rows(client, declaration, **params) -> list[list[str]]:
    text = _csv_bytes(client, declaration, **params).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _xlsx(client, declaration, **params):
    response = client.get(reverse("public:xlsx", args=[declaration.slug]), params)
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    content = b"".join(response.streaming_content)
    return response, openpyxl.load_workbook(io.BytesIO(content)).active


def _xlsx_rows(client, declaration, **params) -> list[list]:
    _response, sheet = _xlsx(client, declaration, **params)
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


# CSV for a French Excel.


def test_csv_starts_with_a_bom_and_splits_on_semicolons(client, signed_declaration):
    raw = _csv_bytes(client, signed_declaration)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the accents
    first_line = raw.decode("utf-8-sig").splitlines()[0]
    assert first_line == ";".join(HEADER)
    assert "," not in first_line
    # What Excel does on a double-click, roughly: split each line on its list separator.
    rows = _csv_rows(client, signed_declaration)
    assert {len(row) for row in rows} == {len(HEADER)}


def test_csv_holds_the_public_fields_with_the_filters(client, signed_declaration):
    rows = _csv_rows(client, signed_declaration, region="76")
    assert rows[0] == HEADER
    assert len(rows) == 2
    toulouse = dict(zip(HEADER, rows[1], strict=True))
    assert toulouse["territoire"] == "Toulouse Métropole test"
    assert toulouse["signataire"] == "Jean-Luc Moudénc"
    assert toulouse["réseaux"] == "France urbaine"
    assert toulouse["région"] == "Occitanie"
    assert toulouse["population"] == "3000"


def test_csv_names_the_file_after_the_declaration_and_the_day(client, signed_declaration):
    response = client.get(reverse("public:csv", args=[signed_declaration.slug]))
    assert response["Content-Disposition"].startswith(
        'attachment; filename="signataires-alliance-test-'
    )
    assert response["Content-Disposition"].endswith('.csv"')


# XLSX.


def test_xlsx_has_the_csvs_columns_rows_and_order(client, signed_declaration):
    for params in ({}, {"sort": "population"}, {"region": "53"}, {"q": "introuvable"}):
        csv_rows = _csv_rows(client, signed_declaration, **params)
        xlsx_rows = _xlsx_rows(client, signed_declaration, **params)
        assert xlsx_rows[0] == csv_rows[0] == HEADER
        assert len(xlsx_rows) == len(csv_rows)
        for from_xlsx, from_csv in zip(xlsx_rows[1:], csv_rows[1:], strict=True):
            # Same text, except the numbers and the date, typed in the workbook.
            assert [str(v or "") for v in from_xlsx[:6]] == from_csv[:6]
            assert str(from_xlsx[6]) == from_csv[6]
            assert [v or "" for v in from_xlsx[7:11]] == from_csv[7:11]
            assert from_xlsx[12] == from_csv[12]


def test_xlsx_cells_are_typed_and_the_sheet_ready_to_read(client, signed_declaration):
    response, sheet = _xlsx(client, signed_declaration, sort="population")
    assert response["Content-Disposition"].startswith(
        'attachment; filename="signataires-alliance-test-'
    )
    assert response["Content-Disposition"].endswith('.xlsx"')
    assert sheet.title == "Signataires"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    toulouse = [cell.value for cell in sheet[2]]
    assert toulouse[0] == "Toulouse Métropole test"
    assert toulouse[6] == 3000  # a number
    published = toulouse[11]
    assert isinstance(published, datetime.datetime)  # a real date, in Paris time
    signature = signed_declaration.signatures.get(territory__name="Toulouse Métropole test")
    assert published.isoformat()[:16] == public_row(signature)["published_at"][:16]


def test_xlsx_keeps_the_filters(client, signed_declaration):
    rows = _xlsx_rows(client, signed_declaration, departement="29")
    assert [row[0] for row in rows[1:]] == ["Brest test"]


# Nothing private, nothing that runs.


def test_exports_never_hold_contact_details(client, signed_declaration):
    text = _csv_bytes(client, signed_declaration).decode("utf-8-sig")
    cells = " ".join(str(v) for row in _xlsx_rows(client, signed_declaration) for v in row)
    for content in (text, cells):
        assert "@" not in content
        for secret in SECRETS:
            assert secret not in content


# "\x01=…": a character no spreadsheet keeps, hiding the formula sign behind it.
@pytest.mark.parametrize("prefix", [*FORMULA_PREFIXES, "\x01=", "\ufffe@"])
def test_exports_never_hold_a_formula(client, declaration, prefix):
    payload = f'{prefix}HYPERLINK("http://evil.example","x")'
    signature = SignatureFactory(
        declaration=declaration,
        status="published",
        territory=TerritoryFactory(
            name=payload, departement=TerritoryFactory(kind="departement", name=payload)
        ),
        first_name=payload,
        last_name="Durand",
        function="autre",
        function_other=payload,
        comment=payload,
    )
    signature.networks.add(NetworkFactory(short_name=payload))
    csv_row = _csv_rows(client, declaration)[1]
    _response, sheet = _xlsx(client, declaration)
    xlsx_row = list(sheet[2])
    expected = "'" + payload.replace("\x01", "").replace("\ufffe", "")
    assert expected in csv_row
    # (XML reads a carriage return as a line feed.)
    assert expected.replace("\r", "\n") in [cell.value for cell in xlsx_row]
    for value in csv_row:
        assert not value.startswith(FORMULA_PREFIXES), value
    for cell in xlsx_row:
        assert cell.data_type != "f", cell.value  # openpyxl's mark of a formula
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_PREFIXES), cell.value


def test_xlsx_survives_characters_xml_refuses(client, declaration):
    SignatureFactory(declaration=declaration, status="published", comment="ok\x01\x1fici")
    rows = _xlsx_rows(client, declaration)
    assert rows[1][10] == "okici"


# The rows, without a model instance per row.


def test_public_rows_give_what_public_row_gives(declaration, territories):
    networks = list(Network.objects.order_by("position"))
    made = [
        SignatureFactory(
            declaration=declaration,
            territory=territories["brest"],
            status="published",
            civility="madame",
            function="president",
            comment="Engagée",
        ),
        SignatureFactory(
            declaration=declaration,
            territory=territories["metropole"],
            status="published",
            function="autre",
            function_other="Déléguée à la coopération",
        ),
        SignatureFactory(
            declaration=declaration,
            status="published",
            civility="monsieur",
            function="conseiller",
            anonymised_at=datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC),
        ),
        SignatureFactory(declaration=declaration, status="published", function="maire"),
    ]
    made[0].networks.set(networks)
    made[1].networks.set(networks[1:2])
    signatures = published_signatures(declaration, {"sort": "nom"})
    expected = [public_row(signature) for signature in signatures]
    assert list(public_rows(signatures)) == expected
    assert {row["function"] for row in expected} >= {"Présidente", "Déléguée à la coopération"}
    assert "Signataire anonymisé·e" in {row["signatory"] for row in expected}
    assert set(expected[0]) == {key for key, _label in PUBLIC_COLUMNS}


def test_public_rows_follow_the_lists_filters_and_order(signed_declaration):
    for filters in ({}, {"sort": "population"}, {"network": "france-urbaine"}):
        signatures = published_signatures(signed_declaration, filters)
        assert [row["territory"] for row in public_rows(signatures)] == [
            s.territory.name for s in signatures
        ]


def test_exports_leave_out_unpublished_signatures(client, signed_declaration):
    assert Signature.objects.filter(declaration=signed_declaration).count() == 3
    assert len(_csv_rows(client, signed_declaration)) == 3  # header and the two published
    assert len(_xlsx_rows(client, signed_declaration)) == 3


# The cost does not grow with the rows.


@pytest.mark.parametrize("name", ["public:csv", "public:xlsx"])
def test_exports_cost_the_same_at_10_and_3000_signatures(client, declaration, name):
    url = reverse(name, args=[declaration.slug])

    def queries() -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"region": "RBULK", "network": "red"})
            b"".join(response.streaming_content)
        return len(captured)

    bulk_signatures(declaration, 10)
    small = queries()
    bulk_signatures(declaration, 2990, start=10)
    assert queries() == small
    # declaration; régions, départements and networks for the filters; the networks'
    # names; the rows, all in one query (a server-side cursor on PostgreSQL).
    assert small == 6


def test_whole_list_csv_is_made_once_per_version(
    client, signed_declaration, refresh_counts, django_assert_max_num_queries
):
    first = _csv_bytes(client, signed_declaration)
    with django_assert_max_num_queries(2):  # the declaration; the file comes from the cache
        assert _csv_bytes(client, signed_declaration) == first
    SignatureFactory(
        declaration=signed_declaration,
        status="published",
        territory=TerritoryFactory(name="Commune Nouvelle-Venue"),
    )
    refresh_counts(signed_declaration)  # a new version: the next download is made again
    assert "Commune Nouvelle-Venue" in _csv_bytes(client, signed_declaration).decode()


def test_filtered_csv_is_never_taken_from_the_whole_lists_copy(client, signed_declaration):
    _csv_bytes(client, signed_declaration)
    filtered = _csv_bytes(client, signed_declaration, region="53").decode()
    assert "Brest test" in filtered
    assert "Toulouse" not in filtered
