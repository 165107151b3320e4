"""The page cache in front of Django (core/pagecache.py), driven through WSGI."""

import datetime
import io

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core import pagecache
from core.pagecache import PageCache
from signatures.models import Signature
from signatures.proof.deliberations import attach_deliberation, set_deliberation_public
from tests.factories import NetworkFactory, SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_caches():
    """Every cache alias, the page cache's own included, starts empty."""
    for alias in django_settings.CACHES:
        caches[alias].clear()


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


# Helpers for what the cache holds and what Django answers --------------------------


def stored(fragment: str = "") -> dict[str, int]:
    """Every key any cache alias holds whose name contains `fragment`, with its size."""
    found = {}
    for alias in django_settings.CACHES:
        store = caches[alias]._cache
        if isinstance(store, dict):  # LocMemCache: pickled values by key
            found.update({key: len(value) for key, value in store.items() if fragment in key})
        else:  # RedisCache
            client = store.get_client()
            for key in client.scan_iter(match=f"*{fragment}*"):
                found[key] = client.strlen(key)
    return found


def page_entries() -> dict[str, int]:
    return stored(":page:")


def altered(*, headers=(), body_suffix=b""):
    """Django, with some headers replaced or added and text put into the body: as a
    page whose template or decorator made it per visitor would come out."""
    django_app = WSGIHandler()
    replaced = {name.lower() for name, _value in headers}

    def application(environ, start_response):
        def start(status, response_headers, exc_info=None):
            kept = [(k, v) for k, v in response_headers if k.lower() not in replaced]
            return start_response(status, [*kept, *headers], exc_info)

        result = django_app(environ, start)
        body = b"".join(result)
        result.close()
        return [body.replace(b"</main>", body_suffix + b"</main>")]

    return application


@pytest.fixture
def altered_app(request):
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield lambda **changes: PageCache(altered(**changes))
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Language ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cookie",
    ["django_language=en-us", "django_language=EN", 'a"b=c; django_language=en'],
    ids=["en-us", "EN", "after-a-malformed-cookie"],
)
def test_an_english_visit_never_fills_the_french_page(app, two_published, cookie):
    path = reverse("public:list", args=[two_published.slug])
    _s, headers, english = call(app, path, cookie=cookie)
    assert b'<html lang="en' in english  # Django reads this cookie as English
    assert headers["Content-Language"] == "en"
    _s, _h, french = call(app, path)
    assert b'<html lang="fr">' in french


def test_a_session_cookie_after_a_malformed_one_goes_through_django(app, two_published):
    path = two_published.get_absolute_url()
    call(app, path)
    with CaptureQueriesContext(connection) as queries:
        call(app, path, cookie='a"b=c; sessionid=abc')
    assert len(queries) > 0, "answered from the cache to a visitor Django sees a session for"


def test_an_answer_in_another_language_than_its_key_is_not_kept(altered_app, two_published):
    app = altered_app(headers=[("Content-Language", "en")])
    status, _h, _b = call(app, reverse("public:list", args=[two_published.slug]))
    assert status.startswith("200")
    assert not app.local
    assert page_entries() == {}


# Keys --------------------------------------------------------------------------------


def test_parameters_the_view_does_not_read_share_its_page(app, two_published):
    path = reverse("public:list", args=[two_published.slug])
    _s, _h, first = call(app, path)
    for query in ("utm_source=1", "fbclid=2&utm_medium=courriel"):
        with CaptureQueriesContext(connection) as queries:
            status, _h, body = call(app, path, query=query)
        assert status.startswith("200")
        assert body == first
        assert len(queries) == 0, f"?{query}: not answered from the cache"
    assert len(page_entries()) == 1


def test_a_page_is_rendered_from_its_declared_parameters_only(app, two_published):
    path = reverse("public:list", args=[two_published.slug])
    call(app, path)  # the path's parameters are known from its first answer
    _s, _h, body = call(app, path, query="q=brest&utm_source=pourriel")
    assert b"Brest" in body
    assert b"Toulouse" not in body
    assert b"pourriel" not in body  # not even in the language switch's return address


def test_a_poll_with_other_parameters_is_answered_not_modified(app, two_published):
    updates = reverse("public:list_updates", args=[two_published.slug])
    _s, headers, _b = call(app, updates, query="depuis=1&vu=2")
    assert "private" not in headers["Cache-Control"]
    with CaptureQueriesContext(connection) as queries:
        status, _h, _body = call(
            app, updates, query="vu=2&fbclid=x&depuis=1", if_none_match=headers["ETag"]
        )
    assert status.startswith("304")
    assert len(queries) == 0


def test_the_shared_entries_stay_within_their_budget(app, two_published, settings):
    settings.PAGE_CACHE_MAX_MB = 1
    path = reverse("public:list", args=[two_published.slug])
    rendered = 0
    number = 0
    while rendered < 3 * 1024 * 1024:  # three times what the cache may hold
        number += 1
        _s, _h, body = call(app, path, query=f"q=mot{number}")
        rendered += len(body)
    held = sum(page_entries().values())
    assert 0 < held <= 1024 * 1024


