"""The contact form: it validates and normalises, it sends nothing (see public.services)."""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from signatures.forms import FreeTextField, HoneypotForm, NameField
from signatures.text import normalise_email


class ContactSubject(models.TextChoices):
    SIGNATURE = "signature", _("Question sur une signature")
    PROBLEM = "problem", _("Signaler un problème")
    ACCESSIBILITY = "accessibility", _("Accessibilité")
    PRESS = "press", _("Presse")
    OTHER = "other", _("Autre")


class ContactForm(HoneypotForm):
    field_order = ("name", "email", "subject", "message", "website")

    name = NameField(
        label=_("Prénom et nom"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        max_length=254,
        help_text=_(
            "Pour vous répondre. Un accusé de réception y sera envoyé, sans reprendre votre "
            "message."
        ),
        error_messages={
            "invalid": _("Saisissez une adresse e-mail valide, par exemple prenom.nom@mairie.fr.")
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    subject = forms.ChoiceField(label=_("Objet"), choices=[("", "—"), *ContactSubject.choices])
    message = FreeTextField(
        label=_("Message"),
        multiline=True,
        max_length=5000,
        help_text=_("5 000 caractères au plus."),
        widget=forms.Textarea(attrs={"rows": 8, "maxlength": 5000}),
    )

    def clean_email(self):
        return normalise_email(self.cleaned_data["email"])

    def message_fields(self) -> dict[str, str]:
        """What the emails need, as plain strings (they travel through the broker)."""
        return {name: self.cleaned_data[name] for name in ("name", "email", "subject", "message")}
