"""A cache in front of Django for the public pages that change only with the counts.

The declaration, the list, its poll, the statistics, the widget, the live corner
and the API's counts are the same for every visitor until a signature is
published, withdrawn or corrected: the counts snapshot's version
(signatures/stats.py) then changes. A view opts in with `@cached_with_counts`,
which tags its response with the declaration's slug and the version it read
*before* rendering. `PageCache`, wrapped around the WSGI application, keeps the
tagged response and answers the next identical request from it — or a 304 when
the client already has it — without entering Django's middleware, as long as
the declaration's version is still the one the page was rendered at.

Two requests are "identical" when their method, host, scheme, path, query,
language and htmx headers match. Requests carrying a session or flash
messages always go through Django: those pages may differ per visitor.
Entries also expire after `TTL` seconds, which bounds how long an edit of the
declaration's text (which does not change the counts) takes to show.
Any failure of the cache (Redis down) falls back to Django: fail open.
"""

import functools
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from http.cookies import CookieError, SimpleCookie

from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string
from django.utils.translation.trans_real import (
    get_supported_language_variant,
    parse_accept_lang_header,
)

logger = logging.getLogger(__name__)

HEADER = "X-Page-Cache"  # set by the view, read and removed here
TTL = 60
MAX_BODY = 512 * 1024
LOCAL_ENTRIES = 32  # per process, in front of the shared cache
VERSION_MEMO_SECONDS = 1.0  # a version read from Redis is trusted this long
CACHEABLE_PATH = re.compile(
    r"^/(?:|declarations/[-\w]+/(?:|signataires/|signataires/nouvelles/|statistiques/|"
    r"widget/|dernieres/)|api/declarations/[-\w]+/?|territoires/recherche/)$"
)
NO_VERSION = "-"  # an entry that only its TTL ends (cached_briefly)
PRIVATE_COOKIES = {settings.SESSION_COOKIE_NAME, "messages"}
KEPT_HEADERS_ON_304 = {"etag", "cache-control", "vary", "expires", "last-modified"}


@functools.cache
def _version_reader():
    """The function named by PAGE_CACHE_VERSION: core imports no app, the settings say which."""
    return import_string(settings.PAGE_CACHE_VERSION)


def version_for_slug(slug: str) -> str | None:
    """The counts' version of a declaration, None for an unknown slug."""
    return _version_reader()(slug)


