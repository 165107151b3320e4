"""What tells a script from a person, for moderators: a field only robots fill, and
how long the form took to fill."""

import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

STARTED_SALT = "signatures.form-started"


def started_stamp() -> str:
    """When the form was shown, signed: how long filling it took is a moderation hint."""
    return signing.dumps(time.time(), salt=STARTED_SALT)


class HoneypotForm(forms.Form):
    """A field invisible to people (hidden by CSS and from screen readers), filled by bots."""

    website = forms.CharField(
        required=False,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class FillTimeForm(forms.Form):
    """When the form was first shown, signed: how long filling it took is a moderation hint."""

    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = started_stamp()

    def elapsed_seconds(self) -> float | None:
        """Time since the form was first shown; None when the stamp is missing or forged."""
        try:
            started = signing.loads(
                self.cleaned_data.get("started", ""), salt=STARTED_SALT, max_age=86400
            )
            return max(0.0, time.time() - float(started))
        except (signing.BadSignature, TypeError, ValueError):
            return None

    def fill_seconds(self) -> int | None:
        """Whole seconds spent on the form, as stored for moderators."""
        elapsed = self.elapsed_seconds()
        return None if elapsed is None else int(elapsed)
