"""The page cache in front of Django (core/pagecache.py), driven through WSGI."""

import datetime
import io

import pytest
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import pagecache
from core.pagecache import PageCache
from tests.factories import SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app():
    # As Django's test client does: a request must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield PageCache(WSGIHandler())
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(app, path: str, *, method="GET", query="", **headers) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "REMOTE_ADDR": "127.0.0.1",
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer.update(status=status, headers=dict(response_headers))

    result = app(environ, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return answer["status"], answer["headers"], body


@pytest.fixture
def two_published(declaration, refresh_counts):
    """Two published signatures on made-up communes (this module runs after the
    territories tests, which may leave the official referential in the database)."""
    for name in ("Toulouse test", "Brest test"):
        SignatureFactory(
            declaration=declaration,
            territory=TerritoryFactory(name=name, kind="commune"),
            status="published",
            published_at=timezone.now() - datetime.timedelta(days=1),
        )
    refresh_counts(declaration)
    return declaration


def _publish(declaration, refresh_counts, **extra):
    SignatureFactory(
        declaration=declaration,
        status="published",
        published_at=timezone.now() - datetime.timedelta(minutes=1),
        **extra,
    )
    refresh_counts(declaration)


def test_second_visit_is_answered_without_entering_django(
    app, two_published, django_assert_num_queries
):
    path = two_published.get_absolute_url()
    status, headers, first = call(app, path)
    assert status.startswith("200")
    assert pagecache.HEADER not in headers
    assert "Set-Cookie" not in headers  # nothing per visitor on the page: no CSRF token
    with django_assert_num_queries(0):
        status, headers, again = call(app, path)
    assert status.startswith("200")
    assert again == first
    assert "Content-Security-Policy" in headers  # the headers come back with the body


def test_a_publication_renders_the_page_again(app, two_published, refresh_counts):
    path = reverse("public:list", args=[two_published.slug])
    call(app, path)
    _publish(two_published, refresh_counts, last_name="Nouvelle-Signataire")
    pagecache_app_memo_expires(app)
    _status, _headers, body = call(app, path)
    assert b"Nouvelle-Signataire" in body


def pagecache_app_memo_expires(app):
    """The version is trusted for a second per process; a test does not wait for it."""
    app.versions.clear()


def test_each_language_and_each_query_has_its_own_entry(app, two_published):
    path = reverse("public:list", args=[two_published.slug])
    _s, _h, french = call(app, path)
    _s, _h, english = call(app, path, cookie="django_language=en")
    _s, _h, filtered = call(app, path, query="q=brest")
    assert b'<html lang="fr">' in french
    assert b'<html lang="en">' in english
    assert b"Toulouse" in french
    assert b"Toulouse" not in filtered


def test_visitors_with_a_session_or_messages_go_through_django(app, two_published):
    path = two_published.get_absolute_url()
    call(app, path)
    for cookie in ("sessionid=abc", "messages=xyz"):
        with CaptureQueriesContext(connection) as queries:
            call(app, path, cookie=cookie)
        assert len(queries) > 0, f"{cookie}: answered from the cache"


def test_poll_is_answered_not_modified_from_the_cache(app, two_published):
    list_path = reverse("public:list", args=[two_published.slug])
    call(app, list_path)
    updates = reverse("public:list_updates", args=[two_published.slug])
    status, headers, _body = call(app, updates, query="depuis=1&vu=2")
    assert status.startswith("200")
    status, headers_304, body = call(
        app, updates, query="depuis=1&vu=2", if_none_match=headers["ETag"]
    )
    assert status.startswith("304")
    assert body == b""
    assert headers_304["ETag"] == headers["ETag"]


def test_only_get_and_head_of_public_pages_are_cached(app, two_published):
    status, _h, _b = call(app, reverse("signatures:sign", args=[two_published.slug]))
    assert status.startswith("200")
    assert not app.local  # the signing form carries a CSRF token: never cached
    status, _h, _b = call(app, two_published.get_absolute_url(), method="POST")
    assert not status.startswith("200")
    assert not app.local


def test_an_entry_expires_after_its_ttl(app, two_published, monkeypatch):
    path = two_published.get_absolute_url()
    call(app, path)
    two_published.title = "Un titre corrigé"
    two_published.save(update_fields=["title"])  # the counts do not change
    _s, _h, body = call(app, path)
    assert b"Un titre corrig" not in body  # still the cached page, for up to TTL seconds
    later = pagecache.time.time() + pagecache.TTL + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    _s, _h, body = call(app, path)
    assert "Un titre corrigé".encode() in body


def test_not_found_is_never_cached(app, declaration):
    status, _h, _b = call(app, "/declarations/inconnue/")
    assert status.startswith("404")
    assert not app.local


def test_cache_unreachable_falls_back_to_django(app, two_published, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    status, _h, body = call(app, two_published.get_absolute_url())
    assert status.startswith("200")
    assert b"Toulouse" in body or two_published.title.encode() in body


def test_language_switch_sets_the_cookie_and_goes_back(client):
    response = client.get(reverse("switch_language"), {"language": "en", "next": "/contact/"})
    assert response.status_code == 302
    assert response["Location"] == "/contact/"
    assert response.cookies["django_language"].value == "en"
    elsewhere = client.get(
        reverse("switch_language"), {"language": "en", "next": "https://ailleurs.example/"}
    )
    assert elsewhere["Location"] == "/"
    unknown = client.get(reverse("switch_language"), {"language": "xx", "next": "/"})
    assert "django_language" not in unknown.cookies


def test_territory_search_is_kept_for_its_ttl_only(app, monkeypatch):
    place = TerritoryFactory(name="Cachéville", kind="commune")
    path = reverse("territories:search")
    _s, _h, first = call(app, path, query="q=cacheville", hx_request="true")
    assert b"Cach\xc3\xa9ville" in first
    place.name = "Cachéville-Nouvelle"
    place.save(update_fields=["name"])
    _s, _h, cached = call(app, path, query="q=cacheville", hx_request="true")
    assert cached == first  # no version to follow: the TTL bounds how stale it is
    later = pagecache.time.time() + pagecache.TTL + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    _s, _h, fresh = call(app, path, query="q=cacheville", hx_request="true")
    assert "Cachéville-Nouvelle".encode() in fresh


def test_an_expired_entry_is_filled_again_by_a_conditional_poll(app, two_published, monkeypatch):
    """Polls all carry If-None-Match: the one after expiry renders the page again and
    keeps it, and is itself answered 304."""
    updates = reverse("public:list_updates", args=[two_published.slug])
    _status, headers, _body = call(app, updates, query="depuis=1&vu=2")
    later = pagecache.time.time() + pagecache.TTL + 1
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    app.local.clear()
    cache.clear()  # the shared copy expired too
    status, _h, body = call(app, updates, query="depuis=1&vu=2", if_none_match=headers["ETag"])
    assert status.startswith("304")
    assert body == b""
    assert app.local  # kept again: the next polls never reach Django
    with CaptureQueriesContext(connection) as queries:
        status, _h, _b = call(app, updates, query="depuis=1&vu=2", if_none_match=headers["ETag"])
    assert status.startswith("304")
    assert len(queries) == 0


def test_a_conditional_request_for_a_changed_page_gets_the_page(app, two_published):
    path = reverse("public:list_updates", args=[two_published.slug])
    status, _h, body = call(app, path, query="depuis=1&vu=2", if_none_match='"ancienne"')
    assert status.startswith("200")
    assert body
