"""The forms of the moderators' own pages: the reason of a signature's or a
deliberation's refusal, the trending sources' question, and a source to invalidate."""

from django import forms
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration
from signatures.models import ModerationEvent, Signature

from .. import decisions


class ReasonForm(forms.Form):
    """A refusal's reason, from `reasons`, and its note: both are told to the signatory,
    so no reason is chosen in advance, and "other" needs the note."""

    reasons = ModerationEvent.Reason
    reason = forms.ChoiceField(label=_("Motif"))
    note = forms.CharField(
        label=_("Précisions (envoyées au signataire)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Choisir un motif…")), *self.reasons.choices]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == self.reasons.OTHER and not cleaned.get("note"):
            self.add_error("note", _("Précisez le motif."))
        return cleaned


class RejectForm(ReasonForm):
    """Why a signature is refused."""


class DeliberationRefusalForm(ReasonForm):
    """Why a signature's deliberation is refused."""

    reasons = Signature.DeliberationRefusal


class SourceForm(forms.Form):
    """The trending view's question: which declaration, over which recent window."""

    declaration = forms.ModelChoiceField(
        label=_("Déclaration"), queryset=Declaration.objects.all(), empty_label=None
    )
    hours = forms.TypedChoiceField(
        label=_("Sur les dernières"),
        coerce=int,
        choices=[
            (1, _("1 heure")),
            (24, _("24 heures")),
            (168, _("7 jours")),
            (720, _("30 jours")),
        ],
        initial=24,
    )


class InvalidationForm(forms.Form):
    """One source (an IP hash, an email domain or a user agent) in a time window."""

    declaration = forms.ModelChoiceField(queryset=Declaration.objects.all())
    field = forms.ChoiceField(
        choices=[
            ("ip_hash", _("empreinte d'adresse IP")),
            ("email_domain", _("domaine e-mail")),
            ("user_agent", _("navigateur (user agent)")),
        ]
    )
    value = forms.CharField(max_length=300)
    start = forms.DateTimeField(label=_("Du"))
    end = forms.DateTimeField(label=_("Au"))
    note = forms.CharField(label=_("Précisions (journal de modération)"), required=False)

    def matching(self):
        data = self.cleaned_data
        return Signature.objects.from_source(
            data["declaration"], data["field"], data["value"], data["start"], data["end"]
        ).filter(status__in=decisions.INVALIDATED_STATUSES)
