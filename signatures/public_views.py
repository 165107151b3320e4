"""Public pages of signatures: the live list and its CSV."""

import csv
import datetime
import hashlib

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from declarations.models import Declaration

from .public import PAGE_SIZE, PUBLIC_COLUMNS, PublicFilterForm, public_row, published_signatures
from .stats import stats_for, version_for_slug

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
        "signatures/list.html",
        {
            "declaration": declaration,
            "form": form,
            "page": page,
            "stats": stats_for(declaration),
            "filter_query": urlencode({k: v for k, v in filters.items()}),
            "poll_url": _poll_url(declaration, filters, newest),
            "poll_seconds": POLL_SECONDS,
        },
    )


def _poll_url(declaration, filters: dict, newest: datetime.datetime | None) -> str:
    params = {**filters, "depuis": _stamp(newest or timezone.now())}
    return f"{declaration.get_absolute_url()}signataires/nouvelles/?{urlencode(params)}"


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
        "signatures/includes/list_updates.html",
        {
            "declaration": declaration,
            "new_signatures": new,
            "stats": stats_for(declaration),
            "poll_url": _poll_url(declaration, filters, newest),
            "poll_seconds": POLL_SECONDS,
        },
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
            row["networks"] = ", ".join(row["networks"])
            yield writer.writerow([row[key] for key, _label in PUBLIC_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    filename = f"signataires-{declaration.slug}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
