import pytest

from territories.normalize import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saint-Étienne Métropole", "saint etienne metropole"),
        ("SAINT ÉTIENNE", "saint etienne"),
        ("Œuilly", "oeuilly"),
        ("Lænnec", "laennec"),
        ("Straße", "strasse"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("Villeneuve-d’Ascq", "villeneuve d ascq"),
        ("  Bourg--en  Bresse ! ", "bourg en bresse"),
        ("", ""),
    ],
)
def test_normalize_folds_case_accents_ligatures_and_punctuation(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("St-Étienne", "saint etienne"),
        ("Ste Marie", "sainte marie"),
        ("Sts-Geosmes", "saints geosmes"),
        ("Stes-Maries-de-la-Mer", "saintes maries de la mer"),
        ("Stenay", "stenay"),
        ("Pont-St-Esprit", "pont saint esprit"),
    ],
)
def test_normalize_expands_saint_abbreviations_as_whole_words(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    "typed", ["42000", "４２０００", "٤٢٠٠٠", "۴۲۰۰۰", "४२०००", "৪২০০০"], ids=repr
)
def test_digits_of_every_script_normalise_to_ascii(typed):
    assert normalize(typed) == "42000"
