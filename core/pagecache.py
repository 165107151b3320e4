"""A cache in front of Django for the public pages that change only with the counts.

The declaration, the list, its poll, the statistics, the widget, the live corner
and the API's declaration are the same for every visitor until a signature is
published, withdrawn or changes what it shows: the counts snapshot's version
(signatures/stats.py) then changes. A view opts in with `@cached_with_counts` or
`@cached_briefly` (core/pagemarks.py), which tag its response with the
declaration's slug, the version read *before* rendering and the GET parameters
the view reads. `PageCache`, wrapped around the WSGI application, keeps the
tagged response and answers the next request for the same page from it — or a
304 when the client already has it — without entering Django's middleware, as
long as the declaration's version is still the one the page was rendered at.

Two requests are the same page when their host, scheme, path, language and htmx
headers match (core/pagekeys.py), and the parameters their view declared: the
others are removed before Django sees the request, so a page is always rendered
from exactly what its key names. A path's parameters are learnt from its first
marked answer. An answer is kept only when nothing in it is per visitor
(`refusal`, checked here on every answer rather than left to each template).
Requests carrying a session or flash messages always go through Django.
Entries also expire after `TTL` seconds, which bounds how long an edit of the
declaration's text (which does not change the counts) takes to show. They live
in the cache alias `pages`, within PAGE_CACHE_MAX_MB (docs/deployment.md).
Any failure of the cache (Redis down) falls back to Django: fail open.
"""

import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import caches

from .pagekeys import Visit, canonical_query, cookies_of, visit_of
from .pagemarks import (
    HEADER,
    NO_VERSION,
    Marker,
    cached_briefly,
    cached_operation_with_counts,
    cached_with_counts,
    version_for_slug,
)

__all__ = [
    "HEADER",
    "TTL",
    "PageCache",
    "cached_briefly",
    "cached_operation_with_counts",
    "cached_with_counts",
]

logger = logging.getLogger(__name__)

CACHE_ALIAS = "pages"
TTL = 60
MAX_BODY = 512 * 1024
ENTRY_OVERHEAD = 2048  # the headers, the key and the pickling, counted with each body
LOCAL_ENTRIES = 32  # per process, in front of the shared cache
LEARNT_PATHS = 4096  # paths whose parameters are known; only a marked answer teaches one
VERSION_MEMO_SECONDS = 1.0  # a version read from Redis is trusted this long
KEPT_HEADERS_ON_304 = {"etag", "cache-control", "vary", "expires", "last-modified"}
MIN_TOKEN_LENGTH = 16  # a cookie shorter than a CSRF secret could match any page


class PageCache:
    """WSGI middleware: serves the pages the views marked, while still current."""

    def __init__(self, application):
        self.application = application
        self.local: OrderedDict[str, dict] = OrderedDict()
        self.versions: dict[str, tuple[float, str | None]] = {}
        self.queries: dict[str, tuple[str, ...]] = {}  # path → the parameters its view reads
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        visit = visit_of(environ)
        if visit is None:
            return self._strip_marker(environ, start_response)
        names = self.queries.get(visit.path)
        if names is not None:
            query = canonical_query(environ, names)
            if query is None:
                return self._strip_marker(environ, start_response)
            environ = {**environ, "QUERY_STRING": query}
            entry = self._get(visit.key(query))
            if entry is not None:
                return self._answer(entry, environ, start_response)
        return self._fill(visit, environ, start_response)

    # Reading and writing -------------------------------------------------------

    def _get(self, key: str) -> dict | None:
        entry = self.local.get(key)
        if entry is None:
            try:
                entry = caches[CACHE_ALIAS].get(key)
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

    def _fill(self, visit: Visit, environ, start_response):
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
        marker = Marker.parse(captured.get("marker"))
        ok = captured.get("status", "").startswith("200 ")
        if marker is None or not ok or environ.get("REQUEST_METHOD") != "GET":
            if conditional:
                start_response(captured["status"], captured["headers"])
            return result
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
        entry = {
            "slug": marker.slug,
            "version": marker.version,
            "status": captured["status"],
            "headers": captured["headers"],
            "body": body,
            "expires": time.time() + TTL,
        }
        self._keep(visit, marker, entry, environ)
        if conditional:
            return self._answer(
                entry, {**environ, "HTTP_IF_NONE_MATCH": if_none_match}, start_response
            )
        return [body]

    def _keep(self, visit: Visit, marker: Marker, entry: dict, environ) -> None:
        """Keep the answer for everyone when it was rendered from exactly the query its key
        names and nothing in it is per visitor; learn the path's parameters either way."""
        if len(self.queries) < LEARNT_PATHS:
            self.queries[visit.path] = marker.query
        query = canonical_query(environ, marker.query)
        if query != environ.get("QUERY_STRING", ""):
            return  # rendered with parameters its key leaves out: the next one is rewritten
        reason = refusal(entry, environ=environ, language=visit.language)
        if reason:
            logger.info("Page %s not cached: %s", visit.path, reason)
            return
        key = visit.key(query)
        self._remember(key, entry)
        try:
            store = caches[CACHE_ALIAS]
            if within_budget(store, len(entry["body"])):
                store.set(key, entry, TTL)
        except Exception:
            logger.warning("Page cache unwritable", exc_info=True)

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


