"""The open API, read-only JSON: declarations, their counts, their published signatures.

Public data only: signatures go through `public.public_row`, counts come from
the stats snapshot (`stats.stats_for`), never from the table. Every answer
carries an ETag built from the snapshot's version and the exact request, so a
client polling an unchanged resource gets a 304 before anything is rendered.
"""

import datetime
import hashlib

from django.conf import settings
from django.core import signing
from django.db.models import Prefetch, Q, QuerySet, Subquery, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.text import format_lazy
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Query, Schema
from ninja.errors import HttpError, ValidationError
from ninja.renderers import JSONRenderer

from core import pagecache
from declarations.models import Declaration, DemandGroup, Network
from signatures.models import Signature, SignatureStats
from signatures.stats import stats_for
from territories.models import Territory

from .filters import PublicFilterForm, public_row, published_signatures

CACHE_SECONDS = 10  # the counts refresh every 5 s; clients and proxies may reuse 10 s
CURSOR_SALT = "signatures.api.cursor"
FILTERS = ("q", "kind", "region", "departement", "network", "verification")


class ReadableJSONRenderer(JSONRenderer):
    """Accented letters as they are, not ASCII escapes: French stays legible in a terminal."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    title="Alliance des territoires — API ouverte",
    version="1",
    description=gettext_lazy(
        "Déclarations, compteurs et signatures publiées, en lecture seule. "
        "Aucune donnée personnelle de contact n'est exposée."
    ),
    urls_namespace="api",
    renderer=ReadableJSONRenderer(),
)


class Error(Schema):
    detail: str


class Counts(Schema):
    total: int
    population: int
    computed_at: datetime.datetime | None


class DeclarationSummary(Schema):
    slug: str
    title: str
    subtitle: str
    date: datetime.date
    is_open: bool
    signature_goal: int | None
    url: str
    counts: Counts


class DemandOut(Schema):
    heading: str
    text: str


class DemandGroupOut(Schema):
    lead_in: str
    demands: list[DemandOut]


class FounderOut(Schema):
    name: str
    functions: list[str]


class NetworkOut(Schema):
    slug: str
    short_name: str
    name: str


class KindCount(Schema):
    kind: str
    label: str
    count: int


class NetworkCount(Schema):
    slug: str
    name: str
    count: int


class RegionCount(Schema):
    code: str
    name: str
    count: int


class DepartementCount(Schema):
    code: str
    count: int = Field(description=gettext_lazy("Territoires signataires du département."))


class DayCount(Schema):
    date: datetime.date
    count: int


class DetailedCounts(Counts):
    goal: int | None
    by_kind: list[KindCount]
    by_network: list[NetworkCount]
    by_region: list[RegionCount]
    by_departement: list[DepartementCount]
    by_day: list[DayCount]
    by_verification: list[KindCount]


class DeclarationDetail(DeclarationSummary):
    lead: str
    body: str = Field(description=gettext_lazy("Markdown, tel qu'enregistré."))
    demand_groups: list[DemandGroupOut]
    founders: list[FounderOut]
    initiators: list[NetworkOut]
    counts: DetailedCounts


class SignatureOut(Schema):
    id: str = Field(description=gettext_lazy("Référence opaque et stable de la signature."))
    territory: str
    kind: str
    code: str
    siren: str
    departement: str
    region: str
    population: int | None
    signatory: str
    function: str
    networks: list[str]
    comment: str
    published_at: datetime.datetime
    verification: str = Field(
        description=gettext_lazy(
            "Comment la signature est prouvée, du plus fort au plus faible : ProConnect, "
            "délibération, domaine officiel, e-mail."
        )
    )


class SignaturePage(Schema):
    results: list[SignatureOut]
    next: str | None
    count: int


class SignatureQuery(Schema):
    q: str = Field("", description=gettext_lazy("Territoire ou signataire, sans accents requis."))
    kind: str = Field(
        "",
        description=format_lazy(
            "{} : {}.", gettext_lazy("Type de territoire"), ", ".join(Territory.Kind.values)
        ),
    )
    region: str = Field("", description=gettext_lazy("Code officiel de la région."))
    departement: str = Field("", description=gettext_lazy("Code officiel du département."))
    network: str = Field("", description=gettext_lazy("Identifiant du réseau."))
    verification: str = Field(
        "",
        description=format_lazy(
            "{} : {}.",
            gettext_lazy("Niveau de vérification"),
            ", ".join(Signature.Verification.values),
        ),
    )
    cursor: str = Field("", description=gettext_lazy("Valeur tirée du lien `next`."))
    limit: int = Field(50, ge=1, le=200)


@api.exception_handler(ValidationError)
def invalid_parameters(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """400 in French naming the parameters, rather than ninja's 422 with pydantic's English."""
    names = ", ".join(sorted({str(error["loc"][-1]) for error in exc.errors}))
    detail = _("Paramètres invalides : %(names)s.") % {"names": names}
    return api.create_response(request, {"detail": detail}, status=400)


@api.get(
    "/declarations",
    response={200: list[DeclarationSummary], 304: None},
    summary=gettext_lazy("Liste des déclarations"),
    description=gettext_lazy("Toutes les déclarations, la plus récente d'abord."),
)
def declaration_list(request: HttpRequest, response: HttpResponse):
    """Every declaration with its headline counts; one query plus a cache read each."""
    declarations = list(Declaration.objects.order_by("-date", "-pk"))
    snapshots = [stats_for(declaration) for declaration in declarations]
    not_modified = _not_modified(
        request,
        response,
        *(_declaration_version(d, s) for d, s in zip(declarations, snapshots, strict=True)),
    )
    if not_modified:
        return not_modified
    return [_summary(d, s) for d, s in zip(declarations, snapshots, strict=True)]


@api.get(
    "/declarations/{slug}",
    response={200: DeclarationDetail, 304: None, 404: Error},
    summary=gettext_lazy("Une déclaration"),
    description=gettext_lazy(
        "Le texte, les demandes, les fondateurs, les réseaux initiateurs et les compteurs."
    ),
)
@pagecache.cached_operation_with_counts(query=())
def declaration_detail(request: HttpRequest, slug: str, response: HttpResponse):
    """One declaration; the text is prefetched only once the ETag did not match."""
    declaration = _get_declaration(slug)
    stats = stats_for(declaration)
    not_modified = _not_modified(request, response, _declaration_version(declaration, stats))
    if not_modified:
        return not_modified
    prefetch_related_objects(
        [declaration],
        Prefetch("demand_groups", DemandGroup.objects.prefetch_related("demands")),
        "founders",
        Prefetch("initiators", Network.objects.order_by("position", "short_name")),
    )
    return {
        **_summary(declaration, stats),
        "lead": declaration.lead,
        "body": declaration.body,
        "demand_groups": [
            {"lead_in": group.lead_in, "demands": list(group.demands.all())}
            for group in declaration.demand_groups.all()
        ],
        "founders": [
            {"name": founder.name, "functions": founder.function_lines}
            for founder in declaration.founders.all()
        ],
        "initiators": list(declaration.initiators.all()),
        "counts": _detailed_counts(declaration, stats),
    }


@api.get(
    "/declarations/{slug}/signatures",
    response={200: SignaturePage, 304: None, 400: Error, 404: Error},
    summary=gettext_lazy("Signatures publiées"),
    description=gettext_lazy(
        "Les signatures publiées, les plus récentes d'abord, avec les filtres de la liste "
        "publique (un filtre invalide est ignoré). Pagination par curseur : suivre `next` "
        "jusqu'à ce qu'il vaille `null`."
    ),
)
def signature_list(
    request: HttpRequest, slug: str, params: Query[SignatureQuery], response: HttpResponse
):
    """Published signatures, newest first, keyset-paginated; never an OFFSET."""
    declaration = _get_declaration(slug)
    not_modified = _not_modified(request, response, stats_for(declaration).version)
    if not_modified:
        return not_modified
    # `sort` is left out on purpose: the cursor needs the one stable order.
    filters = PublicFilterForm({name: getattr(params, name) for name in FILTERS}).filters()
    # Published rows always have a publication date; the keyset cannot page over NULLs.
    signatures = published_signatures(declaration, filters).exclude(published_at=None)
    count = signatures.count()
    if params.cursor:
        signatures = _after(signatures, params.cursor)
    rows = list(signatures[: params.limit + 1])
    page, has_more = rows[: params.limit], len(rows) > params.limit
    return {
        "results": [{"id": s.public_id, **public_row(s)} for s in page],
        "next": _next_url(request, page[-1]) if has_more else None,
        "count": count,
    }


def _get_declaration(slug: str) -> Declaration:
    declaration = Declaration.objects.filter(slug=slug).first()
    if declaration is None:
        raise HttpError(404, _("Déclaration introuvable."))
    return declaration


def _declaration_version(declaration: Declaration, stats: SignatureStats) -> str:
    """What a declaration's answer depends on besides the request itself."""
    return (
        f"{declaration.slug}:{declaration.updated_at.isoformat()}:"
        f"{declaration.is_signable()}:{stats.version}"
    )


