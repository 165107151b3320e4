"""The open API (public.api): declarations, their counts and their signatures, public data only."""

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openapi_spec_validator import validate

from declarations.models import Declaration, Network
from public.api import CURSOR_SALT
from signatures.models import Flag, ModerationEvent
from territories.normalize import normalize
from tests.factories import (
    DeclarationFactory,
    DemandFactory,
    DemandGroupFactory,
    FounderFactory,
    SignatureFactory,
    TerritoryFactory,
    bulk_signatures,
    fake_siren,
)

pytestmark = pytest.mark.django_db


def _published(declaration, at=None, **territory):
    return SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(**territory),
        status="published",
        published_at=at or timezone.now(),
    )


def _url(declaration, suffix=""):
    return f"/api/declarations/{declaration.slug}{suffix}"


@pytest.mark.usefixtures("declaration_with_goal")
def test_declaration_list_gives_every_declaration_with_its_snapshot_counts(
    client, declaration, refresh_counts
):
    closed = DeclarationFactory(slug="fermee", is_open=False, date=datetime.date(2019, 1, 1))
    _published(declaration, population=1200)
    refresh_counts(declaration)
    response = client.get("/api/declarations")
    assert response.status_code == 200
    rows = {row["slug"]: row for row in response.json()}
    assert set(rows) == {"alliance-des-territoires", "alliance-test", "fermee"}
    row = rows["alliance-test"]
    assert row["title"] == declaration.title
    assert row["subtitle"] == "Pour la coopération"
    assert row["date"] == "2024-01-15"
    assert row["is_open"] is True
    assert row["signature_goal"] == 10
    assert row["url"] == f"{settings.SITE_URL}/declarations/alliance-test/"
    assert row["counts"]["total"] == 1
    assert row["counts"]["computed_at"] is not None
    assert rows["fermee"]["is_open"] is False
    assert rows[closed.slug]["counts"] == {"total": 0, "population": 0, "computed_at": None}
    assert [row["slug"] for row in response.json()][-1] == "fermee"  # oldest last


@pytest.mark.usefixtures("declaration_with_goal")
def test_declaration_detail_gives_text_demands_founders_networks_and_counts(
    client, declaration, refresh_counts, territories
):
    group = DemandGroupFactory(declaration=declaration, lead_in="Nous demandons :", position=1)
    DemandFactory(group=group, heading="deuxième", position=2)
    DemandFactory(group=group, heading="première", position=1)
    DemandGroupFactory(declaration=declaration, lead_in="Et aussi :", position=2)
    FounderFactory(declaration=declaration, functions="Présidente\n\n  Maire de Testville  ")
    declaration.initiators.set(Network.objects.filter(slug__in=["red", "anpp"]))
    signature = _published(
        declaration,
        kind="commune",
        departement=territories["haute_garonne"],
        region=territories["occitanie"],
    )
    signature.networks.set(Network.objects.filter(slug="red"))
    _published(declaration, kind="commune", departement=territories["finistere"])
    refresh_counts(declaration)

    body = client.get(_url(declaration)).json()

    assert body["lead"] == "Un chapeau."
    assert body["body"] == "Premier paragraphe avec **du gras**.\n\nSecond paragraphe."
    assert [g["lead_in"] for g in body["demand_groups"]] == ["Nous demandons :", "Et aussi :"]
    assert body["demand_groups"][0]["demands"] == [
        {"heading": "première", "text": "**première** et sa suite ;"},
        {"heading": "deuxième", "text": "**deuxième** et sa suite ;"},
    ]
    assert body["founders"] == [
        {"name": "Camille MARTIN", "functions": ["Présidente", "Maire de Testville"]}
    ]
    assert [n["slug"] for n in body["initiators"]] == ["anpp", "red"]
    assert set(body["initiators"][0]) == {"slug", "short_name", "name"}
    counts = body["counts"]
    assert counts["total"] == 2
    assert counts["goal"] == 10
    assert counts["by_kind"] == [{"kind": "commune", "label": "Commune", "count": 2}]
    assert {"slug": "red", "name": "R.E.D.", "count": 1} in counts["by_network"]
    assert counts["by_region"] == [{"code": "76", "name": "Occitanie", "count": 1}]
    assert counts["by_departement"] == [{"code": "29", "count": 1}, {"code": "31", "count": 1}]
    assert counts["by_day"] == [{"date": timezone.localdate().isoformat(), "count": 2}]


def test_declaration_detail_reads_counts_from_the_snapshot_not_the_table(
    client, declaration, refresh_counts
):
    _published(declaration)
    refresh_counts(declaration)
    _published(declaration)  # published, but no refresh yet
    assert client.get(_url(declaration)).json()["counts"]["total"] == 1


