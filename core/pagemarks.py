"""How a view declares its answer the same for everyone: the marker PageCache reads.

The decorators tag a 200 answer with `X-Page-Cache: <slug> <version> <parameters>`:
the declaration it shows (or "-"), the counts' version read before the view read
anything (or "-": kept for the TTL only), and the GET parameters the view reads (or
"-"). The view sees only those parameters, here as behind the cache: a parameter
it reads without declaring it is ignored in development and tests too, where it
shows, rather than silently sharing one page between different questions.
"""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.http import QueryDict
from django.utils.module_loading import import_string
from ninja.decorators import decorate_view

from .pagekeys import kept_query

HEADER = "X-Page-Cache"  # set by the view's decorator, read and removed by PageCache
NO_VERSION = "-"  # an entry that only its TTL ends (cached_briefly)
NO_QUERY = "-"
PARAMETER_NAME = re.compile(r"[\w.-]+")


@functools.cache
def _version_reader():
    """The function named by PAGE_CACHE_VERSION: core imports no app, the settings say which."""
    return import_string(settings.PAGE_CACHE_VERSION)


def version_for_slug(slug: str) -> str | None:
    """The counts' version of a declaration, None for an unknown slug."""
    return _version_reader()(slug)


@dataclass(frozen=True)
class Marker:
    slug: str
    version: str
    query: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.slug} {self.version} {','.join(self.query) or NO_QUERY}"

    @classmethod
    def parse(cls, value: str | None) -> "Marker | None":
        """The marker a view set, None when absent or malformed: then nothing is stored."""
        parts = (value or "").split(" ")
        if len(parts) != 3 or not all(parts):
            return None
        slug, version, query = parts
        names = () if query == NO_QUERY else tuple(query.split(","))
        if not all(PARAMETER_NAME.fullmatch(name) for name in names):
            return None
        return cls(slug, version, names)


def cached_with_counts(*, query: tuple[str, ...]):
    """Mark the view's 200 answers as the same for everyone until the counts change.

    The view takes the declaration's `slug` keyword and reads only the GET parameters
    named in `query`. The version is read before the view reads anything: a page is
    never tagged with a version newer than its data. An unknown slug has no version:
    its answer is not marked.
    """

    def version_of(kwargs) -> tuple[str, str | None]:
        return kwargs["slug"], version_for_slug(kwargs["slug"])

    return functools.partial(_marking, names=_declared(query), version_of=version_of)


def cached_operation_with_counts(*, query: tuple[str, ...]):
    """`cached_with_counts` for a django-ninja operation, whose function returns data:
    around the operation's run, which returns the response."""
    return decorate_view(cached_with_counts(query=query))


def cached_briefly(*, query: tuple[str, ...]):
    """Mark the view's 200 answers as the same for everyone for the cache's TTL.

    For what follows no counts: the territory search, whose results change only
    when the referential is imported or a territory added by a signatory is
    published (then shown within the TTL).
    """
    return functools.partial(
        _marking, names=_declared(query), version_of=lambda _kwargs: (NO_VERSION, NO_VERSION)
    )


def _declared(query: tuple[str, ...]) -> tuple[str, ...]:
    """The names, checked when the module loads: a typo fails at start-up, not in a key."""
    if isinstance(query, str) or not all(PARAMETER_NAME.fullmatch(name) for name in query):
        raise ValueError(f"query must be a tuple of parameter names, not {query!r}")
    return tuple(sorted(set(query)))


def _marking(view, *, names: tuple[str, ...], version_of):
    """The view, seeing only the declared parameters, its shareable answers marked."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        slug, version = version_of(kwargs)
        request.GET = QueryDict(kept_query(request.GET, names), encoding=request.encoding)
        response = view(request, *args, **kwargs)
        shareable = response.status_code == 200 and not response.streaming
        if version is not None and shareable and not response.cookies:
            response[HEADER] = str(Marker(slug, version, names))
        return response

    return wrapper
