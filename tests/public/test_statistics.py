"""The statistics page, the embeddable counter and the declaration's sharing metadata."""

import datetime
import re
from html import unescape

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from declarations.models import Network
from public import charts
from signatures.stats import refresh_stats
from tests.factories import DeclarationFactory, SignatureFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

PRIVATE = {
    "email": "prive@testville.fr",
    "phone": "05 61 00 00 00",
    "submitted_ip": "203.0.113.77",
}


@pytest.fixture
def declaration():
    return DeclarationFactory(slug="alliance-test", signature_goal=10)


@pytest.fixture
def signed(declaration, django_capture_on_commit_callbacks):
    """Three published signatures in Haute-Garonne, one pending that must not count."""
    region = TerritoryFactory(kind="region", code="76", name="Occitanie")
    haute_garonne = TerritoryFactory(
        kind="departement", code="31", name="Haute-Garonne", region=region
    )
    place = {"departement": haute_garonne, "region": region}
    communes = [
        TerritoryFactory(kind="commune", population=1500, **place),
        TerritoryFactory(kind="commune", population=2000, **place),
    ]
    epci = TerritoryFactory(kind="cc", population=9000, **place)
    anpp = Network.objects.get(slug="anpp")
    for territory in [*communes, epci]:
        signature = SignatureFactory(
            declaration=declaration, territory=territory, status="published", **PRIVATE
        )
        signature.networks.add(anpp)
    SignatureFactory(declaration=declaration, status="pending")
    _refresh(declaration, django_capture_on_commit_callbacks)
    return declaration


def _refresh(declaration, django_capture_on_commit_callbacks):
    # As in production, the snapshot reaches the cache after commit.
    with django_capture_on_commit_callbacks(execute=True):
        refresh_stats(declaration_id=declaration.pk)


def _statistics(client, declaration):
    return client.get(reverse("public:statistics", args=[declaration.slug]))


def _row(label: str, count: str) -> str:
    return (
        f'<tr><th scope="row" class="fw-normal">{label}</th><td class="text-end">{count}</td></tr>'
    )


def test_statistics_page_shows_counters_from_the_snapshot(client, signed):
    html = _statistics(client, signed).content.decode()
    assert '<p class="display-6 fw-bold mb-0">3</p>' in html
    assert "territoires signataires" in html
    # The EPCI has no linked commune: its population adds to the communes'.
    assert '<p class="display-6 fw-bold mb-0">12\xa0500</p>' in html
    assert 'class="goal-progress w-100" max="100" value="30">30 %</progress>' in html
    assert "Chiffres mis à jour le " in html


def test_statistics_page_breaks_down_by_kind_network_and_region(client, signed):
    html = _statistics(client, signed).content.decode()
    assert _row("Commune", "2") in html
    assert _row("Communauté de communes", "1") in html
    assert _row("ANPP", "3") in html
    assert _row("France urbaine", "0") in html
    assert _row("Occitanie", "3") in html
    # Each chart is an image with a title, immediately followed by its table.
    for chart_id in ("kind", "network", "region"):
        assert f'aria-labelledby="{chart_id}-svg-title {chart_id}-svg-desc"' in html
    assert re.search(r"</svg>\s*<table[^>]*>\s*<caption>Territoires signataires par région<", html)


def test_statistics_map_colours_and_titles_each_departement(client, signed):
    html = _statistics(client, signed).content.decode()
    assert re.search(
        r'<path class="map-area map-level-2" d="[^"]+">'
        r"<title>Haute-Garonne : 3 territoires signataires</title></path>",
        html,
    )
    assert re.search(
        r'<path class="map-area map-level-0" d="[^"]+"><title>Ain : aucun territoire signataire<',
        html,
    )
    assert html.count('<path class="map-area') == 96
    assert "<figcaption" in html
    # The table lists the départements with signatures.
    assert "<td>31</td>" in html
    assert "<td>01</td>" not in html


def test_statistics_tables_have_captions_and_header_scopes(client, signed):
    html = _statistics(client, signed).content.decode()
    captions = re.findall(r"<caption>([^<]+)</caption>", html)
    assert captions == [
        "Territoires signataires par type de territoire",
        "Territoires signataires membres de chaque réseau",
        "Territoires signataires par région",
        "Territoires signataires par département",
        "Signatures publiées par jour",
    ]
    assert html.count("<table") == len(captions)
    assert "<th>" not in html


def test_statistics_page_shows_signatures_per_day(client, signed):
    html = _statistics(client, signed).content.decode()
    assert html.count('<rect class="day-bar"') == 1
    assert "Jour le plus actif" in html
    assert '<td class="text-end">3</td>' in html


