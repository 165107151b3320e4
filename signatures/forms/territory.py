"""SignatureForm's territory: chosen in the referential, or described by the signatory
because it is not listed."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from territories.models import Territory
from territories.validators import ascii_digits, validate_siren

from ..unlisted import UnlistedTerritory
from .fields import FreeTextField, IdChoiceField, NameField
from .parts import PartForm


class TerritoryChoiceForm(PartForm):
    """Which territory signs: one of the list, or one the signatory describes."""

    territory_query = FreeTextField(
        label=_("Rechercher votre territoire"),
        help_text=_("Nom, code postal, code INSEE ou SIREN. Exemple : « Toulouse », « 42000 »."),
        required=False,
        max_length=100,
    )
    territory = IdChoiceField(
        label=_("Territoire"),
        queryset=Territory.objects.filter(is_active=True),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Ce territoire n'existe pas dans le référentiel.")},
    )
    # Not rendered: static/js/sign-form.js sends it while the "not listed" panel is open.
    # Filling one of the panel's fields says the same, with or without JavaScript.
    not_listed = forms.BooleanField(
        label=_("Mon territoire n'est pas dans la liste"), required=False
    )
    unlisted_kind = forms.ChoiceField(
        label=_("Type de territoire"),
        choices=[("", "—")] + [(k.value, k.label) for k in Territory.UNLISTED_KINDS],
        required=False,
    )
    unlisted_name = NameField(label=_("Nom du territoire"), max_length=200, required=False)
    unlisted_siren = forms.CharField(
        label=_("SIREN du territoire"),
        help_text=_("9 chiffres, sur l'avis de situation SIRENE de la structure."),
        max_length=11,
        required=False,
    )
    unlisted_departement = IdChoiceField(
        label=_("Département"),
        queryset=Territory.objects.filter(
            kind__in=[Territory.Kind.DEPARTEMENT, Territory.Kind.COM], is_active=True
        ).order_by("code"),
        required=False,
    )

    UNLISTED_FIELDS = ("unlisted_kind", "unlisted_name", "unlisted_siren", "unlisted_departement")

    def is_unlisted_open(self) -> bool:
        """The "not listed" panel stays open when it was, or holds a value or an error:
        nothing typed is ever folded away."""
        return bool(self["not_listed"].value()) or self._holds_something(self.UNLISTED_FIELDS)

    def clean_unlisted_siren(self):
        # Folded before any lookup: "３１…" and "٣١…" are the same SIREN as "31…".
        return ascii_digits(re.sub(r"\s", "", self.cleaned_data["unlisted_siren"]))

    def _clean_territory_choice(self, cleaned) -> bool:
        """Which way the territory is named, recorded as cleaned["not_listed"]; False when
        neither or both.

        Filling the "not listed" panel is the choice, and so is opening it (not_listed,
        sent by sign-form.js) while no territory of the list is chosen: people used to
        fill the panel without ticking a box, and the form ignored what they typed.
        """
        is_listed = cleaned.get("territory") is not None or "territory" in self.errors
        is_described = self._has_value(self.UNLISTED_FIELDS) or (
            bool(cleaned.get("not_listed")) and not is_listed
        )
        cleaned["not_listed"] = is_described and not is_listed
        if is_listed and is_described:
            # Guessing would sign for a territory the person may not mean: ask, keep both.
            self.add_error(
                "territory",
                _(
                    "Vous avez choisi un territoire dans la liste et rempli aussi « Mon "
                    "territoire n'est pas dans la liste ». Gardez l'un des deux : videz les "
                    "champs de ce cadre, ou effacez le territoire choisi."
                ),
            )
            return False
        if is_described:
            self._clean_unlisted(cleaned)
        elif not is_listed:
            self.add_error(
                "territory",
                _("Choisissez votre territoire dans la liste, ou indiquez qu'il n'y figure pas."),
            )
        return True

    def _clean_unlisted(self, cleaned):
        self._require(
            cleaned,
            {
                "unlisted_kind": _("Choisissez le type de territoire."),
                "unlisted_name": _("Indiquez le nom du territoire."),
                "unlisted_siren": _("Indiquez le SIREN du territoire."),
                "unlisted_departement": _("Choisissez le département."),
            },
        )
        if cleaned.get("unlisted_siren"):
            try:
                validate_siren(cleaned["unlisted_siren"])
            except forms.ValidationError as error:
                self.add_error("unlisted_siren", error)

    def resolved_territory(self) -> Territory | None:
        """The chosen territory, or the known one behind an unlisted SIREN, or None."""
        cleaned = getattr(self, "cleaned_data", {})
        if not cleaned.get("not_listed"):
            return cleaned.get("territory")
        siren = cleaned.get("unlisted_siren")
        return Territory.objects.filter(siren=siren).first() if siren else None

    def add_territory_error(self, message) -> None:
        """On the field the signatory used to name the territory."""
        field = "unlisted_siren" if self.cleaned_data.get("not_listed") else "territory"
        self.add_error(field, message)

    def territory_to_sign(self) -> Territory | UnlistedTerritory:
        data = self.cleaned_data
        if not data["not_listed"]:
            return data["territory"]
        return UnlistedTerritory(
            kind=data["unlisted_kind"],
            name=data["unlisted_name"],
            siren=data["unlisted_siren"],
            departement=data["unlisted_departement"],
        )
