"""What makes two requests the same page, decided as Django itself will decide it.

The cookies are read with Django's parser and the language with LocaleMiddleware's own
function: a header Python's SimpleCookie gives up on, or a cookie of "en-us" or "EN",
would otherwise be keyed French while Django answers in English (or sees a session).
Only the query parameters the view declared count (core/pagemarks.py): `?utm_source=…`
and `?fbclid=…` are the same page, not one more entry each.
"""

import hashlib
import re
from dataclasses import dataclass
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.core.handlers.wsgi import get_bytes_from_wsgi, get_str_from_wsgi
from django.http import QueryDict
from django.http.cookie import parse_cookie
from django.utils.translation import get_language_from_request, to_language

CACHEABLE_PATH = re.compile(
    r"^/(?:|declarations/[-\w]+/(?:|signataires/|signataires/nouvelles/|statistiques/|"
    r"widget/|dernieres/)|api/declarations/[-\w]+/?|territoires/recherche/)$"
)
MAX_RAW_QUERY = 4096  # longer goes to Django: the declared parameters fit in far less
MAX_QUERY = 512  # of the declared parameters, the part in the key
PRIVATE_COOKIES = {settings.SESSION_COOKIE_NAME, "messages"}


@dataclass(frozen=True)
class Visit:
    """A GET or HEAD of a cacheable path by a visitor without a session or messages."""

    path: str
    language: str
    parts: tuple[str, ...]  # what besides the query tells its pages apart

    def key(self, query: str) -> str:
        return "page:" + hashlib.sha256("\x1f".join((*self.parts, query)).encode()).hexdigest()


def visit_of(environ) -> Visit | None:
    """The request as the cache sees it, None when it must go through Django."""
    path = environ.get("PATH_INFO", "")
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or not CACHEABLE_PATH.match(path):
        return None
    if len(environ.get("QUERY_STRING", "")) > MAX_RAW_QUERY:
        return None
    cookies = cookies_of(environ)
    if PRIVATE_COOKIES & cookies.keys():
        return None
    language = language_of(environ, cookies)
    parts = (
        environ.get("wsgi.url_scheme", ""),
        environ.get("HTTP_X_FORWARDED_PROTO", ""),
        environ.get("HTTP_HOST", ""),
        path,
        language,
        environ.get("HTTP_HX_REQUEST", ""),
        environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST", ""),
        "origin" if environ.get("HTTP_ORIGIN") else "",  # CORS headers depend on it
    )
    return Visit(path=path, language=language, parts=parts)


def cookies_of(environ) -> dict[str, str]:
    """The cookies exactly as Django reads them (WSGIRequest.COOKIES)."""
    return parse_cookie(get_str_from_wsgi(environ, "HTTP_COOKIE", ""))


def language_of(environ, cookies: dict[str, str]) -> str:
    """The language LocaleMiddleware will activate, spelt as its Content-Language header.

    Django's own function on what it reads of the request (this site has no language
    prefix in its URLs); PageCache also checks the answer's Content-Language against it.
    """
    request = SimpleNamespace(COOKIES=cookies, META=environ, path_info=environ.get("PATH_INFO"))
    return to_language(get_language_from_request(request))


def kept_query(params: QueryDict, names: tuple[str, ...]) -> str:
    """Only the parameters named, in the order of their names: one spelling per question."""
    kept = QueryDict(mutable=True)
    for name in sorted(names):
        if name in params:
            kept.setlist(name, params.getlist(name))
    return kept.urlencode()


def canonical_query(environ, names: tuple[str, ...]) -> str | None:
    """The request's query reduced to the named parameters, as Django parses it; None when
    Django would refuse it (too many fields) or it is too long to be a key."""
    try:
        params = QueryDict(get_bytes_from_wsgi(environ, "QUERY_STRING", ""))
    except TooManyFieldsSent:
        return None
    query = kept_query(params, names)
    return query if len(query) <= MAX_QUERY else None