def test_statistics_page_offers_the_embed_code(client, signed, settings):
    settings.SITE_URL = "https://alliance.example.org"
    signed.title = 'Le "pacte" d\'Alliance'
    signed.save()
    html = _statistics(client, signed).content.decode()
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
    client, declaration, django_assert_num_queries, django_capture_on_commit_callbacks, count
):
    for _ in range(count):
        SignatureFactory(declaration=declaration, status="published")
    _refresh(declaration, django_capture_on_commit_callbacks)
    # The declaration; the figures come from the cached snapshot.
    with django_assert_num_queries(1):
        response = _statistics(client, declaration)
    assert f'<p class="display-6 fw-bold mb-0">{count}</p>' in response.content.decode()


def test_statistics_page_answers_get_only(client, declaration):
    response = client.post(reverse("public:statistics", args=[declaration.slug]))
    assert response.status_code == 405


def test_widget_shows_the_counter_and_may_be_framed_anywhere(client, signed):
    response = client.get(reverse("public:widget", args=[signed.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]
    assert set(response.headers["Cache-Control"].split(", ")) == {"public", "max-age=60"}
    assert '<html lang="fr">' in html
    assert "bootstrap.min.css" in html
    assert '<p class="widget-count fw-bold mb-0">3</p>' in html
    assert "12\xa0500 habitants couverts" in html
    assert "Objectif : 10 territoires (30 %)" in html
    assert 'href="/declarations/alliance-test/" target="_blank" rel="noopener"' in html


@pytest.mark.parametrize(
    "url",
    [
        reverse("public:statistics", args=["alliance-test"]),
        reverse("declarations:detail", args=["alliance-test"]),
    ],
)
def test_other_pages_refuse_to_be_framed(client, declaration, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_declaration_page_has_open_graph_and_twitter_meta(client, declaration):
    html = client.get(declaration.get_absolute_url()).content.decode()
    title = declaration.title
    for meta in (
        '<meta name="description" content="Pour la coopération">',
        f'<meta property="og:title" content="{title}">',
        '<meta property="og:description" content="Pour la coopération">',
        '<meta property="og:type" content="website">',
        '<meta property="og:url" content="http://testserver/declarations/alliance-test/">',
        '<meta property="og:locale" content="fr_FR">',
        '<meta property="og:site_name" content="Alliance des territoires">',
        '<meta name="twitter:card" content="summary">',
        f'<meta name="twitter:title" content="{title}">',
        '<meta name="twitter:description" content="Pour la coopération">',
    ):
        assert meta in html
    assert 'href="/declarations/alliance-test/statistiques/">Statistiques</a>' in html


def test_declaration_without_subtitle_describes_itself_with_its_lead(client):
    declaration = DeclarationFactory(subtitle="", lead="Un chapeau qui résume le texte.")
    html = client.get(declaration.get_absolute_url()).content.decode()
    assert '<meta property="og:description" content="Un chapeau qui résume le texte.">' in html


def test_statistics_and_widget_never_show_contact_details(client, signed):
    for name in ("public:statistics", "public:widget"):
        html = client.get(reverse(name, args=[signed.slug])).content.decode()
        assert "Haute-Garonne" in html or "habitants couverts" in html
        for private in PRIVATE.values():
            assert private not in html
        assert "@" not in html


def test_map_levels_follow_the_five_classes():
    assert [charts.map_level(n) for n in (0, 1, 2, 3, 4, 9, 10, 500)] == [0, 1, 2, 2, 3, 3, 4, 4]


def test_departement_map_lists_overseas_and_corsica_in_code_order():
    drawing = charts.departement_map({"974": 1, "2B": 4, "31": 0, "09": 2, "988": 1})
    assert [(row.code, row.name) for row in drawing.rows] == [
        ("09", "Ariège"),
        ("2B", "Haute-Corse"),
        ("974", "La Réunion"),
        ("988", "Nouvelle-Calédonie"),
    ]
    reunion = next(inset for inset in drawing.insets if inset.code == "974")
    assert reunion.level == 1


def test_day_series_includes_days_without_signatures():
    series = charts.day_series([["2026-10-01", 4], ["2026-10-03", 2]])
    assert [(day.date.day, day.count, day.cumulative) for day in series.days] == [
        (1, 4, 4),
        (2, 0, 4),
        (3, 2, 6),
    ]
    assert series.busiest.date == datetime.date(2026, 10, 1)
    # Formatted for SVG attributes: a dot, whatever the language.
    assert series.days[0].height == "140.00"
    assert series.days[1].width == "26.67"


def test_bar_chart_gives_the_largest_count_the_longest_bar():
    chart = charts.bar_chart([("A", 10), ("B", 5), ("C", 0)])
    assert [bar.width for bar in chart.bars] == ["82.00", "41.00", "0.00"]


def test_missing_map_file_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(charts, "MAP_PATH", tmp_path / "absent.json")
    charts.france_departments.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="make assets"):
            charts.france_departments()
    finally:
        charts.france_departments.cache_clear()