def test_unknown_declaration_is_a_json_404_in_french(client):
    for url in ("/api/declarations/inconnue", "/api/declarations/inconnue/signatures"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Déclaration introuvable."}


def test_api_responses_hold_no_private_data(client, declaration, refresh_counts):
    email, phone, ip = "secret.elu@prive-test.fr", "06 99 88 77 66", "203.0.113.77"
    signature = SignatureFactory(
        declaration=declaration,
        status="published",
        email=email,
        phone=phone,
        submitted_ip=ip,
        comment="Un commentaire public.",
    )
    Flag.objects.create(signature=signature, code="webmail", detail="drapeau-prive")
    ModerationEvent.objects.create(
        signature=signature,
        action="approve",
        note="note-de-moderation",
        from_status="confirmed",
        to_status="published",
    )
    hidden = SignatureFactory(declaration=declaration, status="confirmed", last_name="Cachée")
    refresh_counts(declaration)
    # The factories' other addresses all end in "territoire-test.fr".
    private = [email, phone, ip, "territoire-test.fr", "drapeau-prive", "note-de-moderation"]
    urls = ["/api/declarations", _url(declaration), _url(declaration, "/signatures")]
    for url in [*urls, "/api/openapi.json"]:
        response = client.get(url)
        assert response.status_code == 200
        raw = response.content.decode()
        # Field names as JSON keys ("email" alone is also a verification level's name).
        for secret in [*private, "Cachée", '"email":', '"phone":', "submitted_ip"]:
            assert secret not in raw, (url, secret)
    rows = client.get(_url(declaration, "/signatures")).json()["results"]
    assert [row["id"] for row in rows] == [signature.public_id]
    assert rows[0]["comment"] == "Un commentaire public."
    assert hidden.public_id not in [row["id"] for row in rows]


def test_signature_list_gives_the_public_fields(client, declaration, territories):
    signature = SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(
            kind="metropole",
            code="244200770",
            name="Saint-Étienne Métropole",
            siren=fake_siren(1),
            departement=territories["haute_garonne"],
            region=territories["occitanie"],
            population=400_000,
        ),
        first_name="Camille",
        last_name="Durand",
        function="autre",
        function_other="Vice-présidente déléguée",
        comment="Pour la relance.",
        status="published",
    )
    signature.networks.set(Network.objects.filter(slug="france-urbaine"))
    body = client.get(_url(declaration, "/signatures")).json()
    assert body["count"] == 1
    assert body["next"] is None
    row = body["results"][0]
    assert set(row) == {
        "id",
        "territory",
        "kind",
        "code",
        "siren",
        "departement",
        "region",
        "population",
        "signatory",
        "function",
        "networks",
        "comment",
        "published_at",
        "verification",
    }
    assert row["territory"] == "Saint-Étienne Métropole"
    assert row["kind"] == "Métropole"
    assert row["siren"] == fake_siren(1)
    assert row["departement"] == "Haute-Garonne"
    assert row["region"] == "Occitanie"
    assert row["population"] == 400_000
    assert row["signatory"] == "Camille Durand"
    assert row["function"] == "Vice-présidente déléguée"
    assert row["networks"] == ["France urbaine"]
    published = datetime.datetime.fromisoformat(row["published_at"])
    assert abs(published - signature.published_at) < datetime.timedelta(milliseconds=1)


def _territory_names(client, declaration, **params):
    response = client.get(_url(declaration, "/signatures"), params)
    assert response.status_code == 200
    return {row["territory"] for row in response.json()["results"]}


def test_signature_list_filters_like_the_public_list(client, declaration, territories):
    in_haute_garonne = {
        "departement": territories["haute_garonne"],
        "region": territories["occitanie"],
    }
    stephanois = _published(
        declaration, kind="metropole", name="Saint-Étienne Métropole", **in_haute_garonne
    )
    stephanois.networks.set(Network.objects.filter(slug="france-urbaine"))
    _published(declaration, kind="commune", name="Muret", **in_haute_garonne)
    _published(declaration, kind="commune", name="Quimper", departement=territories["finistere"])
    SignatureFactory(
        declaration=declaration,
        territory=TerritoryFactory(name="Élancourt", kind="commune"),
        first_name="Zoé",
        last_name="Lefèvre",
        signatory_search=normalize("Zoé Lefèvre"),
        status="published",
    )

    assert _territory_names(client, declaration, kind="commune") == {
        "Muret",
        "Quimper",
        "Élancourt",
    }
    assert _territory_names(client, declaration, region="76") == {
        "Saint-Étienne Métropole",
        "Muret",
    }
    assert _territory_names(client, declaration, departement="29") == {"Quimper"}
    assert _territory_names(client, declaration, network="france-urbaine") == {
        "Saint-Étienne Métropole"
    }
    assert _territory_names(client, declaration, q="saint etienne") == {"Saint-Étienne Métropole"}
    assert _territory_names(client, declaration, q="ÉLANCOURT") == {"Élancourt"}
    assert _territory_names(client, declaration, q="zoe lefevre") == {"Élancourt"}
    assert _territory_names(client, declaration, q="metropole", kind="commune") == set()
    # As on the public list, an unknown value is ignored rather than refused.
    assert len(_territory_names(client, declaration, kind="inconnu", region="00")) == 4