def _not_modified(
    request: HttpRequest, response: HttpResponse, *versions: str
) -> HttpResponseBase | None:
    """Set the caching headers; the 304 to send when the client's copy is current, else None.

    The ETag is weak: `computed_at` moves on at every refresh while the version,
    hence the data, stays the same. It follows the snapshot, which Celery
    refreshes within seconds of a publication: for those seconds a client may
    be told that a copy missing the newest signature is still current.
    """
    question = "\n".join([get_language() or "", request.get_full_path(), *versions])
    response["ETag"] = f'W/"{hashlib.sha256(question.encode()).hexdigest()[:32]}"'
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    answer = get_conditional_response(request, etag=response["ETag"], response=response)
    return None if answer is response else answer


def _summary(declaration: Declaration, stats: SignatureStats) -> dict:
    return {
        "slug": declaration.slug,
        "title": declaration.title,
        "subtitle": declaration.subtitle,
        "date": declaration.date,
        "is_open": declaration.is_signable(),
        "signature_goal": declaration.signature_goal,
        "url": settings.SITE_URL + declaration.get_absolute_url(),
        "counts": {
            "total": stats.total,
            "population": stats.population,
            "computed_at": _local(stats.computed_at),
        },
    }


def _detailed_counts(declaration: Declaration, stats: SignatureStats) -> dict:
    labels = dict(Territory.Kind.choices)
    by_kind = sorted(stats.by_kind.items(), key=lambda item: (-item[1], item[0]))
    return {
        "total": stats.total,
        "population": stats.population,
        "computed_at": _local(stats.computed_at),
        "goal": declaration.signature_goal,
        "by_kind": [
            {"kind": kind, "label": str(labels.get(kind, kind)), "count": count}
            for kind, count in by_kind
        ],
        "by_network": stats.by_network,
        "by_region": stats.by_region,
        "by_departement": [
            {"code": code, "count": count} for code, count in sorted(stats.by_departement.items())
        ],
        "by_day": [{"date": day, "count": count} for day, count in stats.by_day],
        "by_verification": [
            {"kind": level, "label": str(label), "count": stats.by_verification.get(level, 0)}
            for level, label in Signature.Verification.choices
        ],
    }


def _local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """In Paris time, as `published_at` is in `public_row`."""
    return timezone.localtime(moment) if moment else None


def _after(signatures: QuerySet, cursor: str) -> QuerySet:
    """The rows after the cursor's one, in the (published_at desc, pk desc) order.

    The cursor names its row by public id, never by row id (signed is not
    secret): the database turns it back into the pk inside the same query.
    """
    try:
        stamp, public_id = signing.loads(cursor, salt=CURSOR_SALT)
        published_at = datetime.datetime.fromisoformat(stamp)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise HttpError(400, _("Curseur invalide.")) from exc
    if published_at.tzinfo is None or not isinstance(public_id, str):
        raise HttpError(400, _("Curseur invalide."))
    last_pk = Subquery(Signature.objects.filter(public_id=public_id).values("pk")[:1])
    return signatures.filter(
        Q(published_at__lt=published_at) | Q(published_at=published_at, pk__lt=last_pk)
    )


def _next_url(request: HttpRequest, last: Signature) -> str:
    """This request's URL, with a signed cursor naming its last row (tamper-evident)."""
    query = request.GET.copy()
    query["cursor"] = signing.dumps(
        [last.published_at.isoformat(), last.public_id], salt=CURSOR_SALT
    )
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
