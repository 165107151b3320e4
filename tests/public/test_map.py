"""The statistics page's map and curves: départements coloured by the share of their
inhabitants covered, in classes drawn from the data (public.charts), the shares
themselves (public.services.departement_coverage), links to the filtered list, and
the cumulative curve."""

import datetime
import random
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from public import charts
from public.services import departement_coverage
from signatures.stats import stats_for
from tests.factories import SignatureFactory, TerritoryFactory

D = Decimal


def _levels(drawing) -> dict[str, int]:
    return {area.code: area.level for area in [*drawing.areas, *drawing.insets]}


def _labels(drawing) -> list[str]:
    return [str(c.label).replace("\xa0", " ") for c in drawing.classes]


# Shares and their classes, without a database.


@pytest.mark.parametrize(
    ("covered", "population", "expected"),
    [
        (0, 1000, "0"),
        (1000, 1000, "100"),
        (1200, 1000, "100"),  # bodies with their own population may overlap: capped
        (5, 0, "100"),  # inhabitants unknown
        (857, 1000, "86"),
        (34, 1000, "3.4"),
        (30, 1000, "3"),
        (1, 3000, "0.033"),
        (996, 1000, "100"),
        (9996, 100000, "10"),
    ],
)
def test_rounded_share_keeps_two_significant_digits(covered, population, expected):
    assert charts.rounded_share(covered, population) == D(expected)
    assert str(charts.rounded_share(covered, population)) == expected


def test_percent_is_written_as_the_language_writes_it():
    assert charts.format_percent(D("3.4")) == "3,4\xa0%"
    with translation.override("en"):
        assert charts.format_percent(D("3.4")) == "3.4\xa0%"


@pytest.mark.parametrize(
    ("shares", "bounds"),
    [
        ([], []),
        ([D(40)], [D(40)]),
        ([D(2)] * 7, [D(2)]),
        ([D(n) for n in range(1, 11)], [D(1), D(3), D(5), D(7), D(9)]),
        # Ties would merge the classes: the next larger share starts the next one.
        ([D(1)] * 9 + [D(50)], [D(1), D(50)]),
        ([D(0), D(0), D(10), D(50)], [D(0), D(10), D(50)]),
        # …unless none is left: 2 % then shares the first class.
        ([D(1), D(2), D(50), D(50), D(50), D(50), D(50)], [D(1), D(50)]),
    ],
)
def test_class_bounds_are_quantiles_of_the_shares(shares, bounds):
    assert charts.class_bounds(shares) == bounds


def test_never_more_than_five_classes():
    shares = [D(n) / 10 for n in range(1, 1000)]
    assert len(charts.class_bounds(shares)) == charts.MAX_MAP_CLASSES


def test_one_departement_with_everything_gets_one_class_and_the_darkest_colour():
    drawing = charts.departement_map({"07": 12}, {"07": (330_000, 330_000)})
    levels = _levels(drawing)
    assert levels.pop("07") == charts.MAP_COLOURS
    assert set(levels.values()) == {0}
    assert _labels(drawing) == ["aucun territoire signataire", "100 % des habitants"]
    assert [row.code for row in drawing.rows] == ["07"]


def test_a_handful_of_signatures_already_shows_in_several_classes():
    coverage = {"01": (10, 600_000), "02": (300, 600_000), "03": (90_000, 300_000)}
    drawing = charts.departement_map({"01": 1, "02": 1, "03": 2}, coverage)
    levels = _levels(drawing)
    assert (levels["01"], levels["02"], levels["03"]) == (1, 3, 5)
    assert _labels(drawing) == [
        "aucun territoire signataire",
        "de 0,0017 % à moins de 0,05 % des habitants",
        "de 0,05 % à moins de 30 % des habitants",
        "30 % des habitants",
    ]


def test_classes_never_saturate_as_signatures_pile_up():
    """With every département far along, the map still tells them apart."""
    codes = [location["id"] for location in charts.france_departments()["locations"]]
    coverage = {code: (900_000 + 1000 * index, 1_000_000) for index, code in enumerate(codes)}
    drawing = charts.departement_map(dict.fromkeys(codes, 500), coverage)
    used = {area.level for area in drawing.areas}
    assert used == {1, 2, 3, 4, 5}
    counts = [sum(1 for a in drawing.areas if a.level == level) for level in sorted(used)]
    # Quantiles: classes of comparable size (shares rounded to 90, 91… tie in places).
    assert max(counts) <= len(drawing.areas) * 0.3
    assert _labels(drawing)[1] == "de 90 % à moins de 92 % des habitants"


