import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from territories.validators import validate_siren


@pytest.mark.parametrize("siren", ["243100518", "213105554"])
def test_validate_siren_accepts_real_sirens(siren):
    validate_siren(siren)


@pytest.mark.parametrize(
    ("siren", "code", "message"),
    [
        ("24310051", "siren_format", "Le SIREN compte exactement 9 chiffres."),
        ("2431005180", "siren_format", "Le SIREN compte exactement 9 chiffres."),
        ("24310051A", "siren_format", "Le SIREN compte exactement 9 chiffres."),
        (
            "243100519",
            "siren_checksum",
            "Ce numéro SIREN n'est pas valide : vérifiez les chiffres saisis.",
        ),
    ],
)
def test_validate_siren_rejects_with_a_french_message(siren, code, message):
    with translation.override("fr"), pytest.raises(ValidationError) as excinfo:
        validate_siren(siren)

    assert excinfo.value.code == code
    assert excinfo.value.messages == [message]
