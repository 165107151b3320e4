"""What the public reads (public.views): the live list, its updates and CSV, the statistics
page and the embeddable widget. Most tests read `signed_declaration` (tests/conftest.py)."""

import csv
import io
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations.models import Network
from signatures.stats import refresh_stats
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory, bulk_signatures

pytestmark = pytest.mark.django_db

# The contact details in `signed_declaration`, which no public page may show.
SECRETS = ("prive-1@toulouse.fr", "prive-2@brest.fr", "0561000000", "203.0.113.5", "attente@x.fr")


def _names(response) -> list[str]:
    return re.findall(
        r'<li class="border-bottom py-2 signature-item"[^>]*>\s*<strong>([^<]+)<',
        response.content.decode(),
    )


def _list(client, declaration, **params):
    return client.get(reverse("public:list", args=[declaration.slug]), params)


def _statistics(client, declaration):
    return client.get(reverse("public:statistics", args=[declaration.slug]))


def _row(label: str, count: str) -> str:
    return (
        f'<tr><th scope="row" class="fw-normal">{label}</th><td class="text-end">{count}</td></tr>'
    )


def test_list_shows_published_signatures_newest_first(client, signed_declaration):
    assert _names(_list(client, signed_declaration)) == ["Brest test", "Toulouse Métropole test"]


def test_list_applies_the_filters_of_the_query_string(client, signed_declaration):
    response = _list(client, signed_declaration, departement="29", sort="population")
    assert _names(response) == ["Brest test"]


def test_list_shows_published_signatures_without_contact_details(client, declaration, territory):
    SignatureFactory(
        declaration=declaration,
        territory=territory,
        status="published",
        email="prive@testville.fr",
        phone="05 61 00 00 00",
        submitted_ip="203.0.113.77",
        comment="Engagés !",
    )
    SignatureFactory(declaration=declaration, status="pending", email="attente@x.fr")
    html = _list(client, declaration).content.decode()
    assert "Métropole de Testville" in html
    assert "Engagés !" in html
    assert (
        '<p class="display-6 fw-bold mb-0">1</p>\n      <p class="mb-0">territoire signataire</p>'
        in html
    )
    assert "@" not in html.split("<main", 1)[1]
    assert "05 61" not in html
    assert "203.0.113.77" not in html


def test_list_and_updates_show_nothing_private(client, signed_declaration):
    pages = [
        _list(client, signed_declaration).content.decode(),
        client.get(
            reverse("public:list_updates", args=[signed_declaration.slug]), {"depuis": "1"}
        ).content.decode(),
    ]
    for html in pages:
        for secret in SECRETS:
            assert secret not in html


def test_list_shows_counts_from_the_snapshot(client, signed_declaration):
    html = _list(client, signed_declaration).content.decode()
    assert '<p class="display-6 fw-bold mb-0">2</p>' in html
    assert "4\xa0500" in html  # the population of the métropole's communes and Brest


def test_list_keeps_the_filters_in_the_csv_link_and_the_polling(client, signed_declaration):
    html = _list(client, signed_declaration, region="76", sort="recent").content.decode()
    # The default order is left out of the links: the same list, the shortest address.
    assert 'href="/declarations/alliance-test/signataires.csv?region=76"' in html
    assert "signataires/nouvelles/?region=76&amp;sort=recent&amp;depuis=" in html


@pytest.mark.parametrize("count", [3, 60])
def test_list_query_count_does_not_grow(client, django_assert_num_queries, count):
    declaration = DeclarationFactory()
    for _ in range(count):
        signature = SignatureFactory(declaration=declaration, status="published")
        signature.networks.add(Network.objects.get(slug="anpp"))
    # the counts' version (for the page cache); declaration; régions, départements and
    # networks for the filters; count; the page; its networks; the counts snapshot (the
    # version and the snapshot come from the cache in production)
    with django_assert_num_queries(9):
        response = _list(client, declaration)
    assert response.status_code == 200


