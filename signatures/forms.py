import hashlib
import re
import time
from urllib.parse import urlencode

from django import forms
from django.core import signing
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration, Network
from territories.models import Territory
from territories.validators import ascii_digits, is_ascii_digits, validate_siren

from . import text
from .models import Signature, function_fits
from .proof.fields import DeliberationField
from .services import Contester, Signatory, UnlistedTerritory
from .text import normalise_email

STARTED_SALT = "signatures.form-started"


def started_stamp() -> str:
    """When the form was shown, signed: how long filling it took is a moderation hint."""
    return signing.dumps(time.time(), salt=STARTED_SALT)


SELF, ON_BEHALF = "self", "executive"
PHONE_ALLOWED = re.compile(r"^\+?[0-9 .()\-]{6,25}$")


def consent_version() -> str:
    """A fingerprint of the consent's French wording, stored with each signature:
    it changes by itself whenever the text does."""
    with translation.override("fr"):
        return hashlib.sha256(str(PUBLICATION_CONSENT).encode()).hexdigest()[:12]


PUBLICATION_CONSENT = _(
    "J'accepte que soient publiés sur ce site : le territoire, mes nom et prénom, ma "
    "fonction, les réseaux cochés, mon commentaire et la date de signature. Mon adresse "
    "e-mail et mon téléphone ne sont jamais publiés."
)


class IdChoiceField(forms.ModelChoiceField):
    """A row by id, written in ASCII digits only: int() would also read "١٢" as 12."""

    def to_python(self, value):
        if value not in self.empty_values and not (
            is_ascii_digits(str(value)) and len(str(value)) < 19
        ):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several rows by id, each in ASCII digits only (see IdChoiceField)."""

    def _check_values(self, value):
        for pk in value:
            if not (is_ascii_digits(str(pk)) and len(str(pk)) < 19):
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


class SignatureForm(forms.Form):
    """Validates a signature; the territory is either chosen in the referential
    or described by the signatory ("not listed")."""

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

    first_name = NameField(
        label=_("Prénom"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = NameField(
        label=_("Nom"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
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
    filler_first_name = NameField(
        label=_("Votre prénom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    filler_last_name = NameField(
        label=_("Votre nom"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    filler_function = NameField(
        label=_("Votre fonction"),
        max_length=150,
        required=False,
        help_text=_("Par exemple : directrice de cabinet."),
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
    comment = FreeTextField(
        label=_("Commentaire public (facultatif)"),
        multiline=True,
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}),
        help_text=_("500 caractères au plus."),
    )
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
    # Invisible to people (hidden by CSS and from screen readers), filled by bots.
    website = forms.CharField(
        required=False,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    # When the form was first shown, signed: how long filling it took is a moderation hint.
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, declaration: Declaration, identity: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.declaration = declaration
        # What ProConnect verified: the email is locked to it; the names are the
        # signatory's (or, on behalf of the executive, the filler's), see clean().
        self.identity = identity
        if identity:
            email = self.fields["email"]
            email.disabled = True
            email.initial = identity["email"]
            email.help_text = _("Vérifiée par ProConnect : aucun e-mail de confirmation.")
            for name, claim in (("first_name", "given_name"), ("last_name", "usual_name")):
                self.fields[name].initial = identity[claim]
        self.fields["networks"].queryset = Network.objects.order_by("position")
        self.fields["started"].initial = started_stamp()
        self.show_function_confirmation = bool(self.data.get("function_confirmed"))
        self.fields["consents_to_publication"].help_text = format_html(
            '<a href="{}">{}</a>',
            reverse("public:privacy"),
            _("Ce qui est publié, ce qui ne l'est jamais, et vos droits"),
        )

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

    # Short names for the error summary at the top of the page.
    SUMMARY_LABELS = {
        "territory": _("Territoire"),
        "consents_to_publication": _("Accord de publication"),
        "declares_authorised": _("Habilitation"),
    }

    def error_summary(self) -> list[tuple[str, str, str]]:
        """(anchor id, field name, message) for each error, in the form's order."""
        summary = []
        for field in self:
            anchor = {
                "territory": "id_territory_query",
                "function": "id_function_0",
            }.get(field.name, field.id_for_label)
            label = self.SUMMARY_LABELS.get(field.name, field.label)
            summary.extend((anchor, label, error) for error in field.errors)
        return summary

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    UNLISTED_FIELDS = ("unlisted_kind", "unlisted_name", "unlisted_siren", "unlisted_departement")
    FILLER_FIELDS = ("filler_first_name", "filler_last_name", "filler_function")

    def _has_value(self, names) -> bool:
        """Whether one of these fields holds something, as sent or as kept by a search."""
        return any(str(self[name].value() or "").strip() for name in names)

    def _holds_something(self, names) -> bool:
        return self._has_value(names) or any(self[name].errors for name in names)

    def is_unlisted_open(self) -> bool:
        """The "not listed" panel stays open when it was, or holds a value or an error:
        nothing typed is ever folded away."""
        return bool(self["not_listed"].value()) or self._holds_something(self.UNLISTED_FIELDS)

    def is_on_behalf_open(self) -> bool:
        return self["signer_role"].value() == ON_BEHALF or self._holds_something(
            self.FILLER_FIELDS
        )

    def clean_first_name(self):
        return _clean_person_name(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _clean_person_name(self.cleaned_data["last_name"])

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

    def clean_unlisted_siren(self):
        # Folded before any lookup: "３１…" and "٣١…" are the same SIREN as "31…".
        return ascii_digits(re.sub(r"\s", "", self.cleaned_data["unlisted_siren"]))

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("function") == Signature.Function.OTHER
            and not cleaned.get("function_other", "").strip()
        ):
            self.add_error("function_other", _("Précisez votre fonction."))
        if self.identity:
            # The verified person: the signatory, or the filler when signing on behalf.
            prefix = "filler_" if cleaned.get("signer_role") == ON_BEHALF else ""
            cleaned[f"{prefix}first_name"] = self.identity["given_name"]
            cleaned[f"{prefix}last_name"] = self.identity["usual_name"]
            self.errors.pop(f"{prefix}first_name", None)
            self.errors.pop(f"{prefix}last_name", None)
        if cleaned.get("signer_role") == ON_BEHALF:
            self._clean_filler(cleaned)
        is_chosen = self._clean_territory_choice(cleaned)
        territory = self.resolved_territory()
        # Whether the territory is already signed is the service's question, asked once
        # under a lock (services.sign_declaration); the view shows its answer here.
        if is_chosen and territory is not None and territory.pk:
            self._check_function_fits(territory, cleaned)
        return cleaned

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

    def _clean_filler(self, cleaned):
        required = {
            "filler_first_name": _("Indiquez votre prénom."),
            "filler_last_name": _("Indiquez votre nom."),
            "filler_function": _("Indiquez votre fonction."),
        }
        for name, message in required.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)

    def _check_function_fits(self, territory, cleaned):
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

    def _clean_unlisted(self, cleaned):
        required = {
            "unlisted_kind": _("Choisissez le type de territoire."),
            "unlisted_name": _("Indiquez le nom du territoire."),
            "unlisted_siren": _("Indiquez le SIREN du territoire."),
            "unlisted_departement": _("Choisissez le département."),
        }
        for name, message in required.items():
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
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

    def signatory(self) -> Signatory:
        data = self.cleaned_data
        on_behalf = data.get("signer_role") == ON_BEHALF
        return Signatory(
            civility=data.get("civility", ""),
            signs_on_behalf=on_behalf,
            filler_first_name=data["filler_first_name"] if on_behalf else "",
            filler_last_name=data["filler_last_name"] if on_behalf else "",
            filler_function=data["filler_function"] if on_behalf else "",
            declares_authorised=data["declares_authorised"],
            proconnect_siret=self.identity["siret"] if self.identity else "",
            first_name=data["first_name"],
            last_name=data["last_name"],
            function=data["function"],
            function_other=data["function_other"].strip()
            if data["function"] == Signature.Function.OTHER
            else "",
            email=data["email"],
            phone=data["phone"],
            comment=data["comment"].strip(),
            consents_to_news=data["consents_to_news"],
            fill_seconds=self.fill_seconds(),
            consent_version=consent_version(),
        )


