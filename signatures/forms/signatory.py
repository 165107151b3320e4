"""SignatureForm's signatory: who they are, their function, how to reach them, what
they add to the public list."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from declarations.models import Network
from territories.models import Territory
from territories.validators import ascii_digits

from ..models import Signature, function_fits
from ..text import normalise_email
from .fields import FreeTextField, IdMultipleChoiceField, NameField, long_text_field, name_field

PHONE_ALLOWED = re.compile(r"^\+?[0-9 .()\-]{6,25}$")


def require_function_other(form: forms.Form, cleaned: dict) -> None:
    """ "Autre" needs its wording."""
    if (
        cleaned.get("function") == Signature.Function.OTHER
        and not cleaned.get("function_other", "").strip()
    ):
        form.add_error("function_other", _("Précisez votre fonction."))


class SignatoryForm(forms.Form):
    """The person named on the public list, and their private contact details."""

    first_name = name_field(_("Prénom"), autocomplete="given-name")
    last_name = name_field(_("Nom"), autocomplete="family-name")
    civility = forms.ChoiceField(
        label=_("Civilité"),
        choices=[("", _("Non précisée")), *Signature.Civility.choices],
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Pour que la liste publique se lise bien : « Madame la Maire »."),
    )
    function = forms.ChoiceField(
        label=_("Fonction ou mandat"), choices=Signature.Function.choices, widget=forms.RadioSelect
    )
    # Labelled for its one option: without JavaScript it shows whatever function is chosen.
    function_other = NameField(
        label=_("Autre fonction : précisez laquelle"), max_length=150, required=False
    )
    function_confirmed = forms.BooleanField(
        label=_("Je confirme cette fonction pour ce territoire"), required=False
    )
    email = forms.EmailField(
        label=_("Adresse e-mail professionnelle"),
        error_messages={
            "invalid": _("Saisissez une adresse e-mail valide, par exemple prenom.nom@mairie.fr.")
        },
        help_text=_("Un lien de confirmation y sera envoyé. Elle ne sera jamais publiée."),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = FreeTextField(
        label=_("Téléphone (facultatif)"),
        max_length=25,
        required=False,
        help_text=_("Jamais publié."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    networks = IdMultipleChoiceField(
        label=_("Votre territoire est membre de"),
        queryset=Network.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    comment = long_text_field(
        _("Commentaire public (facultatif)"),
        max_length=500,
        rows=3,
        help_text=_("500 caractères au plus."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["networks"].queryset = Network.objects.order_by("position")
        self.show_function_confirmation = bool(self.data.get("function_confirmed"))

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def clean_phone(self):
        phone = ascii_digits(self.cleaned_data["phone"].strip())
        digits = re.sub(r"\D", "", phone)
        if phone and (not PHONE_ALLOWED.match(phone) or not 9 <= len(digits) <= 15):
            raise forms.ValidationError(
                _("Numéro de téléphone invalide. Exemple : 05 61 22 29 22 ou +33 5 61 22 29 22.")
            )
        return phone

    def _check_function_fits(self, territory: Territory, cleaned: dict) -> None:
        """A "Maire" for an EPCI, a "Président·e" for a commune: asks to confirm, once."""
        function = cleaned.get("function")
        if (
            function
            and not cleaned.get("function_confirmed")
            and not function_fits(function, territory.kind)
        ):
            self.add_error(
                "function",
                _(
                    "« %(function)s » est inhabituel pour un territoire de type %(kind)s. "
                    "Choisissez une autre fonction, ou cochez « Je confirme cette fonction "
                    "pour ce territoire »."
                )
                % {
                    "function": dict(Signature.Function.choices)[function],
                    "kind": territory.get_kind_display(),
                },
            )
            self.show_function_confirmation = True
