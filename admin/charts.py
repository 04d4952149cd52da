"""Server-drawn SVG charts: the geometry here, the markup in ``_charts.html``.

Two kinds cover the boards: horizontal bars (categories: the label fits on a phone) and
lines over time. Values arrive already formatted for the reader's locale, so a chart
knows nothing of Babel; its texts (title, description, axis titles) too. Every value is
also in the SVG as text (a bar's number, each point's ``<title>``), and the page shows
the same rows in a table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

#: Horizontal bar chart geometry (SVG user units; the SVG scales to its box). Each
#: bar's label takes the line above it, across the whole width, so a long name
#: ("Chinese (Simplified)", a supplier's) is read in full rather than cut.
BAR_WIDTH, BAR_ROW, BAR_LABEL, BAR_VALUE, BAR_TOP, BAR_AXIS = 400, 40, 8, 52, 6, 42
#: Line chart geometry.
LINE_WIDTH, LINE_HEIGHT, LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 400, 250, 58, 18, 12, 52
#: Labels longer than a line are cut (the full text stays in the bar's ``<title>``
#: and in the table under the chart).
MAX_LABEL = 56
#: At most this many labels under a time axis.
MAX_TICKS = 4
#: At most this many steps on a value axis.
MAX_STEPS = 5


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    shown: str
    y: float
    width: float


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    shown: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    id: str
    kind: str  # "bars" or "lines"
    title: str
    description: str
    x_title: str
    y_title: str
    width: float
    height: float
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.bars and not any(s.points for s in self.series)


def scale(highest: float, whole: bool = True) -> list[float]:
    """Axis values from 0 to at least ``highest`` in at most :data:`MAX_STEPS` round steps
    (1, 2 or 5 times a power of ten; whole numbers when ``whole``)."""
    if highest <= 0:
        return [0, 1]
    power = 10 ** math.floor(math.log10(highest / MAX_STEPS))
    for step in (power, 2 * power, 5 * power, 10 * power):
        if whole and step < 1:
            continue
        steps = math.ceil(highest / step - 1e-9)
        if steps <= MAX_STEPS:
            return [round(step * k, 12) for k in range(steps + 1)]
    return [0, highest]


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def bar_chart(
    id: str,
    title: str,
    description: str,
    value_title: str,
    items: Sequence[tuple[str, float]],
    number: Callable[[float], str],
    whole: bool = True,
    tick_number: Callable[[float], str] | None = None,
) -> Chart:
    """Horizontal bars, one per ``(label, value)``, in the order given. ``tick_number``
    formats the value axis when it should differ from ``number``."""
    steps = scale(max((value for _, value in items), default=0), whole)
    top = steps[-1]
    left, right = BAR_LABEL, BAR_WIDTH - BAR_VALUE
    span = right - left
    bars = [
        Bar(label, _short(label), number(value), BAR_TOP + i * BAR_ROW, span * value / top)
        for i, (label, value) in enumerate(items)
    ]
    bottom = BAR_TOP + len(items) * BAR_ROW
    ticks = [Tick(left + span * value / top, (tick_number or number)(value)) for value in steps]
    return Chart(
        id,
        "bars",
        title,
        description,
        value_title,
        "",
        BAR_WIDTH,
        bottom + BAR_AXIS,
        (left, BAR_TOP, right, bottom),
        x_ticks=ticks,
        bars=bars,
    )


def line_chart(
    id: str,
    title: str,
    description: str,
    x_title: str,
    y_title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    number: Callable[[float], str],
    whole: bool = True,
    tick_number: Callable[[float], str] | None = None,
) -> Chart:
    """Lines over the periods ``labels``; ``series`` holds (name, CSS class, values).
    ``tick_number`` formats the value axis when it should differ from ``number``."""
    left, top = LINE_LEFT, LINE_TOP
    right, bottom = LINE_WIDTH - LINE_RIGHT, LINE_HEIGHT - LINE_BOTTOM
    steps = scale(max((v for _, _, values in series for v in values), default=0), whole)
    highest = steps[-1]
    count = len(labels)

    def x(i: int) -> float:
        return left + (right - left) * (i / (count - 1) if count > 1 else 0.5)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / highest

    drawn = [
        Series(
            name,
            css,
            [Point(x(i), y(v), labels[i], number(v)) for i, v in enumerate(values)],
        )
        for name, css, values in series
    ]
    every = max(1, math.ceil(count / MAX_TICKS))
    x_ticks = [Tick(x(i), labels[i]) for i in range(0, count, every)]
    y_ticks = [Tick(y(value), (tick_number or number)(value)) for value in steps]
    return Chart(
        id,
        "lines",
        title,
        description,
        x_title,
        y_title,
        LINE_WIDTH,
        LINE_HEIGHT,
        (left, top, right, bottom),
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        series=drawn,
    )