# What may be stored --------------------------------------------------------------------

CSRF_SECRET = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"  # 32 characters, as Django's cookie


@pytest.mark.parametrize(
    ("changes", "cookie"),
    [
        ({"headers": [("Set-Cookie", "suivi=1; Path=/")]}, ""),
        ({"headers": [("Vary", "Accept-Language, Cookie")]}, ""),
        ({"headers": [("Cache-Control", "private, max-age=60")]}, ""),
        ({"headers": [("Cache-Control", "no-store")]}, ""),
        (
            {"body_suffix": b'<input type="hidden" name="csrfmiddlewaretoken" value="x">'},
            "",
        ),
        ({"body_suffix": CSRF_SECRET.encode()}, f"csrftoken={CSRF_SECRET}"),
    ],
    ids=["set-cookie", "vary-cookie", "private", "no-store", "csrf-field", "csrf-value"],
)
def test_a_marked_page_that_is_per_visitor_is_never_kept(
    altered_app, two_published, changes, cookie
):
    app = altered_app(**changes)
    path = reverse("public:list", args=[two_published.slug])
    status, _h, _b = call(app, path, **({"cookie": cookie} if cookie else {}))
    assert status.startswith("200")
    assert not app.local
    assert page_entries() == {}
    with CaptureQueriesContext(connection) as queries:
        call(app, path)
    assert len(queries) > 0


def test_an_unknown_declaration_writes_nothing_to_the_cache(app, declaration):
    before = stored()
    for path in (
        "/declarations/inconnue/",
        "/declarations/inconnue/signataires/",
        "/declarations/inconnue/signataires/nouvelles/",
        "/declarations/inconnue/statistiques/",
        "/declarations/inconnue/widget/",
        "/declarations/inconnue/dernieres/",
        "/api/declarations/inconnue",
    ):
        status, _h, _b = call(app, path)
        assert status.startswith("404"), path
    assert stored() == before  # no version remembered, no page
    assert not app.local


# The counts' version covers what the pages show --------------------------------------


def test_making_a_deliberation_public_shows_on_the_cached_list_at_once(
    app, two_published, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PRIVATE_ROOT = tmp_path
    signature = Signature.objects.filter(status="published").first()
    with django_capture_on_commit_callbacks(execute=True):
        attach_deliberation(
            signature_id=signature.pk,
            uploaded_file=SimpleUploadedFile("d.pdf", b"%PDF-1.4\n%%EOF\n"),
        )
    path = reverse("public:list", args=[two_published.slug])
    link = reverse("public:deliberation", args=[signature.public_id]).encode()
    _s, _h, before = call(app, path)
    assert link not in before
    with django_capture_on_commit_callbacks(execute=True):
        set_deliberation_public(signature_id=signature.pk, is_public=True, actor=None)
    pagecache_app_memo_expires(app)
    _s, _h, after = call(app, path)
    assert link in after


def _swap_levels(signature):
    other = Signature.objects.exclude(pk=signature.pk).filter(status="published").first()
    Signature.objects.filter(pk=signature.pk).update(verification="proconnect")
    Signature.objects.filter(pk=other.pk).update(verification="email")


def _update(**fields):
    return lambda signature: Signature.objects.filter(pk=signature.pk).update(**fields)


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (_update(civility="madame"), "Madame la"),
        (_update(function="maire"), "Maire"),
        (_update(function="autre", function_other="Déléguée au climat"), "Déléguée au climat"),
        (_update(first_name="Camille"), "Camille"),
        (_update(comment="Pour la ruralité"), "Pour la ruralit"),
        (lambda s: s.networks.add(NetworkFactory(short_name="ReseauNeuf")), "ReseauNeuf"),
        (_swap_levels, None),
    ],
    ids=["civility", "function", "function-other", "name", "comment", "network", "levels-swapped"],
)
def test_a_change_of_what_the_list_shows_renders_it_again(
    app, two_published, refresh_counts, change, shown
):
    signature = Signature.objects.filter(status="published").order_by("pk").first()
    Signature.objects.exclude(pk=signature.pk).update(verification="proconnect")
    refresh_counts(two_published)
    path = reverse("public:list", args=[two_published.slug])
    _s, _h, before = call(app, path)
    change(signature)
    refresh_counts(two_published)
    pagecache_app_memo_expires(app)
    _s, _h, after = call(app, path)
    assert after != before
    if shown:
        assert shown.encode() in after


def test_the_apis_declaration_is_kept_whatever_its_query(app, two_published):
    path = f"/api/declarations/{two_published.slug}"
    status, headers, first = call(app, path)
    assert status.startswith("200")
    assert pagecache.HEADER not in headers
    with CaptureQueriesContext(connection) as queries:
        status, _h, again = call(app, path, query="utm_source=1")
    assert status.startswith("200")
    assert again == first
    assert len(queries) == 0
