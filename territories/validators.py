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


def validate_siren(value: str) -> None:
    if not (len(value) == 9 and value.isdigit()):
        raise ValidationError(_("Le SIREN compte exactement 9 chiffres."), code="siren_format")
    if not luhn_is_valid(value):
        raise ValidationError(
            _("Ce numéro SIREN n'est pas valide : vérifiez les chiffres saisis."),
            code="siren_checksum",
        )