def test_signature_list_ignores_sort_and_keeps_newest_first(client, declaration):
    now = timezone.now()
    _published(declaration, at=now - datetime.timedelta(hours=2), name="Aaa", population=10)
    _published(declaration, at=now, name="Zzz", population=5)
    for sort in ("nom", "population", "recent"):
        rows = client.get(_url(declaration, "/signatures"), {"sort": sort}).json()["results"]
        assert [row["territory"] for row in rows] == ["Zzz", "Aaa"]


def test_cursor_pagination_walks_every_row_exactly_once(client, declaration):
    now = timezone.now()
    # Three rows share one publication time: the pk must break the tie.
    moments = [now, now, now, now - datetime.timedelta(minutes=1)] + [
        now - datetime.timedelta(hours=h) for h in (1, 2, 3)
    ]
    signatures = [_published(declaration, at=moment, kind="commune") for moment in moments]
    _published(declaration, kind="region")  # filtered out below
    expected = [
        s.public_id for s in sorted(signatures, key=lambda s: (s.published_at, s.pk), reverse=True)
    ]

    seen, pages = [], []
    url = _url(declaration, "/signatures?kind=commune&limit=3")
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 7
        seen += [row["id"] for row in body["results"]]
        pages.append(len(body["results"]))
        url = body["next"]
        if url:
            assert url.startswith("http://testserver/api/declarations/alliance-test/signatures?")
            assert "kind=commune" in url
            assert "limit=3" in url
    assert seen == expected
    assert pages == [3, 3, 1]


@pytest.mark.parametrize(
    "cursor",
    [
        "pas-un-curseur",
        signing.dumps(["2024-01-01T00:00:00+00:00", 1], salt="autre-chose"),
        signing.dumps("texte", salt=CURSOR_SALT),
        signing.dumps(["pas une date", 1], salt=CURSOR_SALT),
        signing.dumps(["2024-01-01T00:00:00", "abc"], salt=CURSOR_SALT),  # naive
        signing.dumps(["2024-01-01T00:00:00+00:00", 1], salt=CURSOR_SALT),  # a row id
    ],
)
def test_invalid_cursor_is_a_400_in_french(client, declaration, cursor):
    _published(declaration)
    response = client.get(_url(declaration, "/signatures"), {"cursor": cursor})
    assert response.status_code == 400
    assert response.json() == {"detail": "Curseur invalide."}


