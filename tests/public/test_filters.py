"""public.filters: what the list, the CSV and the API let anyone filter, search and sort."""

import pytest

from public.filters import PUBLIC_COLUMNS, PublicFilterForm, public_row, published_signatures

pytestmark = pytest.mark.django_db


def _names(declaration, **params) -> list[str]:
    filters = PublicFilterForm(params).filters()
    return [signature.territory.name for signature in published_signatures(declaration, filters)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Brest test", "Toulouse Métropole test"]),  # newest first
        ({"q": "toulouse metropole"}, ["Toulouse Métropole test"]),
        ({"q": "MOUDENC"}, ["Toulouse Métropole test"]),  # signatory, accent-insensitive
        ({"kind": "commune"}, ["Brest test"]),
        ({"region": "76"}, ["Toulouse Métropole test"]),
        ({"departement": "29"}, ["Brest test"]),
        ({"network": "france-urbaine"}, ["Toulouse Métropole test"]),
        ({"sort": "population"}, ["Toulouse Métropole test", "Brest test"]),
        ({"sort": "nom"}, ["Brest test", "Toulouse Métropole test"]),
        ({"kind": "nimporte", "sort": "bizarre"}, ["Brest test", "Toulouse Métropole test"]),
    ],
)
def test_published_signatures_filters_searches_and_sorts(signed_declaration, params, expected):
    assert _names(signed_declaration, **params) == expected


def test_filter_form_leaves_out_invalid_and_empty_values(territories):
    form = PublicFilterForm({"q": "brest", "kind": "nimporte", "region": "", "sort": "bizarre"})
    assert form.filters() == {"q": "brest"}
    assert PublicFilterForm({"region": "76", "departement": "00"}).filters() == {"region": "76"}


def test_public_row_gives_the_public_fields_only(signed_declaration):
    brest = published_signatures(signed_declaration, {}).get(territory__name="Brest test")
    row = public_row(brest)
    assert set(row) == {key for key, _label in PUBLIC_COLUMNS}
    assert (row["territory"], row["kind"], row["departement"], row["region"]) == (
        "Brest test",
        "Commune",
        "Finistère",
        "Bretagne",
    )
    assert row["signatory"] == "Anne Kerdrel"
    assert "prive-2@brest.fr" not in row.values()