@pytest.mark.parametrize("seed", range(8))
def test_every_departement_sits_in_the_class_the_legend_gives_it(seed):
    draw = random.Random(seed)
    codes = [location["id"] for location in charts.france_departments()["locations"]]
    signing = draw.sample(codes, draw.randint(1, len(codes)))
    coverage = {
        code: (draw.choice([0, 1, 50, 5000, 400_000]) * draw.randint(1, 3), 1_000_000)
        for code in signing
    }
    drawing = charts.departement_map({code: draw.randint(1, 30) for code in signing}, coverage)
    bounds = charts.class_bounds([charts.rounded_share(*coverage[code]) for code in signing])
    colours = [c.level for c in drawing.classes[1:]]
    assert len(colours) == len(bounds) <= charts.MAX_MAP_CLASSES
    assert colours == sorted(set(colours))  # darker for larger shares, one colour a class
    for area in drawing.areas:
        if area.code not in signing:
            assert area.level == 0
            continue
        rank = colours.index(area.level)
        assert bounds[rank] <= area.share
        if rank + 1 < len(bounds):
            assert area.share < bounds[rank + 1]


# The shares, counted as the population covered is.


@pytest.mark.django_db
def test_coverage_counts_each_communes_inhabitants_in_its_departement(signed_declaration):
    stats = stats_for(signed_declaration)
    coverage = departement_coverage(signed_declaration, version=stats.version)
    # The métropole covers its two member communes (3,000 of Haute-Garonne's 3,500);
    # Brest is all of Finistère's communes here.
    assert coverage == {"31": (3000, 3500), "29": (1500, 1500)}
    assert sum(covered for covered, _population in coverage.values()) == stats.population


@pytest.mark.django_db
def test_coverage_by_a_region_spreads_over_its_departements(declaration, territories):
    SignatureFactory(
        declaration=declaration, territory=territories["occitanie"], status="published"
    )
    coverage = departement_coverage(declaration, version="v1")
    assert coverage["31"] == (3500, 3500)
    assert coverage["29"] == (0, 1500)


@pytest.mark.django_db
def test_a_body_without_communes_adds_its_own_population(declaration, territories):
    petr = TerritoryFactory(
        kind="petr", population=700, departement=territories["finistere"], region=None
    )
    SignatureFactory(declaration=declaration, territory=petr, status="published")
    assert departement_coverage(declaration, version="v1")["29"] == (700, 1500)


@pytest.mark.django_db
def test_coverage_is_computed_once_per_snapshot_version(
    declaration, territories, django_assert_num_queries
):
    SignatureFactory(declaration=declaration, territory=territories["brest"], status="published")
    with django_assert_num_queries(2):
        first = departement_coverage(declaration, version="v1")
    with django_assert_num_queries(0):
        assert departement_coverage(declaration, version="v1") == first
    SignatureFactory(declaration=declaration, territory=territories["outside"], status="published")
    with django_assert_num_queries(2):
        assert departement_coverage(declaration, version="v2")["31"] == (500, 3500)


# On the statistics page.


def _statistics(client, declaration) -> str:
    return client.get(reverse("public:statistics", args=[declaration.slug])).content.decode()


@pytest.mark.django_db
def test_each_departement_is_a_named_link_to_the_filtered_list(client, signed_declaration):
    html = _statistics(client, signed_declaration)
    links = re.findall(
        r'<a href="(/declarations/alliance-test/signataires/\?departement=[^"]+)" '
        r'class="map-link"><title>([^<]+)</title>',
        html,
    )
    assert len(links) == 96 + len(charts.OVERSEAS_INSETS)
    named = dict((title.split(" :")[0], href) for href, title in links)
    assert named["Ardèche"] == "/declarations/alliance-test/signataires/?departement=07"
    assert named["Corse-du-Sud"] == "/declarations/alliance-test/signataires/?departement=2A"
    assert named["La Réunion"] == "/declarations/alliance-test/signataires/?departement=974"
    titles = {title for _href, title in links}
    assert "Finistère : 1 territoire signataire, 100\xa0% des habitants — voir la liste" in titles
    assert "Ardèche : aucun territoire signataire — voir la liste" in titles
    # The map is a group of links (an image would hide them from screen readers).
    assert '<svg class="map" viewBox="0 0 613 585" role="group"' in html
    assert '<a class="visually-hidden-focusable" href="#map-legend">Passer la carte</a>' in html