# What may be kept ----------------------------------------------------------------


def refusal(entry: dict, *, environ, language: str) -> str | None:
    """Why this answer must not be served to another visitor, None when it may be.

    The view's marker says the page is the same for everyone; the answer must agree.
    Django says a page is per visitor with a cookie set, `Vary: Cookie` (the session
    was read), `Cache-Control: private` or `no-store`; a CSRF token in the body is per
    visitor whatever the headers say; another language than the key's would reach
    the wrong visitors.
    """
    fields: dict[str, list[str]] = {}
    for name, value in entry["headers"]:
        fields.setdefault(name.lower(), []).append(value)
    if not entry["status"].startswith("200 "):
        return "not a 200"
    if len(entry["body"]) > MAX_BODY:
        return "too large"
    if "set-cookie" in fields:
        return "sets a cookie"
    if {"cookie", "*"} & _tokens(fields.get("vary", [])):
        return "varies with the cookies"
    if {"private", "no-store"} & _tokens(fields.get("cache-control", []), directives=True):
        return "private or not to be stored"
    if fields.get("content-language") != [language]:
        return "not in the language of its key"
    if environ.get("CSRF_COOKIE_NEEDS_UPDATE") or _holds_csrf_token(entry["body"], environ):
        return "holds a CSRF token"
    return None


def _tokens(values: list[str], *, directives: bool = False) -> set[str]:
    tokens = {token.strip().lower() for value in values for token in value.split(",")}
    return {token.partition("=")[0].strip() for token in tokens} if directives else tokens


def _holds_csrf_token(body: bytes, environ) -> bool:
    """The form field, or the secret Django read from the visitor's cookie (or made)."""
    if b"csrfmiddlewaretoken" in body:
        return True
    secrets = {environ.get("CSRF_COOKIE"), cookies_of(environ).get(settings.CSRF_COOKIE_NAME)}
    return any(
        secret and len(secret) >= MIN_TOKEN_LENGTH and secret.encode() in body
        for secret in secrets
    )


def within_budget(store, size: int) -> bool:
    """Count `size` more bytes against what the shared entries may hold; False past it.

    The shared cache may be the broker's Redis, and its keys are as many as the
    questions asked (`?q=` is free text): its size is bounded here, whatever the
    requests. Entries live TTL seconds, so those alive at any moment were written in
    the current window of TTL seconds or the previous one: each window may write half
    of PAGE_CACHE_MAX_MB, counted in the store itself for every process. Raises what
    the store raises; the caller then keeps nothing.
    """
    allowance = settings.PAGE_CACHE_MAX_MB * 1024 * 1024 // 2
    key = f"page-budget:{int(time.time() // TTL)}"
    store.add(key, 0, TTL * 2)
    return store.incr(key, size + ENTRY_OVERHEAD) <= allowance
