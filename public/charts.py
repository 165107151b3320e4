"""What the statistics page and the widget draw, computed from the counts snapshot.

Pure functions: they take the figures of a `SignatureStats` (and, for the map,
the shares of inhabitants covered, `public.services.departement_coverage`) and
return plain dataclasses whose geometry is already formatted as strings. Templates must not
format coordinates themselves: Django localises numbers, and "42,5" is not a
valid SVG length.
"""

import datetime
import functools
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from signatures.models import Signature
from territories.models import Territory

MAP_PATH = settings.BASE_DIR / "static/vendor/maps/france-departments.json"

# Bars take at most this share of the chart's width, leaving room for the count.
BAR_MAX_PERCENT = 82
BAR_ROW_HEIGHT = 44  # px: label line, then the bar
DAY_CHART_HEIGHT = 150  # px from the top of the chart to the baseline

# The map colours départements by the share of their inhabitants covered, in at
# most this many classes (plus "aucun"), computed from the figures of the day: a
# fixed scale saturates once signatures pile up, or leaves the map blank early on.
MAX_MAP_CLASSES = 5
MAP_COLOURS = 5  # map-level-1 (lightest) to map-level-5 (darkest) in statistics.css

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
    level: int  # colour: 0 for no signature, else 1 (lightest) to MAP_COLOURS
    share: Decimal  # percent of the inhabitants covered, two significant digits
    path: str = ""
    # Overseas insets: a square instead of a path.
    x: int = 0
    y: int = 0
    label_x: int = 0
    label_y: int = 0

    @property
    def share_text(self) -> str:
        return format_percent(self.share)


@dataclass(frozen=True)
class MapClass:
    level: int  # the colour, as MapArea.level
    label: str  # in words, for the legend


@dataclass(frozen=True)
class DepartementMap:
    view_box: str
    areas: list[MapArea]
    insets: list[MapArea]
    rows: list[MapArea]  # every département with a signature, by code
    classes: list[MapClass]  # "aucun" first, then from the lowest shares up
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
    # The cumulative curve, in a 100 × DAY_CHART_HEIGHT box stretched to the chart's
    # width: from zero at the start of the first day to the total at the end of each day.
    curve: str = ""  # polyline points
    curve_area: str = ""  # the same, closed along the baseline
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

    @property
    def total(self) -> int:
        return self.days[-1].cumulative if self.days else 0

    @property
    def half_day(self) -> Day | None:
        """The first day by the end of which half of the signatures were published."""
        return next((day for day in self.days if 2 * day.cumulative >= self.total), None)


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


def rounded_share(covered: int, population: int) -> Decimal:
    """The percentage of inhabitants covered, to two significant digits, at most 100.

    Rounded before the classes are drawn, so that a département's figure, its
    class and the legend's bounds all read the same.
    """
    if covered <= 0:
        return Decimal(0)
    if population <= 0 or covered >= population:
        return Decimal(100)
    percent = Decimal(covered) * 100 / Decimal(population)
    value = percent.quantize(Decimal(1).scaleb(percent.adjusted() - 1), rounding=ROUND_HALF_UP)
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def format_percent(value: Decimal) -> str:
    """A percentage as the language writes it ("3,4 %" in French), with a no-break space."""
    return f"{number_format(value)}\u00a0%"


def class_bounds(shares: list[Decimal]) -> list[Decimal]:
    """Lower bounds of the map's classes: quantiles of the shares, at most MAX_MAP_CLASSES.

    Each bound is the share found at the class's rank; where ties would make two
    classes start at the same share, the next larger share starts the class (and
    when there is none, the classes stop there), so that ties merge no classes
    while larger shares remain.
    """
    values = sorted(shares)
    classes = min(MAX_MAP_CLASSES, len(set(values)))
    bounds: list[Decimal] = []
    for index in range(classes):
        bound = values[index * len(values) // classes]
        if bounds and bound <= bounds[-1]:
            bound = next((value for value in values if value > bounds[-1]), None)
            if bound is None:
                break
        bounds.append(bound)
    return bounds


def _colour(rank: int, classes: int) -> int:
    """The colour of the class of rank 0…classes-1, spread over the palette."""
    if classes == 1:
        return MAP_COLOURS
    return 1 + round(rank * (MAP_COLOURS - 1) / (classes - 1))


def _map_classes(bounds: list[Decimal], largest: Decimal) -> list[MapClass]:
    classes = [MapClass(level=0, label=_("aucun territoire signataire"))]
    for rank, low in enumerate(bounds):
        if rank + 1 < len(bounds):
            label = _("de %(low)s à moins de %(high)s des habitants") % {
                "low": format_percent(low),
                "high": format_percent(bounds[rank + 1]),
            }
        elif low == largest:
            label = _("%(share)s des habitants") % {"share": format_percent(low)}
        else:
            label = _("de %(low)s à %(high)s des habitants") % {
                "low": format_percent(low),
                "high": format_percent(largest),
            }
        classes.append(MapClass(level=_colour(rank, len(bounds)), label=label))
    return classes


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


def departement_map(
    by_departement: dict[str, int], coverage: dict[str, tuple[int, int]]
) -> DepartementMap:
    """The choropleth: every metropolitan département, overseas insets, and the table rows.

    `by_departement` counts the signing territories of each département (the
    snapshot's); `coverage` gives (inhabitants covered, inhabitants) by département
    (`public.services.departement_coverage`). Départements are coloured by their
    share of inhabitants covered, in classes drawn from the shares of the
    départements with a signature.
    """
    shares = {
        code: rounded_share(*coverage.get(code, (0, 0)))
        for code, count in by_departement.items()
        if count
    }
    bounds = class_bounds(list(shares.values()))

    def area(code: str, name: str, **drawing) -> MapArea:
        count = by_departement.get(code, 0)
        share = shares.get(code, Decimal(0))
        level = 0
        if count:
            rank = sum(1 for bound in bounds if share >= bound) - 1
            level = _colour(rank, len(bounds))
        return MapArea(code=code, name=name, count=count, level=level, share=share, **drawing)

    drawing = france_departments()
    areas = [
        area(location["id"], location["name"], path=location["path"])
        for location in drawing["locations"]
    ]
    insets = [
        area(code, OVERSEAS_NAMES[code], **_inset_drawing(index))
        for index, code in enumerate(OVERSEAS_INSETS)
    ]
    names = {area.code: area.name for area in areas} | OVERSEAS_NAMES
    rows = [area(code, names.get(code, code)) for code in sorted(shares, key=_code_order)]
    return DepartementMap(
        view_box=drawing["viewBox"],
        areas=areas,
        insets=insets,
        rows=rows,
        classes=_map_classes(bounds, max(shares.values(), default=Decimal(0))),
    )


def _inset_drawing(index: int) -> dict:
    """Where the index-th overseas département's square and label go, left of the map."""
    y = INSET_Y + index * (INSET_SIZE + INSET_GAP)
    return {
        "x": INSET_X,
        "y": y,
        "label_x": INSET_X + INSET_SIZE + 6,
        "label_y": y + INSET_SIZE // 2 + 5,
    }


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
    points = [("0.00", _percent(DAY_CHART_HEIGHT))] + [
        (
            _percent(100 * (offset + 1) / span),
            _percent(DAY_CHART_HEIGHT - height * day.cumulative / cumulative),
        )
        for offset, day in enumerate(days)
    ]
    curve = " ".join(f"{x},{y}" for x, y in points)
    return DaySeries(
        days=days,
        busiest=busiest,
        curve=curve,
        curve_area=f"{curve} 100.00,{_percent(DAY_CHART_HEIGHT)}",
    )