@pytest.mark.django_db
def test_map_link_leads_to_the_departements_signatories(client, signed_declaration):
    html = _statistics(client, signed_declaration)
    href = re.search(r'<a href="([^"]+)" class="map-link"><title>Finistère', html).group(1)
    listing = client.get(href).content.decode()
    assert "Brest test" in listing
    assert "Toulouse Métropole test" not in listing


@pytest.mark.django_db
def test_legend_and_table_say_the_shares_in_words(client, signed_declaration):
    html = _statistics(client, signed_declaration)
    legend = re.search(r'<div class="map-legend" id="map-legend">(.*?)</div>', html, re.DOTALL)
    items = [
        re.sub(r"<[^>]+>", "", item).strip()
        for item in re.findall(r"<li>(.*?)</li>", legend.group(1))
    ]
    assert items == [
        "aucun territoire signataire",
        "de 86\xa0% à moins de 100\xa0% des habitants",
        "100\xa0% des habitants",
    ]
    assert "Part des habitants du département couverts par un territoire signataire" in html
    assert '<th scope="col" class="text-end">Habitants couverts</th>' in html
    assert (
        '<a href="/declarations/alliance-test/signataires/?departement=31">Haute-Garonne</a>'
        ' (31)</th><td class="text-end">1</td><td class="text-end">86\xa0%</td>'
    ) in html


@pytest.mark.django_db
def test_page_explains_how_inhabitants_covered_are_counted(client, signed_declaration):
    html = _statistics(client, signed_declaration)
    note = re.search(r'<div id="habitants-couverts"[^>]*>(.*?)</div>', html, re.DOTALL).group(1)
    assert "Chaque habitant n'est compté qu'une fois, à travers sa commune" in note
    assert "son intercommunalité, son département ou sa région a signé" in note
    assert "ajoute sa propre population" in note
    listing = client.get(reverse("public:list", args=[signed_declaration.slug])).content.decode()
    assert 'href="/declarations/alliance-test/statistiques/#habitants-couverts"' in listing


# The cumulative curve.


def test_cumulative_curve_rises_from_zero_to_the_total():
    series = charts.day_series([["2026-10-01", 4], ["2026-10-03", 2], ["2026-10-04", 2]])
    assert series.total == 8
    # From zero at the start of the first day to each day's running total at its end,
    # in a box 100 wide and 150 high (140 for the total).
    assert series.curve == "0.00,150.00 25.00,80.00 50.00,80.00 75.00,45.00 100.00,10.00"
    assert series.curve_area == f"{series.curve} 100.00,150.00"
    assert series.half_day.date == datetime.date(2026, 10, 1)  # 4 of 8 on the first day


def test_cumulative_curve_of_a_single_day():
    series = charts.day_series([["2026-10-01", 3]])
    assert series.curve == "0.00,150.00 100.00,10.00"
    assert series.half_day.date == datetime.date(2026, 10, 1)


def test_no_curve_without_signatures():
    series = charts.day_series([])
    assert (series.curve, series.total, series.half_day) == ("", 0, None)


@pytest.mark.django_db
def test_statistics_page_draws_the_curve_beside_the_days_with_a_text(client, signed_declaration):
    html = _statistics(client, signed_declaration)
    curve = re.search(r'<svg class="cumulative-chart".*?</div>', html, re.DOTALL).group(0)
    assert 'role="img" aria-labelledby="cumulative-svg-title cumulative-svg-desc"' in curve
    assert re.search(
        r'<polyline class="cumulative-line" points="0.00,150.00 [^"]+ 100.00,10.00"', curve
    )
    description = re.search(r'<desc id="cumulative-svg-desc">([^<]+)</desc>', curve).group(1)
    assert "à 2 signatures le" in description
    assert "la moitié était atteinte le" in description
    # Both charts are followed by the table of days, with the running total.
    assert html.index('class="day-chart"') < html.index('class="cumulative-chart"')
    assert html.index('class="cumulative-chart"') < html.index(
        "<caption>Signatures publiées par jour"
    )
    assert '<th scope="col" class="text-end">Total cumulé</th>' in html
