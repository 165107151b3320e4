"""What the public may see of signatures: the filters, the query, the fields.

Shared by the live list, the CSV download and the API, so all three show the
same rows and never more than the public fields (no email, phone or IP).
"""

from django import forms
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration, Network
from signatures.models import Signature
from territories.models import Territory
from territories.normalize import normalize

PAGE_SIZE = 50

SORTS = {
    "recent": ("-published_at", "-pk"),
    "nom": ("territory__search_name", "pk"),
    "population": (F("territory__population").desc(nulls_last=True), "-pk"),
}

# Column names of the CSV, in order; the API uses the same keys in English.
PUBLIC_COLUMNS = [
    ("territory", _("territoire")),
    ("kind", _("type")),
    ("code", _("code officiel")),
    ("siren", _("SIREN")),
    ("departement", _("département")),
    ("region", _("région")),
    ("population", _("population")),
    ("signatory", _("signataire")),
    ("function", _("fonction")),
    ("networks", _("réseaux")),
    ("comment", _("commentaire")),
    ("published_at", _("date de publication")),
    ("verification", _("vérification")),
]


class PublicFilterForm(forms.Form):
    """GET parameters of the public list; an invalid value is ignored, never an error."""

    q = forms.CharField(label=_("Territoire ou signataire"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("Type de territoire"),
        required=False,
        choices=[("", _("Tous les types")), *Territory.Kind.choices],
    )
    region = forms.ChoiceField(label=_("Région"), required=False)
    departement = forms.ChoiceField(label=_("Département"), required=False)
    network = forms.ChoiceField(label=_("Réseau"), required=False)
    verification = forms.ChoiceField(
        label=_("Vérification"),
        required=False,
        choices=[("", _("Tous les niveaux")), *Signature.Verification.choices],
    )
    sort = forms.ChoiceField(
        label=_("Trier par"),
        required=False,
        choices=[
            ("recent", _("Les plus récentes")),
            ("nom", _("Nom du territoire")),
            ("population", _("Population")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        places = Territory.objects.filter(is_active=True).order_by("code")
        regions = places.filter(kind__in=[Territory.Kind.REGION, Territory.Kind.COM])
        departements = places.filter(kind__in=[Territory.Kind.DEPARTEMENT, Territory.Kind.COM])
        self.fields["region"].choices = [("", _("Toutes les régions"))] + [
            (r.code, r.name) for r in regions.order_by("name")
        ]
        self.fields["departement"].choices = [("", _("Tous les départements"))] + [
            (d.code, f"{d.code} – {d.name}") for d in departements
        ]
        self.fields["network"].choices = [("", _("Tous les réseaux"))] + [
            (n.slug, n.short_name) for n in Network.objects.order_by("position")
        ]

    def filters(self) -> dict:
        """The valid filters, by name; invalid or empty ones are left out."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value}


def published_signatures(declaration: Declaration, filters: dict) -> QuerySet:
    """Published signatures of the declaration, filtered and sorted, ready to display."""
    signatures = (
        Signature.objects.published()
        .filter(declaration=declaration)
        .select_related("territory__departement", "territory__region")
        .prefetch_related(Prefetch("networks", Network.objects.order_by("position")))
    )
    for word in normalize(filters.get("q", "")).split():
        signatures = signatures.filter(
            Q(territory__search_name__contains=word) | Q(signatory_search__contains=word)
        )
    if filters.get("kind"):
        signatures = signatures.filter(territory__kind=filters["kind"])
    if filters.get("region"):
        signatures = signatures.filter(territory__region__code=filters["region"])
    if filters.get("departement"):
        signatures = signatures.filter(territory__departement__code=filters["departement"])
    if filters.get("network"):
        signatures = signatures.filter(networks__slug=filters["network"])
    if filters.get("verification"):
        signatures = signatures.filter(verification=filters["verification"])
    return signatures.order_by(*SORTS[filters.get("sort") or "recent"])


def public_row(signature: Signature) -> dict:
    """The public fields of one signature; keys as in PUBLIC_COLUMNS."""
    territory = signature.territory
    published = signature.published_at
    return {
        "territory": territory.name,
        "kind": territory.get_kind_display(),
        "code": territory.code,
        "siren": territory.siren or "",
        "departement": territory.departement.name if territory.departement else "",
        "region": territory.region.name if territory.region else "",
        "population": territory.population,
        "signatory": signature.full_name,
        "function": signature.function_label,
        "networks": [n.short_name for n in signature.networks.all()],
        "comment": signature.comment,
        "published_at": timezone.localtime(published).isoformat() if published else None,
        "verification": signature.get_verification_display(),
    }
