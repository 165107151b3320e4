"""What the public may see of signatures: the filters, the query, the fields.

Shared by the live list, the CSV and XLSX downloads and the API, so all show
the same rows and never more than the public fields (no email, phone or IP).
"""

from collections.abc import Iterator

from django import forms
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.models import Declaration, Network
from signatures.models import GENDERED_FUNCTIONS, Signature
from territories.models import Territory
from territories.normalize import normalize

PAGE_SIZE = 50

SORTS = {
    "recent": ("-published_at", "-pk"),
    "nom": ("territory__search_name", "pk"),
    "population": (F("territory__population").desc(nulls_last=True), "-pk"),
}

# The filters that narrow the rows; `sort` only orders them.
ROW_FILTERS = ("q", "kind", "region", "departement", "network", "verification")

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
        places = Territory.objects.filter(is_active=True)
        regions = places.filter(kind__in=[Territory.Kind.REGION, Territory.Kind.COM])
        self.fields["region"].choices = [
            ("", _("Toutes les régions")),
            *regions.order_by("name").values_list("code", "name"),
        ]
        # Every département with its région's code: the narrowed choices below, and the
        # options the list's script puts back when the région changes (a COM is its own).
        self.departement_options = [
            (code, f"{code} – {name}", region_code or "")
            for code, name, region_code in places.filter(
                kind__in=[Territory.Kind.DEPARTEMENT, Territory.Kind.COM]
            )
            .order_by("code")
            .values_list("code", "name", "region__code")
        ]
        # A région narrows the départements offered; one out of it is then ignored.
        region = self.data.get("region")
        if not any(region == code for code, _label in self.fields["region"].choices[1:]):
            region = None
        self.fields["departement"].choices = [
            ("", _("Tous les départements")),
            *(
                (code, label)
                for code, label, region_code in self.departement_options
                if region is None or region_code == region
            ),
        ]
        self.fields["network"].choices = [
            ("", _("Tous les réseaux")),
            *Network.objects.order_by("position").values_list("slug", "short_name"),
        ]

    def filters(self) -> dict:
        """The valid filters, by name; invalid or empty ones are left out."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value}


def narrows(filters: dict) -> bool:
    """Whether the filters leave out some signatures (sorting leaves none out)."""
    return any(filters.get(name) for name in ROW_FILTERS)


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


# What `public_rows` reads of each signature: the public fields and what names them.
_ROW_FIELDS = (
    "territory__name",
    "territory__kind",
    "territory__code",
    "territory__siren",
    "territory__departement__name",
    "territory__region__name",
    "territory__population",
    "first_name",
    "last_name",
    "anonymised_at",
    "civility",
    "function",
    "function_other",
    "comment",
    "published_at",
    "verification",
)


def public_rows(signatures: QuerySet, *, chunk_size: int = 2000) -> Iterator[dict]:
    """The public fields of each signature, as `public_row` gives them, for the exports.

    One query however many rows, and no model instance per row: plain values read
    through `.iterator()` (a server-side cursor on PostgreSQL), each network as an
    EXISTS column. The names are put together as `Signature.full_name` and
    `function_label` do; tests/public/test_exports.py checks both ways agree.
    """
    networks = list(Network.objects.order_by("position").values_list("pk", "short_name"))
    links = Signature.networks.through.objects
    membership = {
        f"network_{pk}": Exists(links.filter(signature_id=OuterRef("pk"), network_id=pk))
        for pk, _name in networks
    }
    # Labels translated once, not once a row (lazy strings cost a catalogue lookup each).
    kinds = {value: str(label) for value, label in Territory.Kind.choices}
    functions = {value: str(label) for value, label in Signature.Function.choices}
    gendered = {key: str(label) for key, label in GENDERED_FUNCTIONS.items()}
    levels = {value: str(label) for value, label in Signature.Verification.choices}
    anonymous = str(_("Signataire anonymisé·e"))
    paris = timezone.get_current_timezone()  # looked up once: a context-local read per row
    values = (
        signatures.prefetch_related(None).annotate(**membership).values(*_ROW_FIELDS, *membership)
    )
    for row in values.iterator(chunk_size=chunk_size):
        function = row["function"]
        if function == Signature.Function.OTHER and row["function_other"]:
            function_label = row["function_other"]
        else:
            function_label = gendered.get((row["civility"], function)) or functions.get(
                function, function
            )
        published = row["published_at"]
        yield {
            "territory": row["territory__name"],
            "kind": kinds.get(row["territory__kind"], row["territory__kind"]),
            "code": row["territory__code"],
            "siren": row["territory__siren"] or "",
            "departement": row["territory__departement__name"] or "",
            "region": row["territory__region__name"] or "",
            "population": row["territory__population"],
            "signatory": anonymous
            if row["anonymised_at"]
            else f"{row['first_name']} {row['last_name']}",
            "function": function_label,
            "networks": [name for pk, name in networks if row[f"network_{pk}"]],
            "comment": row["comment"],
            "published_at": published.astimezone(paris).isoformat() if published else None,
            "verification": levels.get(row["verification"], row["verification"]),
        }