def test_tampered_cursor_is_refused(client, declaration):
    for _ in range(3):
        _published(declaration)
    next_url = client.get(_url(declaration, "/signatures"), {"limit": 1}).json()["next"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    assert client.get(next_url).status_code == 200
    payload, timestamp_and_mac = cursor.split(":", 1)
    stamp, public_id = json.loads(signing.b64_decode(payload.encode()))
    forged = signing.b64_encode(json.dumps([stamp, public_id[::-1]]).encode()).decode()
    forged_cursor = f"{forged}:{timestamp_and_mac}"
    response = client.get(_url(declaration, "/signatures"), {"cursor": forged_cursor})
    assert response.status_code == 400
    assert response.json() == {"detail": "Curseur invalide."}


@pytest.mark.parametrize("limit", ["0", "201", "beaucoup"])
def test_limit_out_of_range_is_a_400_in_french(client, declaration, limit):
    response = client.get(_url(declaration, "/signatures"), {"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"detail": "Paramètres invalides : limit."}


def test_limit_defaults_to_50_and_allows_200(client, declaration):
    bulk_signatures(declaration, 201)
    default = client.get(_url(declaration, "/signatures")).json()
    assert len(default["results"]) == 50
    assert default["count"] == 201
    most = client.get(_url(declaration, "/signatures"), {"limit": 200}).json()
    assert len(most["results"]) == 200
    assert most["next"] is not None


@pytest.mark.parametrize(
    "url",
    [
        "/api/declarations",
        "/api/declarations/alliance-test",
        "/api/declarations/alliance-test/signatures",
        "/api/declarations/alliance-test/signatures?kind=commune&limit=2",
    ],
)
def test_etag_answers_304_when_the_client_copy_is_current(
    client, declaration, refresh_counts, url
):
    _published(declaration, kind="commune")
    refresh_counts(declaration)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=10"
    etag = first["ETag"]
    assert etag.startswith('W/"')

    second = client.get(url, headers={"if-none-match": etag})
    assert second.status_code == 304
    assert second.content == b""
    assert second["ETag"] == etag
    assert second["Cache-Control"] == "public, max-age=10"

    assert client.get(url, headers={"if-none-match": 'W/"autre"'}).status_code == 200


def test_etag_depends_on_the_exact_query(client, declaration):
    url = _url(declaration, "/signatures")
    etags = {
        client.get(url, params)["ETag"]
        for params in ({}, {"kind": "commune"}, {"kind": "region"}, {"limit": 2})
    }
    assert len(etags) == 4


def test_etag_changes_once_a_new_signature_is_counted(client, declaration, refresh_counts):
    _published(declaration)
    refresh_counts(declaration)
    urls = ["/api/declarations", _url(declaration), _url(declaration, "/signatures")]
    before = {url: client.get(url)["ETag"] for url in urls}

    _published(declaration)
    refresh_counts(declaration)

    for url in urls:
        response = client.get(url, headers={"if-none-match": before[url]})
        assert response.status_code == 200, url
        assert response["ETag"] != before[url]
    assert client.get(_url(declaration, "/signatures")).json()["count"] == 2


def test_cors_lets_any_site_read_the_api(client, declaration):
    origin = {"origin": "https://donnees.exemple.org"}
    for url in ("/api/declarations", _url(declaration), _url(declaration, "/signatures")):
        response = client.get(url, headers=origin)
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response
    etag = client.get("/api/declarations")["ETag"]
    not_modified = client.get("/api/declarations", headers={**origin, "if-none-match": etag})
    assert not_modified.status_code == 304
    assert not_modified["Access-Control-Allow-Origin"] == "*"
    # Only the API: the site's pages stay same-origin.
    assert "Access-Control-Allow-Origin" not in client.get("/healthz", headers=origin)


def _queries(client, url, status=200, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == status
    return len(queries)


def _urls(client, declaration) -> list[str]:
    signatures = _url(declaration, "/signatures")
    return [
        "/api/declarations",
        _url(declaration),
        signatures,
        f"{signatures}?network=red&q=commune&limit=200",
        client.get(signatures, {"limit": 3}).json()["next"],
    ]


def test_api_query_counts_do_not_grow_with_the_signatures(client, declaration, refresh_counts):
    group = DemandGroupFactory(declaration=declaration)
    DemandFactory.create_batch(3, group=group)
    FounderFactory.create_batch(2, declaration=declaration)
    declaration.initiators.set(Network.objects.all())
    bulk_signatures(declaration, 10)
    for each in Declaration.objects.all():  # as the periodic task does
        refresh_counts(each)
    small = [_queries(client, url) for url in _urls(client, declaration)]

    bulk_signatures(declaration, 4990, start=10)
    refresh_counts(declaration)
    assert client.get(_url(declaration, "/signatures")).json()["count"] == 5000
    large = [_queries(client, url) for url in _urls(client, declaration)]

    assert small == large
    # declarations: 1; detail: declaration + groups, demands, founders, initiators;
    # signatures: declaration + 3 for the filter choices + count + page + networks.
    assert large == [1, 5, 7, 7, 7]
    # A 304 is decided on the declaration row and the cached snapshot alone.
    not_modified = [
        _queries(client, url, 304, if_none_match=client.get(url)["ETag"])
        for url in _urls(client, declaration)
    ]
    assert not_modified == [1, 1, 1, 1, 1]


def test_openapi_schema_is_valid(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    assert schema["info"]["title"] == "Alliance des territoires — API ouverte"
    assert set(schema["paths"]) == {
        "/api/declarations",
        "/api/declarations/{slug}",
        "/api/declarations/{slug}/signatures",
    }
    parameters = schema["paths"]["/api/declarations/{slug}/signatures"]["get"]["parameters"]
    assert {p["name"] for p in parameters} == {
        "slug",
        "q",
        "kind",
        "region",
        "departement",
        "network",
        "verification",
        "cursor",
        "limit",
    }


def test_docs_page_loads_swagger_from_local_static_files(client):
    response = client.get("/api/docs")
    html = response.content.decode()
    assert response.status_code == 200
    for asset in (
        "ninja/swagger-ui.css",
        "ninja/swagger-ui-bundle.js",
        "ninja/swagger-ui-init.js",
    ):
        assert f'"/static/{asset}"' in html
        assert finders.find(asset), asset
    assert "cdn" not in html
    assert "/api/openapi.json" in html
    # The site's strict policy applies unchanged: Swagger UI needs no exception.
    directives = {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in response["Content-Security-Policy"].split(";")
    }
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_declaration_detail_of_a_closed_declaration_is_not_open(client):
    Declaration.objects.filter(slug="alliance-des-territoires").update(
        closes_at=timezone.now() - datetime.timedelta(days=1)
    )
    response = client.get("/api/declarations/alliance-des-territoires")
    assert response.json()["is_open"] is False