def _clean_person_name(value: str) -> str:
    value = " ".join(value.split())
    if not any(c.isalpha() for c in value):
        raise forms.ValidationError(_("Indiquez un nom en lettres."))
    return value


def already_signed_message(declaration: Declaration, live: Signature):
    """Says when, links to the public entry and to the contest form; never which address signed."""
    territory = live.territory
    signed_on = (
        formats.date_format(timezone.localtime(live.confirmed_at), "j F Y")
        if live.confirmed_at
        else ""
    )
    contest = format_html(
        '<a href="{}">{}</a>',
        reverse("signatures:contest", kwargs={"public_id": live.public_id}),
        _("Ce n'est pas nous ? Signalez-le aux modérateurs"),
    )
    if live.status == Signature.Status.PUBLISHED:
        url = reverse("public:list", kwargs={"slug": declaration.slug})
        return format_html(
            '{} <a href="{}?{}#signature-{}">{}</a>. {} {}',
            _("%(territory)s a déjà signé la déclaration le %(date)s, par %(signatory)s.")
            % {
                "territory": territory.name,
                "date": signed_on,
                "signatory": live.public_signatory,
            },
            url,
            urlencode({"q": territory.name}),
            live.public_id,
            _("Voir sa signature publique"),
            contest,
            _write_to_the_team(),
        )
    return format_html(
        "{} {} {}",
        _(
            "%(territory)s a déjà signé la déclaration le %(date)s ; "
            "la signature est en cours de vérification."
        )
        % {"territory": territory.name, "date": signed_on},
        contest,
        _write_to_the_team(),
    )


def _write_to_the_team():
    return format_html('<a href="{}">{}</a>', reverse("public:contact"), _("Écrire à l'équipe"))


class ContestForm(forms.Form):
    """ "Ce n'est pas nous ?": an official says a signature does not come from their territory."""

    first_name = SignatureForm.base_fields["first_name"]
    last_name = SignatureForm.base_fields["last_name"]
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
    message = FreeTextField(
        label=_("Ce que vous savez de cette signature (facultatif)"),
        multiline=True,
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
    )
    website = forms.CharField(
        required=False,
        label=_("Ne pas remplir ce champ"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_first_name(self):
        return _clean_person_name(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _clean_person_name(self.cleaned_data["last_name"])

    @property
    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))

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

    first_name = SignatureForm.base_fields["first_name"]
    last_name = SignatureForm.base_fields["last_name"]
    function = SignatureForm.base_fields["function"]
    function_other = SignatureForm.base_fields["function_other"]
    comment = SignatureForm.base_fields["comment"]

    def clean_first_name(self):
        return _clean_person_name(self.cleaned_data["first_name"])

    def clean_last_name(self):
        return _clean_person_name(self.cleaned_data["last_name"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("function") == Signature.Function.OTHER:
            if not cleaned.get("function_other", "").strip():
                self.add_error("function_other", _("Précisez votre fonction."))
        elif "function_other" in cleaned:
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
