"""SignatureForm's "on behalf of the executive": who fills the form when it is not the
elected official named on the public list."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .fields import NameField, name_field
from .parts import PartForm

SELF, ON_BEHALF = "self", "executive"


class OnBehalfForm(PartForm):
    """The signer's role, and the filler's name and function when signing on behalf."""

    signer_role = forms.ChoiceField(
        label=_("Qui signe ?"),
        choices=[
            (SELF, _("Moi-même, en tant qu'élu·e de l'exécutif")),
            (ON_BEHALF, _("Au nom de l'exécutif de la collectivité (cabinet, services…)")),
        ],
        initial=SELF,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Au nom de l'exécutif : la liste publique affiche l'exécutif ; votre nom, votre "
            "fonction et votre adresse restent connus des seuls modérateurs."
        ),
    )
    filler_first_name = name_field(
        _("Votre prénom"), autocomplete="given-name", field_class=NameField, required=False
    )
    filler_last_name = name_field(
        _("Votre nom"), autocomplete="family-name", field_class=NameField, required=False
    )
    filler_function = NameField(
        label=_("Votre fonction"),
        max_length=150,
        required=False,
        help_text=_("Par exemple : directrice de cabinet."),
    )

    FILLER_FIELDS = ("filler_first_name", "filler_last_name", "filler_function")

    def is_on_behalf(self, cleaned: dict) -> bool:
        return cleaned.get("signer_role") == ON_BEHALF

    def is_on_behalf_open(self) -> bool:
        return self["signer_role"].value() == ON_BEHALF or self._holds_something(
            self.FILLER_FIELDS
        )

    def _clean_filler(self, cleaned: dict) -> None:
        self._require(
            cleaned,
            {
                "filler_first_name": _("Indiquez votre prénom."),
                "filler_last_name": _("Indiquez votre nom."),
                "filler_function": _("Indiquez votre fonction."),
            },
        )
