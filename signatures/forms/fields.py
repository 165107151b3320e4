"""Fields for what people type: ids in ASCII digits, free text, names."""

from django import forms
from django.utils.translation import gettext_lazy as _

from territories.validators import is_ascii_digits

from .. import text


def _is_id(value) -> bool:
    """A primary key written in ASCII digits only: int() would also read "١٢" as 12."""
    return is_ascii_digits(str(value)) and len(str(value)) < 19


class IdChoiceField(forms.ModelChoiceField):
    """A row by id, written in ASCII digits only: int() would also read "١٢" as 12."""

    def to_python(self, value):
        if value not in self.empty_values and not _is_id(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several rows by id, each in ASCII digits only (see IdChoiceField)."""

    def _check_values(self, value):
        for pk in value:
            if not _is_id(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class FreeTextField(forms.CharField):
    """Text as typed, in NFC, refusing invisible and control characters (see signatures.text)."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return text.clean_free_text(super().to_python(value), multiline=self.multiline)


class NameField(forms.CharField):
    """A name or a function: folded, one line, no link, markup or formula (see signatures.text)."""

    def to_python(self, value):
        return text.clean_name(super().to_python(value))


class PersonNameField(NameField):
    """A person's first or last name: a NameField that holds at least one letter."""

    def clean(self, value):
        value = " ".join(super().clean(value).split())
        if not any(c.isalpha() for c in value):
            raise forms.ValidationError(_("Indiquez un nom en lettres."))
        return value


def long_text_field(label, *, max_length: int, rows: int, **kwargs) -> FreeTextField:
    """Optional text on several lines, the browser held to the form's limit."""
    return FreeTextField(
        label=label,
        multiline=True,
        max_length=max_length,
        required=False,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": max_length}),
        **kwargs,
    )


def name_field(label, *, autocomplete: str, field_class=PersonNameField, **kwargs):
    """A first or last name of 100 characters at most, as browsers autofill it."""
    return field_class(
        label=label,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )
