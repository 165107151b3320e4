import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def luhn_is_valid(digits: str) -> bool:
    """Luhn checksum, as used by INSEE for SIREN numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def ascii_digits(value: str) -> str:
    """Every Unicode decimal digit ("３", "٣", "३") as its ASCII digit; other characters kept.

    Identifiers are compared and stored in ASCII: folding first means a SIREN typed
    with a phone's Arabic-Indic or full-width digits finds the same territory.
    """
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in value)


def is_ascii_digits(value: str) -> bool:
    """Only 0-9 (str.isdigit() also accepts "²" and every script's digits)."""
    return value.isascii() and value.isdigit()


def validate_siren(value: str) -> None:
    if not (len(value) == 9 and is_ascii_digits(value)):
        raise ValidationError(_("Le SIREN compte exactement 9 chiffres."), code="siren_format")
    if not luhn_is_valid(value):
        raise ValidationError(
            _("Ce numéro SIREN n'est pas valide : vérifiez les chiffres saisis."),
            code="siren_checksum",
        )
