"""The signing form: its parts (territory, signatory, on behalf, consent, robot checks)
validate each their own fields; this form brings them together, with what the
signatory verified through ProConnect."""

from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration

from ..models import Signature
from ..signing import Signatory
from .consent import ConsentForm, consent_version
from .on_behalf import OnBehalfForm
from .robots import FillTimeForm, HoneypotForm
from .signatory import SignatoryForm, require_function_other
from .territory import TerritoryChoiceForm


class SignatureForm(
    TerritoryChoiceForm, SignatoryForm, OnBehalfForm, ConsentForm, HoneypotForm, FillTimeForm
):
    """Validates a signature; the territory is either chosen in the referential
    or described by the signatory ("not listed")."""

    # The fields' order, that of the error summary: as it was when this was one class.
    field_order = [
        "territory_query",
        "territory",
        "not_listed",
        "unlisted_kind",
        "unlisted_name",
        "unlisted_siren",
        "unlisted_departement",
        "first_name",
        "last_name",
        "signer_role",
        "civility",
        "function",
        "function_other",
        "function_confirmed",
        "filler_first_name",
        "filler_last_name",
        "filler_function",
        "email",
        "phone",
        "networks",
        "comment",
        "consents_to_publication",
        "consents_to_news",
        "deliberation",
        "declares_authorised",
        "website",
        "started",
    ]
    # Short names for the error summary at the top of the page.
    SUMMARY_LABELS = {
        "territory": _("Territoire"),
        "consents_to_publication": _("Accord de publication"),
        "declares_authorised": _("Habilitation"),
    }

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

    def clean(self):
        cleaned = super().clean()
        require_function_other(self, cleaned)
        if self.identity:
            # The verified person: the signatory, or the filler when signing on behalf.
            prefix = "filler_" if self.is_on_behalf(cleaned) else ""
            cleaned[f"{prefix}first_name"] = self.identity["given_name"]
            cleaned[f"{prefix}last_name"] = self.identity["usual_name"]
            self.errors.pop(f"{prefix}first_name", None)
            self.errors.pop(f"{prefix}last_name", None)
        if self.is_on_behalf(cleaned):
            self._clean_filler(cleaned)
        is_chosen = self._clean_territory_choice(cleaned)
        territory = self.resolved_territory()
        # Whether the territory is already signed is the service's question, asked once
        # under a lock (signing.sign_declaration); the view shows its answer here.
        if is_chosen and territory is not None and territory.pk:
            self._check_function_fits(territory, cleaned)
        return cleaned

    def signatory(self) -> Signatory:
        data = self.cleaned_data
        on_behalf = self.is_on_behalf(data)
        is_other = data["function"] == Signature.Function.OTHER
        return Signatory(
            civility=data.get("civility", ""),
            signs_on_behalf=on_behalf,
            **{name: data[name] if on_behalf else "" for name in self.FILLER_FIELDS},
            declares_authorised=data["declares_authorised"],
            proconnect_siret=self.identity["siret"] if self.identity else "",
            first_name=data["first_name"],
            last_name=data["last_name"],
            function=data["function"],
            function_other=data["function_other"].strip() if is_other else "",
            email=data["email"],
            phone=data["phone"],
            comment=data["comment"].strip(),
            consents_to_news=data["consents_to_news"],
            fill_seconds=self.fill_seconds(),
            consent_version=consent_version(),
        )