def test_updates_answer_304_only_in_the_language_they_were_written_in(client, signed_declaration):
    """The poll is public (revalidated by shared caches): its validator names its language."""
    page = _list(client, signed_declaration).content.decode()
    poll = (
        re.search(r'id="signature-poller" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    )
    etag = client.get(poll)["ETag"]
    client.cookies["django_language"] = "en"
    assert client.get(poll, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_updates_bring_new_signatures_then_answer_304(client, signed_declaration, refresh_counts):
    page = _list(client, signed_declaration).content.decode()
    poll = (
        re.search(r'id="signature-poller" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")
    )
    first = client.get(poll)
    assert first.status_code == 200
    assert "signature-item" not in first.content.decode()  # nothing new yet
    etag = first["ETag"]
    assert client.get(poll, HTTP_IF_NONE_MATCH=etag).status_code == 304

    SignatureFactory(
        declaration=signed_declaration,
        status="published",
        first_name="Nouvelle",
        territory=TerritoryFactory(name="Nouvelle commune test"),
    )
    refresh_counts(signed_declaration)
    fresh = client.get(poll, HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    html = fresh.content.decode()
    assert 'hx-swap-oob="afterbegin:#signature-list"' in html
    assert "Nouvelle commune test" in html
    assert "Une nouvelle signature en tête de liste." in html
    assert 'id="signature-counters"' in html
    next_poll = re.search(r'hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert next_poll != poll
    assert "signature-item" not in client.get(next_poll).content.decode()


def test_updates_give_no_rows_for_other_sorts(client, signed_declaration):
    url = reverse("public:list_updates", args=[signed_declaration.slug])
    html = client.get(url, {"depuis": "1", "sort": "nom"}).content.decode()
    assert "signature-item" not in html


def test_updates_tolerate_a_malformed_depuis(client, signed_declaration):
    url = reverse("public:list_updates", args=[signed_declaration.slug])
    for value in ("abc", "9" * 40, "-5"):
        assert client.get(url, {"depuis": value}).status_code == 200


def test_csv_streams_public_fields_with_filters(client, signed_declaration):
    response = client.get(reverse("public:csv", args=[signed_declaration.slug]), {"region": "76"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["territoire", "type", "code officiel"]
    assert len(rows) == 2
    assert rows[1][0] == "Toulouse Métropole test"
    assert "Jean-Luc Moudénc" in rows[1]
    assert "France urbaine" in rows[1]
    for secret in (*SECRETS, "@"):
        assert secret not in text


# The CSV is left out on purpose: it streams in chunks of 500 rows, two queries each.
@pytest.mark.parametrize("view", ["public:list", "public:list_updates"])
def test_list_and_updates_cost_the_same_at_10_and_5000_signatures(client, declaration, view):
    url = reverse(view, args=[declaration.slug])

    def queries():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"depuis": "1"})
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        return len(captured)

    bulk_signatures(declaration, 10)
    refresh_stats(declaration_id=declaration.pk)
    small = queries()
    bulk_signatures(declaration, 4990, start=10)
    refresh_stats(declaration_id=declaration.pk)
    assert queries() == small


@pytest.mark.usefixtures("declaration_with_goal")
def test_statistics_page_shows_counters_from_the_snapshot(client, signed_declaration):
    html = _statistics(client, signed_declaration).content.decode()
    assert '<p class="display-6 fw-bold mb-0">2</p>' in html
    assert "territoires signataires" in html
    # The métropole covers its member communes (3,000 inhabitants), Brest itself (1,500).
    assert '<p class="display-6 fw-bold mb-0">4\xa0500</p>' in html
    assert 'class="goal-progress w-100" max="100" value="20">20 %</progress>' in html
    assert "Chiffres mis à jour le " in html


def test_statistics_page_breaks_down_by_kind_network_and_region(client, signed_declaration):
    html = _statistics(client, signed_declaration).content.decode()
    assert _row("Métropole", "1") in html
    assert _row("Commune", "1") in html
    assert _row("France urbaine", "1") in html
    assert _row("ANPP", "0") in html
    assert _row("Occitanie", "1") in html
    assert _row("Bretagne", "1") in html
    # Each chart is an image with a title, immediately followed by its table.
    for chart_id in ("kind", "network", "region"):
        assert f'aria-labelledby="{chart_id}-svg-title {chart_id}-svg-desc"' in html
    assert re.search(r"</svg>\s*<table[^>]*>\s*<caption>Territoires signataires par région<", html)


def test_statistics_map_colours_and_titles_each_departement(client, signed_declaration):
    html = _statistics(client, signed_declaration).content.decode()
    # Two classes from the data: Haute-Garonne's 86 % (3,000 of 3,500), Finistère's 100 %.
    for code, name, share, level in (
        ("31", "Haute-Garonne", "86", 1),
        ("29", "Finistère", "100", 5),
    ):
        assert re.search(
            rf'<a href="/declarations/alliance-test/signataires/\?departement={code}" '
            rf'class="map-link"><title>{name} : 1 territoire signataire, {share}\xa0% des '
            rf"habitants — voir la liste</title>"
            rf'<path class="map-area map-level-{level}" d="[^"]+">',
            html,
        )
    assert re.search(
        r"<title>Ain : aucun territoire signataire — voir la liste</title>"
        r'<path class="map-area map-level-0" d="[^"]+">',
        html,
    )
    assert html.count('<path class="map-area') == 96
    assert "<figcaption" in html
    # The table lists the départements with signatures.
    assert ">Finistère</a> (29)</th>" in html
    assert ">Haute-Garonne</a> (31)</th>" in html
    assert ">Ain</a> (01)</th>" not in html


def test_statistics_tables_have_captions_and_header_scopes(client, signed_declaration):
    html = _statistics(client, signed_declaration).content.decode()
    captions = re.findall(r"<caption>([^<]+)</caption>", html)
    assert captions == [
        "Territoires signataires par type de territoire",
        "Territoires signataires membres de chaque réseau",
        "Signatures publiées par niveau de vérification",
        "Territoires signataires par région",
        "Territoires signataires par département",
        "Signatures publiées par jour",
    ]
    assert html.count("<table") == len(captions)
    assert "<th>" not in html


def test_statistics_page_shows_signatures_per_day(client, signed_declaration):
    html = _statistics(client, signed_declaration).content.decode()
    assert html.count('<rect class="day-bar"') == 2  # the day before yesterday, yesterday
    assert "Jour le plus actif" in html
    assert '<td class="text-end">1</td>' in html


def test_statistics_page_offers_the_embed_code(client, signed_declaration, settings):
    settings.SITE_URL = "https://alliance.example.org"
    signed_declaration.title = 'Le "pacte" d\'Alliance'
    signed_declaration.save()
    html = _statistics(client, signed_declaration).content.decode()
    assert '<label for="embed-code"' in html
    snippet = re.search(r'<textarea id="embed-code"[^>]*readonly>([^<]*)</textarea>', html)
    # What the visitor copies: the canonical address, and a title that cannot break out.
    assert unescape(snippet.group(1)) == (
        '<iframe src="https://alliance.example.org/declarations/alliance-test/widget/" '
        'title="Compteur des signatures — Le &quot;pacte&quot; d\'Alliance" '
        'width="320" height="260" loading="lazy"></iframe>'
    )


def test_statistics_page_without_snapshot_or_goal(client):
    declaration = DeclarationFactory()
    response = _statistics(client, declaration)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Aucune signature publiée pour le moment." in html
    assert "Les chiffres n'ont pas encore été calculés." in html
    assert "<progress" not in html


@pytest.mark.parametrize("count", [3, 60])
def test_statistics_page_query_count_does_not_grow(
    client, declaration, django_assert_num_queries, refresh_counts, count
):
    for _ in range(count):
        SignatureFactory(declaration=declaration, status="published")
    refresh_counts(declaration)
    # The declaration; the figures come from the cached snapshot; the first visit after a
    # change also computes the map's shares (two queries), which later visits read cached.
    with django_assert_num_queries(3):
        _statistics(client, declaration)
    with django_assert_num_queries(1):
        response = _statistics(client, declaration)
    assert f'<p class="display-6 fw-bold mb-0">{count}</p>' in response.content.decode()


def test_statistics_page_answers_get_only(client, declaration):
    response = client.post(reverse("public:statistics", args=[declaration.slug]))
    assert response.status_code == 405


@pytest.mark.usefixtures("declaration_with_goal")
def test_widget_shows_the_counter_and_may_be_framed_anywhere(client, signed_declaration):
    response = client.get(reverse("public:widget", args=[signed_declaration.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]
    assert set(response.headers["Cache-Control"].split(", ")) == {"public", "max-age=60"}
    assert '<html lang="fr">' in html
    assert "bootstrap.min.css" in html
    assert '<p class="widget-count fw-bold mb-0">2</p>' in html
    assert "4\xa0500 habitants couverts" in html
    assert "Objectif : 10 territoires (20 %)" in html
    assert 'href="/declarations/alliance-test/" target="_blank" rel="noopener"' in html


@pytest.mark.parametrize("name", ["public:statistics", "declarations:detail"])
def test_pages_other_than_the_widget_refuse_to_be_framed(client, declaration, name):
    response = client.get(reverse(name, args=[declaration.slug]))
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_statistics_and_widget_never_show_contact_details(client, signed_declaration):
    for name in ("public:statistics", "public:widget"):
        html = client.get(reverse(name, args=[signed_declaration.slug])).content.decode()
        assert "Haute-Garonne" in html or "habitants couverts" in html
        for secret in SECRETS:
            assert secret not in html
        assert "@" not in html
