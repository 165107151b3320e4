"""What the public reads: the live list, its poll and CSV, the statistics, the widget.

Everything here reads published signatures through `public.filters` or the
counts snapshot (`signatures.stats`); nothing here writes.
"""

import csv
import datetime
import hashlib
import html

from csp.decorators import csp_replace
from django.conf import settings
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import condition, require_safe

from declarations.models import Declaration
from signatures.models import Signature
from signatures.stats import stats_for, version_for_slug
from signatures.text import spreadsheet_safe

from . import charts
from .filters import PAGE_SIZE, PUBLIC_COLUMNS, PublicFilterForm, public_row, published_signatures

POLL_SECONDS = 10


@require_safe
def signatory_list(request, slug):
    """Published signatures, filtered by GET parameters so every view can be shared."""
    declaration = get_object_or_404(Declaration, slug=slug)
    form = PublicFilterForm(request.GET)
    filters = form.filters()
    signatures = published_signatures(declaration, filters)
    page = Paginator(signatures, PAGE_SIZE).get_page(request.GET.get("page"))
    newest = page[0].published_at if page.object_list and page.number == 1 else None
    return render(
        request,
        "public/list.html",
        {
            **_live_context(declaration, filters, newest),
            "form": form,
            "page": page,
            "filter_query": urlencode({k: v for k, v in filters.items()}),
        },
    )


def _counts_context(declaration: Declaration) -> dict:
    """The counters every public page shows, from the snapshot (one cache read)."""
    stats = stats_for(declaration)
    return {
        "declaration": declaration,
        "stats": stats,
        "goal_percent": declaration.goal_percent_for(stats.total),
        "proconnect_count": stats.by_verification.get(Signature.Verification.PROCONNECT, 0),
    }


def _live_context(declaration, filters: dict, newest: datetime.datetime | None) -> dict:
    """What the list and its poll both show: the counters and the next poll's address."""
    params = {**filters, "depuis": _stamp(newest or timezone.now())}
    poll_url = reverse("public:list_updates", kwargs={"slug": declaration.slug})
    return {
        **_counts_context(declaration),
        "poll_url": f"{poll_url}?{urlencode(params)}",
        "poll_seconds": POLL_SECONDS,
    }


def _stamp(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _updates_etag(request, slug) -> str:
    """The counts' version and the exact question: unchanged, the answer is 304."""
    question = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:16]
    return f'"{version_for_slug(slug)}-{question}"'


@require_safe
@cache_control(private=True, no_cache=True)
@condition(etag_func=_updates_etag)
def signatory_updates(request, slug):
    """Polled by the list page: new signatures for the top of the list and fresh counters.

    Idempotent for a given URL (the rows after `depuis`), so a browser replaying
    its cached copy on a 304 adds nothing twice.
    """
    declaration = get_object_or_404(Declaration, slug=slug)
    filters = PublicFilterForm(request.GET).filters()
    since = _since(request.GET.get("depuis"))
    new = []
    if filters.get("sort", "recent") == "recent":
        newer = published_signatures(declaration, filters).filter(published_at__gt=since)
        new = list(newer[:PAGE_SIZE])  # a stale page reloads rather than receive thousands
    newest = new[0].published_at if new else since
    return render(
        request,
        "public/includes/list_updates.html",
        {**_live_context(declaration, filters, newest), "new_signatures": new},
    )


def _since(value: str | None) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(value) / 1_000_000, tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


class _Echo:
    """A file-like object whose write returns the line, for streaming csv."""

    def write(self, value: str) -> str:
        return value


@require_safe
def signatory_csv(request, slug):
    """The public list as CSV, streamed row by row, with the list's filters."""
    declaration = get_object_or_404(Declaration, slug=slug)
    signatures = published_signatures(declaration, PublicFilterForm(request.GET).filters())
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff"  # byte order mark: spreadsheet software then reads UTF-8 accents
        yield writer.writerow([str(label) for _key, label in PUBLIC_COLUMNS])
        for signature in signatures.iterator(chunk_size=500):
            row = public_row(signature)
            row["networks"] = signature.network_names
            # A name or comment starting with "=" must stay text in a spreadsheet.
            yield writer.writerow([spreadsheet_safe(row[key]) for key, _label in PUBLIC_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"signataires-{declaration.slug}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def statistics(request, slug):
    """Counters, breakdowns, map and timeline, each chart followed by its table."""
    declaration = get_object_or_404(Declaration, slug=slug)
    context = _counts_context(declaration)
    stats = context["stats"]
    return render(
        request,
        "public/statistics.html",
        {
            **context,
            "kind_chart": charts.kind_chart(stats.by_kind),
            "verification_chart": charts.verification_chart(stats.by_verification),
            "network_chart": charts.network_chart(stats.by_network),
            "region_chart": charts.region_chart(stats.by_region),
            "departement_map": charts.departement_map(stats.by_departement),
            "day_series": charts.day_series(stats.by_day),
            "embed_snippet": _embed_snippet(declaration),
        },
    )


def _embed_snippet(declaration: Declaration) -> str:
    """The <iframe> others paste on their site, pointing at the canonical address."""
    url = settings.SITE_URL + reverse("public:widget", args=[declaration.slug])
    title = f"{_('Compteur des signatures')} — {declaration.title}"
    # Only what would break the attribute is escaped, so the copied code stays readable.
    title = html.escape(title, quote=False).replace('"', "&quot;")
    return f'<iframe src="{url}" title="{title}" width="320" height="260" loading="lazy"></iframe>'


# The only page other sites may frame: it shows public counts and one link, no
# form and nothing a click could trigger, so clickjacking has nothing to take.
@require_safe
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@cache_control(public=True, max_age=60)
def widget(request, slug):
    """The counter card, for an <iframe> on any site."""
    declaration = get_object_or_404(Declaration, slug=slug)
    return render(request, "public/widget.html", _counts_context(declaration))