def cached_with_counts(view):
    """Mark the view's 200 answers as the same for everyone until the counts change.

    The view takes the declaration's `slug` keyword. The version is read before the
    view reads anything: a page is never tagged with a version newer than its data.
    """

    @functools.wraps(view)
    def wrapper(request, *args, slug, **kwargs):
        version = version_for_slug(slug)
        response = view(request, *args, slug=slug, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            response[HEADER] = f"{slug} {version}"
        return response

    return wrapper


def cached_briefly(view):
    """Mark the view's 200 answers as the same for everyone for `TTL` seconds.

    For what follows no counts: the territory search, whose results change only
    when the referential is imported or a territory added by a signatory is
    published (then shown within `TTL` seconds).
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            response[HEADER] = f"{NO_VERSION} {NO_VERSION}"
        return response

    return wrapper


class PageCache:
    """WSGI middleware: serves the pages `cached_with_counts` marked, while still current."""

    def __init__(self, application):
        self.application = application
        self.local: OrderedDict[str, dict] = OrderedDict()
        self.versions: dict[str, tuple[float, str]] = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self._strip_marker(environ, start_response)
        entry = self._get(key)
        if entry is not None:
            return self._answer(entry, environ, start_response)
        return self._fill(key, environ, start_response)

    # What identifies a request ------------------------------------------------

    def _key(self, environ) -> str | None:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return None
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        if not CACHEABLE_PATH.match(path) or len(query) > 512:
            return None
        cookies = _cookies(environ.get("HTTP_COOKIE", ""))
        if cookies is None or PRIVATE_COOKIES & cookies.keys():
            return None
        parts = (
            environ.get("wsgi.url_scheme", ""),
            environ.get("HTTP_X_FORWARDED_PROTO", ""),
            environ.get("HTTP_HOST", ""),
            path,
            query,
            _language(environ, cookies),
            environ.get("HTTP_HX_REQUEST", ""),
            environ.get("HTTP_HX_HISTORY_RESTORE_REQUEST", ""),
            "origin" if environ.get("HTTP_ORIGIN") else "",  # CORS headers depend on it
        )
        return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    # Reading and writing -------------------------------------------------------

    def _get(self, key: str) -> dict | None:
        entry = self.local.get(key)
        if entry is None:
            try:
                entry = cache.get(key)
            except Exception:
                logger.warning("Page cache unreadable; serving through Django", exc_info=True)
                return None
            if entry is None:
                return None
            self._remember(key, entry)
        slug = entry["slug"]
        is_current = slug == NO_VERSION or self._version(slug) == entry["version"]
        if entry["expires"] < time.time() or not is_current:
            with self.lock:
                self.local.pop(key, None)
            return None
        return entry

    def _version(self, slug: str) -> str | None:
        now = time.monotonic()
        memo = self.versions.get(slug)
        if memo and now - memo[0] < VERSION_MEMO_SECONDS:
            return memo[1]
        try:
            version = version_for_slug(slug)
        except Exception:
            logger.warning("Counts version unreadable; serving through Django", exc_info=True)
            return None
        self.versions[slug] = (now, version)
        return version

    def _remember(self, key: str, entry: dict) -> None:
        with self.lock:  # gthread workers share it between threads
            self.local[key] = entry
            self.local.move_to_end(key)
            while len(self.local) > LOCAL_ENTRIES:
                self.local.popitem(last=False)

    def _fill(self, key, environ, start_response):
        # A conditional request (a poll) asks Django for the whole page, so the entry is
        # filled again even when every client already holds it; the 304 is ours.
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        conditional = if_none_match is not None
        if conditional:
            environ = {k: v for k, v in environ.items() if k != "HTTP_IF_NONE_MATCH"}
        captured = {}

        def capture(status, headers, exc_info=None):
            marker = next((v for k, v in headers if k.lower() == HEADER.lower()), None)
            kept = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            captured.update(status=status, headers=kept, marker=marker)
            if conditional:
                return lambda data: None  # answered below, once we know the entry
            return start_response(status, kept, exc_info)

        result = self.application(environ, capture)
        marker = captured.get("marker")
        ok = captured.get("status", "").startswith("200 ")
        if not marker or not ok or environ.get("REQUEST_METHOD") != "GET":
            if conditional:
                start_response(captured["status"], captured["headers"])
            return result
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        slug, _space, version = marker.partition(" ")
        headers = captured["headers"]
        entry = {
            "slug": slug,
            "version": version,
            "status": captured["status"],
            "headers": headers,
            "body": body,
            "expires": time.time() + TTL,
        }
        if len(body) <= MAX_BODY and not any(k.lower() == "set-cookie" for k, _v in headers):
            try:
                cache.set(key, entry, TTL)
            except Exception:
                logger.warning("Page cache unwritable", exc_info=True)
            self._remember(key, entry)
        if conditional:
            return self._answer(
                entry, {**environ, "HTTP_IF_NONE_MATCH": if_none_match}, start_response
            )
        return [body]

    # Answering -----------------------------------------------------------------

    def _answer(self, entry, environ, start_response):
        etag = next((v for k, v in entry["headers"] if k.lower() == "etag"), None)
        if etag and etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            headers = [(k, v) for k, v in entry["headers"] if k.lower() in KEPT_HEADERS_ON_304]
            start_response("304 Not Modified", headers)
            return []
        start_response(entry["status"], list(entry["headers"]))
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry["body"]]

    def _strip_marker(self, environ, start_response):
        def without_marker(status, headers, exc_info=None):
            kept = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            return start_response(status, kept, exc_info)

        return self.application(environ, without_marker)


def _cookies(header: str) -> dict | None:
    try:
        cookies = SimpleCookie()
        cookies.load(header)
    except CookieError:
        return None
    return {name: morsel.value for name, morsel in cookies.items()}


def _language(environ, cookies: dict) -> str:
    """The language LocaleMiddleware will choose: the cookie's, else the browser's."""
    supported = dict(settings.LANGUAGES)
    chosen = cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in supported:
        return chosen
    for code, _quality in parse_accept_lang_header(environ.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
