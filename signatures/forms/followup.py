"""The forms after signing: a contest of someone else's signature, a request for links
by email, and the signatory's own corrections and deliberation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Signature
from ..proof.fields import DeliberationField
from ..services import Contester
from .fields import NameField, long_text_field
from .robots import HoneypotForm
from .signatory import SignatoryForm, require_function_other


class ContestForm(HoneypotForm):
    """ "Ce n'est pas nous ?": an official says a signature does not come from their territory."""

    first_name = SignatoryForm.base_fields["first_name"]
    last_name = SignatoryForm.base_fields["last_name"]
    function = NameField(
        label=_("Fonction"),
        max_length=150,
        help_text=_("Par exemple : maire, directeur général des services, président·e."),
    )
    email = forms.EmailField(
        label=_("Adresse e-mail officielle"),
        max_length=254,
        help_text=_(
            "Une adresse de la collectivité : les modérateurs vous répondront à celle-ci."
        ),
        error_messages={"invalid": _("Saisissez une adresse e-mail valide.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    message = long_text_field(
        _("Ce que vous savez de cette signature (facultatif)"), max_length=1000, rows=4
    )

    def contester(self) -> Contester:
        data = self.cleaned_data
        return Contester(
            first_name=data["first_name"],
            last_name=data["last_name"],
            function=data["function"],
            email=data["email"],
            message=data["message"].strip(),
        )


class ResendForm(forms.Form):
    """An address used to sign: for a new confirmation link, or a new "manage" link."""

    email = forms.EmailField(
        label=_("Adresse e-mail utilisée pour signer"),
        max_length=254,
        error_messages={"invalid": _("Saisissez une adresse e-mail valide.")},
    )


class CorrectionForm(forms.Form):
    """What a signatory may correct: the public name, function and comment."""

    first_name = SignatoryForm.base_fields["first_name"]
    last_name = SignatoryForm.base_fields["last_name"]
    function = SignatoryForm.base_fields["function"]
    function_other = SignatoryForm.base_fields["function_other"]
    comment = SignatoryForm.base_fields["comment"]

    def clean(self):
        cleaned = super().clean()
        require_function_other(self, cleaned)
        if cleaned.get("function") != Signature.Function.OTHER and "function_other" in cleaned:
            cleaned["function_other"] = ""
        if "comment" in cleaned:
            cleaned["comment"] = cleaned["comment"].strip()
        return cleaned


class DeliberationForm(forms.Form):
    """A council deliberation or mandate attached later, from the manage page."""

    deliberation = DeliberationField()

    def clean_deliberation(self):
        upload = self.cleaned_data["deliberation"]
        if not upload:
            raise forms.ValidationError(_("Choisissez le fichier PDF à joindre."))
        return upload
