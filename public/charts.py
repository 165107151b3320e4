"""What the statistics page and the widget draw, computed from the counts snapshot.

Pure functions: they take the figures of a `SignatureStats` and return plain
dataclasses whose geometry is already formatted as strings. Templates must not
format coordinates themselves: Django localises numbers, and "42,5" is not a
valid SVG length.
"""

import datetime
import functools
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from signatures.models import Signature
from territories.models import Territory

MAP_PATH = settings.BASE_DIR / "static/vendor/maps/france-departments.json"

# Bars take at most this share of the chart's width, leaving room for the count.
BAR_MAX_PERCENT = 82
BAR_ROW_HEIGHT = 44  # px: label line, then the bar
DAY_CHART_HEIGHT = 150  # px from the top of the chart to the baseline

# Map classes: (lowest count of the class, legend label). The brief of the page
# fixes them so that a handful of signatures already shows on the map.
MAP_LEVELS = (
    (0, "0"),
    (1, "1"),
    (2, _("2 à 3")),
    (4, _("4 à 9")),
    (10, _("10 ou plus")),
)

# Départements and collectivités the metropolitan map does not draw. The five
# départements get an inset on the map; all of them are listed in the table.
OVERSEAS_NAMES = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "975": "Saint-Pierre-et-Miquelon",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
    "989": "Île de Clipperton",
}
OVERSEAS_INSETS = ("971", "972", "973", "974", "976")
# Insets sit in the Bay of Biscay corner of the map's 613 × 585 view box.
INSET_X, INSET_Y, INSET_SIZE, INSET_GAP = 8, 330, 34, 12


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    y: int  # px, top of the row
    width: str  # percent of the chart's width, as an SVG length without the "%"

    @property
    def label_y(self) -> int:
        return self.y + 16

    @property
    def bar_y(self) -> int:
        return self.y + 22

    @property
    def count_y(self) -> int:
        return self.y + 34


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]

    @property
    def height(self) -> int:
        return len(self.bars) * BAR_ROW_HEIGHT


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    count: int
    level: int
    path: str = ""
    # Overseas insets: a square instead of a path.
    x: int = 0
    y: int = 0
    label_x: int = 0
    label_y: int = 0


@dataclass(frozen=True)
class DepartementMap:
    view_box: str
    areas: list[MapArea]
    insets: list[MapArea]
    rows: list[MapArea]  # every département with a signature, by code
    levels: list[tuple[int, str]]
    inset_size: int = INSET_SIZE


@dataclass(frozen=True)
class Day:
    date: datetime.date
    count: int
    cumulative: int
    x: str  # percent
    width: str  # percent
    y: str  # px
    height: str  # px


@dataclass(frozen=True)
class DaySeries:
    days: list[Day]  # every day from the first signature to the last, gaps included
    busiest: Day | None
    baseline: int = DAY_CHART_HEIGHT

    @property
    def height(self) -> int:
        return self.baseline + 24  # room for the first and last dates

    @property
    def tick_y(self) -> int:
        return self.baseline + 18

    @property
    def first(self) -> Day | None:
        return self.days[0] if self.days else None

    @property
    def last(self) -> Day | None:
        return self.days[-1] if self.days else None

    @property
    def days_with_signatures(self) -> list[Day]:
        return [day for day in self.days if day.count]


def _percent(value: float) -> str:
    return f"{value:.2f}"


def bar_chart(rows: list[tuple[str, int]]) -> BarChart:
    """Horizontal bars, longest for the largest count, in the given order."""
    largest = max((count for _label, count in rows), default=0)
    return BarChart(
        bars=[
            Bar(
                label=str(label),
                count=count,
                y=index * BAR_ROW_HEIGHT,
                width=_percent(BAR_MAX_PERCENT * count / largest if largest else 0),
            )
            for index, (label, count) in enumerate(rows)
        ]
    )


def kind_chart(by_kind: dict[str, int]) -> BarChart:
    """Signing territories by kind, most frequent first, with the referential's labels."""
    labels = dict(Territory.Kind.choices)
    rows = [(str(labels.get(kind, kind)), count) for kind, count in by_kind.items()]
    return bar_chart(sorted(rows, key=lambda row: (-row[1], row[0])))


