"""What the public reads: the live list, its poll and exports, the statistics, the widget.

Everything here reads published signatures through `public.filters` or the
counts snapshot (`signatures.stats`); nothing here writes.
"""

import csv
import datetime
import hashlib
import html
import io

from csp.decorators import csp_replace
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import condition, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from core.pagecache import cached_with_counts
from core.resilience import cache_or_none, write_cache_quietly
from declarations.models import Declaration
from signatures.models import Signature
from signatures.stats import stats_for, version_for_slug
from signatures.text import FORMULA_START, spreadsheet_safe

from . import charts
from .filters import (
    PAGE_SIZE,
    PUBLIC_COLUMNS,
    PublicFilterForm,
    narrows,
    public_rows,
    published_signatures,
)
from .services import departement_coverage

POLL_SECONDS = 10
PAGES_AROUND = 2  # numbered page links on each side of the current page


@require_safe
@vary_on_headers("HX-Request")  # the same URL answers the page, or to htmx its results
@cached_with_counts(query=(*PublicFilterForm.base_fields, "page"))
def signatory_list(request, slug):
    """Published signatures, filtered by GET parameters so every view can be shared.

    The filter form asks with htmx when a filter changes: the answer is then the
    results region alone, and the address to show in the location bar.
    """
    declaration = get_object_or_404(Declaration, slug=slug)
    form = PublicFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(published_signatures(declaration, filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {**_results_context(declaration, filters, page), "form": form}
    if request.htmx and not request.htmx.history_restore_request:
        response = render(
            request, "public/includes/list_results.html", {**context, "is_partial": True}
        )
        return push_url(response, context["page_links"]["current"])
    return render(request, "public/list.html", context)


def _counts_context(declaration: Declaration) -> dict:
    """The counters every public page shows, from the snapshot (one cache read)."""
    stats = stats_for(declaration)
    return {
        "declaration": declaration,
        "stats": stats,
        "goal_percent": declaration.goal_percent_for(stats.total),
        "proconnect_count": stats.by_verification.get(Signature.Verification.PROCONNECT, 0),
    }


def _list_counts(declaration: Declaration, filters: dict, matching: int) -> dict:
    """The list's counters: the rows the filters give, of how many, and the goal.

    Counted from the table like the rows shown, never from the snapshot (which
    may lag a few seconds), so the figure always agrees with the list. The
    population covered, a figure of the whole declaration, comes from the snapshot.
    """
    is_filtered = narrows(filters)
    total = (
        Signature.objects.published().filter(declaration=declaration).count()
        if is_filtered
        else matching
    )
    return {
        **_counts_context(declaration),
        "matching": matching,
        "total": total,
        "is_filtered": is_filtered,
        "goal_percent": declaration.goal_percent_for(total),
    }


def _results_context(declaration: Declaration, filters: dict, page: Page) -> dict:
    """What the results region shows: counters, download links, rows, poller, pages."""
    is_recent = filters.get("sort", "recent") == "recent"
    newest = page[0].published_at if is_recent and page.number == 1 and page.object_list else None
    filter_query = _query(filters)
    return {
        **_list_counts(declaration, filters, page.paginator.count),
        "page": page,
        "page_links": _page_links(declaration, filter_query, page),
        "filter_query": filter_query,
        "show_population": filters.get("sort") == "population",
        "poll_url": _poll_url(
            declaration, filters, since=newest or timezone.now(), seen=page.paginator.count
        ),
        "poll_seconds": POLL_SECONDS,
    }


def _query(filters: dict) -> str:
    """The filters as a query string, the default order left out: the shortest address."""
    return urlencode(
        {name: value for name, value in filters.items() if (name, value) != ("sort", "recent")}
    )


def _list_url(declaration: Declaration, filter_query: str, number: int = 1) -> str:
    """The list's address with these filters, at this page."""
    query = "&".join(filter(None, [filter_query, f"page={number}" if number > 1 else ""]))
    base = reverse("public:list", kwargs={"slug": declaration.slug})
    return f"{base}?{query}" if query else base


def _page_links(declaration: Declaration, filter_query: str, page: Page) -> dict:
    """Addresses of the first, previous, nearby, next and last pages, filters kept."""
    last = page.paginator.num_pages

    def url(number: int) -> str:
        return _list_url(declaration, filter_query, number)

    around = range(max(1, page.number - PAGES_AROUND), min(last, page.number + PAGES_AROUND) + 1)
    return {
        "current": url(page.number),
        "first": url(1) if page.number > 1 else None,
        "previous": url(page.number - 1) if page.has_previous() else None,
        "numbers": [(number, url(number), number == page.number) for number in around],
        "next": url(page.number + 1) if page.has_next() else None,
        "last": url(last) if page.number < last else None,
    }


def _poll_url(declaration, filters: dict, *, since: datetime.datetime, seen: int) -> str:
    """The poller's address: the filters, the newest row shown and how many rows match."""
    params = {**filters, "depuis": _stamp(since), "vu": seen}
    return (
        f"{reverse('public:list_updates', kwargs={'slug': declaration.slug})}?{urlencode(params)}"
    )


def _stamp(moment: datetime.datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _updates_etag(request, slug) -> str:
    """The counts' version, the exact question and its language: unchanged, the answer is 304.

    The language too, since the answer is not private: a shared cache revalidating a
    French answer for an English reader must not be told it still holds.
    """
    question = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:16]
    return f'"{version_for_slug(slug)}-{question}-{request.LANGUAGE_CODE}"'


@require_safe
@cache_control(no_cache=True)  # the same for everyone: revalidated, never private
@condition(etag_func=_updates_etag)
@cached_with_counts(query=(*PublicFilterForm.base_fields, "depuis", "vu"))
def signatory_updates(request, slug):
    """Polled by the list page: new signatures for the top of the list and fresh counters.

    Idempotent for a given URL (the rows after `depuis`), so a browser replaying
    its cached copy on a 304 adds nothing twice. The new rows go on top only
    when that gives exactly the rows the filters now give (newest first, and
    `vu` plus the new ones make the new count); otherwise (another sort, a
    signature withdrawn, more news than one page) the list and its counters stay
    as shown, and a notice offers to reload it: the counters never disagree with
    the rows on screen.
    """
    declaration = get_object_or_404(Declaration, slug=slug)
    filters = PublicFilterForm(request.GET).filters()
    since = _since(request.GET.get("depuis"))
    seen = _seen(request.GET.get("vu"))
    signatures = published_signatures(declaration, filters)
    matching = signatures.count()
    is_in_step = False
    if filters.get("sort", "recent") == "recent":
        new = list(signatures.filter(published_at__gt=since)[:PAGE_SIZE])
        # Without `vu` (an older page), the rows are trusted to add up, as before.
        is_in_step = seen is None or seen + len(new) == matching
    if is_in_step:
        newest = new[0].published_at if new else since
        context = {
            **_list_counts(declaration, filters, matching),
            "poll_url": _poll_url(declaration, filters, since=newest, seen=matching),
            "new_signatures": new,
            "was_empty": seen == 0,  # the page says there is none: that line goes
            "show_population": False,  # rows come on top only in the newest-first order
        }
    else:
        context = {
            "declaration": declaration,
            "poll_url": request.get_full_path(),  # same question: a 304 until the next change
            "list_url": _list_url(declaration, _query(filters)),
            "matching": matching,
            "has_changed": matching != seen,
        }
    return render(
        request,
        "public/includes/list_updates.html",
        {**context, "is_in_step": is_in_step, "poll_seconds": POLL_SECONDS},
    )


def _since(value: str | None) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(value) / 1_000_000, tz=datetime.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return timezone.now()


def _seen(value: str | None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Echo:
    """A file-like object whose write returns the line, for streaming csv."""

    def write(self, value: str) -> str:
        return value


def _export(request, slug: str):
    """The declaration and its public rows with the list's filters, for the downloads."""
    declaration = get_object_or_404(Declaration, slug=slug)
    filters = PublicFilterForm(request.GET).filters()
    return declaration, public_rows(published_signatures(declaration, filters))


def _export_name(declaration: Declaration, extension: str) -> str:
    return f"signataires-{declaration.slug}-{timezone.localdate().isoformat()}.{extension}"


@require_safe
def signatory_csv(request, slug):
    """The public list as CSV for French spreadsheets, streamed, with the list's filters.

    Semicolons and a byte order mark: a French Excel splits on ";" (its list
    separator, the comma being the decimal sign) and reads UTF-8 only after a BOM.
    """
    content_type = "text/csv; charset=utf-8"
    if request.GET:  # a filtered list: streamed as it is read
        declaration, rows = _export(request, slug)
        response = StreamingHttpResponse(_csv_lines(rows), content_type=content_type)
    else:
        # The whole list is the same file for everyone until the counts change: made
        # once per version (the version read before the rows) and language, then kept.
        declaration = get_object_or_404(Declaration, slug=slug)
        key = f"export-csv:{declaration.pk}:{version_for_slug(slug)}:{get_language()}"
        body = cache_or_none(lambda: cache.get(key), "the CSV export")
        if body is None:
            rows = public_rows(published_signatures(declaration, {}))
            # Line by line into one buffer: a list of 35,000 strings joined at the end left
            # the worker's memory fragmented, 20 MiB bigger for good.
            buffer = io.BytesIO()
            for line in _csv_lines(rows):
                buffer.write(line.encode())
            body = buffer.getvalue()
            write_cache_quietly(
                lambda: cache.set(key, body, EXPORT_CACHE_SECONDS), "the CSV export"
            )
        response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_export_name(declaration, "csv")}"'
    return response


EXPORT_CACHE_SECONDS = 3600  # a newer version makes a new key; this only frees memory


# Columns whose values are ours (labels, digits, dates), which never start with a formula
# sign; every other column, and any column added later, is escaped.
_OWN_COLUMNS = {"kind", "siren", "population", "published_at", "verification"}


def _csv_lines(rows):
    writer = csv.writer(_Echo(), delimiter=";")
    keys = [key for key, _label in PUBLIC_COLUMNS]
    escaped = [key for key in keys if key not in _OWN_COLUMNS]
    yield "\ufeff"
    yield writer.writerow([str(label) for _key, label in PUBLIC_COLUMNS])
    for row in rows:
        row["networks"] = ", ".join(row["networks"])
        # A name or comment starting with "=" must stay text in a spreadsheet. Most values
        # need nothing: spreadsheet_safe only for those that start with a formula
        # character or hold an unprintable one (280,000 calls at 35,000 rows otherwise).
        for key in escaped:
            value = row[key]
            if value and (value[0] in FORMULA_START or not value.isprintable()):
                row[key] = spreadsheet_safe(value)
        yield writer.writerow([row[key] for key in keys])


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_WIDTHS = {"A": 34, "B": 22, "E": 20, "F": 24, "H": 26, "I": 20, "J": 20, "K": 40, "L": 18}


@require_safe
def signatory_xlsx(request, slug):
    """The public list as an Excel workbook: the CSV's columns and filters, typed cells,
    sent once complete (a zip cannot be streamed row by row)."""
    from . import spreadsheet  # noqa: PLC0415 - openpyxl, 18 MiB, only for this download

    declaration, rows = _export(request, slug)
    return FileResponse(
        spreadsheet.signatory_workbook(rows, _("Signataires"), PUBLIC_COLUMNS, XLSX_WIDTHS),
        as_attachment=True,
        filename=_export_name(declaration, "xlsx"),
        content_type=XLSX_TYPE,
    )


@require_safe
@cached_with_counts(query=())
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
            "departement_map": charts.departement_map(
                stats.by_departement,
                departement_coverage(declaration, version=stats.version) if stats.total else {},
            ),
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
@cached_with_counts(query=())
def widget(request, slug):
    """The counter card, for an <iframe> on any site."""
    declaration = get_object_or_404(Declaration, slug=slug)
    return render(request, "public/widget.html", _counts_context(declaration))
