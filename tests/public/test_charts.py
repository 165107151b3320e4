"""public.charts: the drawings of the statistics page, computed without a database."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured

from public import charts


def test_departement_map_lists_overseas_and_corsica_in_code_order():
    drawing = charts.departement_map(
        {"974": 1, "2B": 4, "31": 0, "09": 2, "988": 1}, {"974": (10, 100), "2B": (50, 100)}
    )
    assert [(row.code, row.name) for row in drawing.rows] == [
        ("09", "Ariège"),
        ("2B", "Haute-Corse"),
        ("974", "La Réunion"),
        ("988", "Nouvelle-Calédonie"),
    ]
    reunion = next(inset for inset in drawing.insets if inset.code == "974")
    assert (reunion.count, reunion.share, reunion.level) == (1, 10, 3)  # of 0, 10, 50 %


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


def test_france_departments_without_the_map_file_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(charts, "MAP_PATH", tmp_path / "absent.json")
    charts.france_departments.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="make assets"):
            charts.france_departments()
    finally:
        charts.france_departments.cache_clear()
