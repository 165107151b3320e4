"""SignatureForm's commitments: publication and news consents, the authority to commit
the territory, and the deliberation that proves it."""

import hashlib

from django import forms
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ..proof.fields import DeliberationField

PUBLICATION_CONSENT = _(
    "J'accepte que soient publiés sur ce site : le territoire, mes nom et prénom, ma "
    "fonction, les réseaux cochés, mon commentaire et la date de signature. Mon adresse "
    "e-mail et mon téléphone ne sont jamais publiés."
)


def consent_version() -> str:
    """A fingerprint of the consent's French wording, stored with each signature:
    it changes by itself whenever the text does."""
    with translation.override("fr"):
        return hashlib.sha256(str(PUBLICATION_CONSENT).encode()).hexdigest()[:12]


class ConsentForm(forms.Form):
    """What the signatory agrees to and vouches for."""

    consents_to_publication = forms.BooleanField(
        label=PUBLICATION_CONSENT,
        error_messages={"required": _("La signature est publique : votre accord est nécessaire.")},
    )
    consents_to_news = forms.BooleanField(
        label=_("J'accepte de recevoir des nouvelles de l'Alliance des territoires."),
        required=False,
    )
    deliberation = DeliberationField()
    declares_authorised = forms.BooleanField(
        label=_("Je suis habilité·e à engager ce territoire."),
        error_messages={
            "required": _(
                "Seule une personne habilitée peut engager le territoire : cochez cette case "
                "si c'est votre cas."
            )
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consents_to_publication"].help_text = format_html(
            '<a href="{}">{}</a>',
            reverse("public:privacy"),
            _("Ce qui est publié, ce qui ne l'est jamais, et vos droits"),
        )
