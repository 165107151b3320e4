"""The declaration page's live corner: the count and the latest published signatories.

Server-rendered with the page (public/templatetags/public_tags.py), then polled
like the list: the answer is 304 until the counts' version changes.
"""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import condition, require_safe

from core.pagecache import cached_with_counts
from declarations.models import Declaration
from signatures.models import Signature
from signatures.stats import version_for_slug

LATEST_COUNT = 5
POLL_SECONDS = 10


def latest_context(declaration: Declaration) -> dict:
    """Two queries whatever the number of signatures: the five rows and their territories."""
    latest = (
        Signature.objects.published()
        .filter(declaration=declaration)
        .select_related("territory__departement")
        .order_by("-published_at", "-pk")[:LATEST_COUNT]
    )
    return {
        "declaration": declaration,
        "latest": list(latest),
        "poll_seconds": POLL_SECONDS,
    }


def _etag(request, slug) -> str:
    # The language is part of the answer (kinds, dates), so part of its tag.
    return f'"{version_for_slug(slug)}-{request.LANGUAGE_CODE}"'


@require_safe
@cache_control(no_cache=True)  # the same for everyone: revalidated, never private
@condition(etag_func=_etag)
@cached_with_counts(query=())
def latest(request, slug):
    """The live corner again, for the poll; out of band, the counter above it."""
    declaration = get_object_or_404(Declaration, slug=slug)
    return render(
        request,
        "includes/latest_signatories.html",
        {**latest_context(declaration), "oob": True},
    )