def verification_chart(by_verification: dict[str, int]) -> BarChart:
    """Published signatures by verification level, strongest first, every level shown."""
    return bar_chart(
        [(label, by_verification.get(level, 0)) for level, label in Signature.Verification.choices]
    )


def network_chart(by_network: list[dict]) -> BarChart:
    """Every network in its usual order, including those no signatory joined yet."""
    return bar_chart([(network["name"], network["count"]) for network in by_network])


def region_chart(by_region: list[dict]) -> BarChart:
    """Régions as the snapshot orders them: most signatures first."""
    return bar_chart([(region["name"], region["count"]) for region in by_region])


def map_level(count: int) -> int:
    """The map class of a count: 0, 1, 2–3, 4–9, 10 and more."""
    return max(level for level, (lowest, _label) in enumerate(MAP_LEVELS) if count >= lowest)


@functools.cache
def france_departments() -> dict:
    """The metropolitan map, read once per process."""
    try:
        with MAP_PATH.open(encoding="utf-8") as map_file:
            return json.load(map_file)
    except FileNotFoundError as error:
        raise ImproperlyConfigured(
            f"{MAP_PATH} is missing: run `make assets` to copy the npm assets."
        ) from error


def departement_map(by_departement: dict[str, int]) -> DepartementMap:
    """The choropleth: every metropolitan département, overseas insets, and the table rows."""
    drawing = france_departments()
    areas = [
        MapArea(
            code=location["id"],
            name=location["name"],
            count=by_departement.get(location["id"], 0),
            level=map_level(by_departement.get(location["id"], 0)),
            path=location["path"],
        )
        for location in drawing["locations"]
    ]
    insets = []
    for index, code in enumerate(OVERSEAS_INSETS):
        count = by_departement.get(code, 0)
        y = INSET_Y + index * (INSET_SIZE + INSET_GAP)
        insets.append(
            MapArea(
                code=code,
                name=OVERSEAS_NAMES[code],
                count=count,
                level=map_level(count),
                x=INSET_X,
                y=y,
                label_x=INSET_X + INSET_SIZE + 6,
                label_y=y + INSET_SIZE // 2 + 5,
            )
        )
    names = {area.code: area.name for area in areas} | OVERSEAS_NAMES
    rows = [
        MapArea(code=code, name=names.get(code, code), count=count, level=map_level(count))
        for code, count in sorted(by_departement.items(), key=lambda item: _code_order(item[0]))
        if count
    ]
    return DepartementMap(
        view_box=drawing["viewBox"],
        areas=areas,
        insets=insets,
        rows=rows,
        levels=[(level, label) for level, (_lowest, label) in enumerate(MAP_LEVELS)],
    )


def _code_order(code: str) -> str:
    # Corsica's 2A and 2B sort where the old code 20 stood, as the official lists do.
    return code.replace("2A", "20A").replace("2B", "20B").zfill(4)


def day_series(by_day: list[list], height: int = DAY_CHART_HEIGHT - 10) -> DaySeries:
    """Signatures per day, days without any included so the time axis is regular."""
    counts = {datetime.date.fromisoformat(day): count for day, count in by_day}
    if not counts:
        return DaySeries(days=[], busiest=None)
    first, last = min(counts), max(counts)
    span = (last - first).days + 1
    largest = max(counts.values())
    slot = 100 / span
    days, cumulative = [], 0
    for offset in range(span):
        date = first + datetime.timedelta(days=offset)
        count = counts.get(date, 0)
        cumulative += count
        bar_height = height * count / largest if largest else 0
        days.append(
            Day(
                date=date,
                count=count,
                cumulative=cumulative,
                x=_percent(offset * slot + slot * 0.1),
                width=_percent(slot * 0.8),
                y=_percent(DAY_CHART_HEIGHT - bar_height),
                height=_percent(bar_height),
            )
        )
    busiest = max(days, key=lambda day: (day.count, day.date))
    return DaySeries(days=days, busiest=busiest)
