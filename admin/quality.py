"""The quality board of a brand: first-pass yield per line and period, incoming lot
pass rate per supplier, defect types, and the batches on hold or recalled, each with its
data as a table and as CSV. Read from the board tables (``tracemark.reporting.quality``).
"""

from __future__ import annotations

from flask_babel import format_percent, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import charts
from admin.access import Member
from admin.analytics import (
    GRANULARITY_NAMES,
    TOP,
    Board,
    Section,
    _rate,
    number,
    percent,
)
from admin.boards import Listing, iso, operator_csv, operator_page, when
from admin.forms import STATUS_NAMES
from admin.views import bp
from tracemark.quality import checkpoints
from tracemark.reporting import quality
from tracemark.reporting.analytics import Filters
from tracemark.reporting.quality import QualityFilters, Yield

CHARTS = {
    "yield_time": _l("First-pass yield over time"),
    "yield_line": _l("First-pass yield per line"),
    "suppliers": _l("Incoming lots passed, per supplier"),
    "defects": _l("Defect types"),
}
LISTINGS = {"held": _l("Batches on hold or recalled")}


def _ratio(value: float) -> str:
    return format_percent(value, "#,##0.#%")


def _tick(value: float) -> str:
    return format_percent(value, "#,##0%")


class QualityBoard:
    """The board of one brand under one set of filters."""

    #: What ``admin.boards.operator_page`` and ``operator_csv`` read: the page's template,
    #: the filter the board adds to the scans board's, and the tables it gives as CSV.
    template = "admin/boards/quality.html"
    extra = "line"
    tables = frozenset({*CHARTS, *LISTINGS})

    def __init__(self, member: Member, filters: QualityFilters, products: dict[str, str]):
        self.session, self.brand_id = member.session, member.brand.id
        self.filters, self.products = filters, products
        self.brand = member.brand
        # the scans board's labels of periods
        self.periods = Board(member, filters, products)

    @staticmethod
    def choices(member: Member) -> dict[str, str]:
        return {line: line for line in quality.lines(member.session, member.brand.id)}

    @classmethod
    def of(cls, member: Member, f: Filters, line: str | None, products: dict) -> QualityBoard:
        filters = QualityFilters(f.start, f.end, f.product_id, f.granularity, line=line)
        return cls(member, filters, products)

    def item(self, chart: str) -> Section | Listing:
        return self.held() if chart == "held" else self.section(chart)

    def _per_line(self) -> dict:
        if not hasattr(self, "_lines"):
            self._lines = quality.first_pass_yield(self.session, self.brand_id, self.filters)
        return self._lines

    @property
    def total(self) -> Yield:
        return sum((y for _, y in quality.yield_by_line(self._per_line())), Yield())

    def line_label(self, line: str) -> str:
        return line or gettext("No line")

    def section(self, chart: str) -> Section:
        return getattr(self, f"_{chart}")()

    def sections(self) -> list[Section]:
        return [self.section(chart) for chart in CHARTS]

    def _yield_time(self) -> Section:
        # periods without inspections have no yield: they are left out, not drawn as 0 %
        timeline = [(s, y) for s, y in quality.yield_over_time(self._per_line()) if y.inspected]
        drawn = charts.line_chart(
            "yield_time",
            str(CHARTS["yield_time"]),
            gettext(
                "Share of the batches and units first inspected in each period whose first "
                "inspection passed, all lines together."
            ),
            str(GRANULARITY_NAMES[self.filters.granularity]),
            gettext("First-pass yield"),
            [self.periods.period_label(start, short=True) for start, _ in timeline],
            [(gettext("First-pass yield"), "tm-series-0", [y.rate or 0.0 for _, y in timeline])]
            if timeline
            else [],
            _ratio,
            whole=False,
            tick_number=_tick,
        )
        headers = [
            gettext("Period"),
            gettext("Line"),
            gettext("Inspected"),
            gettext("Passed first time"),
            gettext("First-pass yield"),
        ]
        cells = [
            (start, line, y)
            for line, series in self._per_line().items()
            for start, y in series
            if y.inspected
        ]
        cells.sort(key=lambda cell: (cell[0], cell[1]))
        rows = [
            [
                self.periods.period_label(start),
                self.line_label(line),
                number(y.inspected),
                number(y.passed),
                percent(y.rate),
            ]
            for start, line, y in cells
        ]
        raw = [
            [start.isoformat(), line, y.inspected, y.passed, _rate(y.rate)]
            for start, line, y in cells
        ]
        return Section(
            "yield_time",
            drawn,
            headers,
            rows,
            ["period", "line", "inspected", "passed", "rate"],
            raw,
            gettext("Nothing was inspected for the first time in this range."),
        )

    def _yield_line(self) -> Section:
        items = quality.yield_by_line(self._per_line())
        return _rate_bars(
            "yield_line",
            gettext("First-pass yield of each production line in the chosen range."),
            gettext("First-pass yield"),
            [gettext("Line"), gettext("Inspected")],
            [(self.line_label(line), [line], y) for line, y in items],
            ["line"],
            gettext("First-pass yield"),
            gettext("Nothing was inspected for the first time in this range."),
        )

    def _suppliers(self) -> Section:
        items = quality.supplier_pass_rates(self.session, self.brand_id, self.filters)
        return _rate_bars(
            "suppliers",
            gettext(
                "Share of each supplier's material lots that passed their first incoming "
                "inspection, the suppliers with most lots inspected first."
            ),
            gettext("Lots passed"),
            [gettext("Supplier"), gettext("Lots inspected")],
            [(name, [i, name], y) for i, name, y in items],
            ["supplier_id", "supplier"],
            gettext("Pass rate"),
            gettext("No material lot was inspected for the first time in this range."),
        )

    def _defects(self) -> Section:
        items = quality.defect_types(self.session, self.brand_id, self.filters)

        # a defect named after a checkpoint field is shown by the field's label
        labels = checkpoints.field_labels(self.session, self.brand, str(get_locale()))

        def label(defect: str) -> str:
            return labels.get(defect, defect) or gettext("Unnamed")

        bars = [(label(defect), count) for defect, count in items[:TOP]]
        rest = sum(count for _, count in items[TOP:])
        if rest:
            bars.append((gettext("Others"), rest))
        drawn = charts.bar_chart(
            "defects",
            str(CHARTS["defects"]),
            gettext("Failed QC tests in the chosen range by defect (or test) name, most first."),
            gettext("Failed tests"),
            bars,
            number,
        )
        rows = [[label(defect), number(count)] for defect, count in items]
        return Section(
            "defects",
            drawn,
            [gettext("Defect"), gettext("Failed tests")],
            rows,
            ["defect", "failures"],
            [[defect, count] for defect, count in items],
            gettext("No QC test failed in this range."),
        )

    def held(self) -> Listing:
        batches = quality.held_batches(
            self.session, self.brand_id, self.filters.product_id, self.filters.line
        )
        locale = str(self.periods.locale)

        def notice(texts: dict[str, str]) -> str:
            return (
                texts.get(locale)
                or texts.get(locale.split("_")[0])
                or next(iter(texts.values()), "")
            )

        headers = [
            gettext("Batch"),
            gettext("Product"),
            gettext("Line"),
            gettext("Status"),
            gettext("Since"),
            gettext("Notice"),
        ]
        rows = [
            [b.lot, b.product, self.line_label(b.line), str(STATUS_NAMES[b.status]),
             when(b.since), notice(b.notice)]
            for b in batches
        ]  # fmt: skip
        raw = [
            [b.batch_id, b.lot, b.product, b.line, b.status.value, iso(b.since), notice(b.notice)]
            for b in batches
        ]
        return Listing(
            "held",
            str(LISTINGS["held"]),
            gettext("No batch is on hold or recalled."),
            headers,
            rows,
            ["batch_id", "lot", "product", "line", "status", "since", "notice"],
            raw,
        )


@bp.get("/brands/<slug>/quality")
@login_required
def quality_board(slug: str):
    return operator_page(slug, QualityBoard, percent=percent)


@bp.get("/brands/<slug>/quality/<chart>.csv")
@login_required
def quality_csv(slug: str, chart: str):
    return operator_csv(slug, QualityBoard, chart)


def _rate_bars(
    chart: str,
    description: str,
    axis_title: str,
    headers: list[str],
    items: list[tuple[str, list, Yield]],
    csv_keys: list[str],
    rate_header: str,
    empty: str,
) -> Section:
    """A bar chart of first-pass rates, one bar per item (the first :data:`TOP`), with its
    table. ``items`` are (label, the item's leading CSV values, its yield); ``headers``
    name the label and inspected columns, ``csv_keys`` the leading CSV columns."""
    drawn = charts.bar_chart(
        chart,
        str(CHARTS[chart]),
        description,
        axis_title,
        [(label, y.rate or 0.0) for label, _, y in items[:TOP]],
        _ratio,
        whole=False,
        tick_number=_tick,
    )
    rows = [
        [label, number(y.inspected), number(y.passed), percent(y.rate)] for label, _, y in items
    ]
    raw = [[*keys, y.inspected, y.passed, _rate(y.rate)] for _, keys, y in items]
    return Section(
        chart,
        drawn,
        [*headers, gettext("Passed first time"), rate_header],
        rows,
        [*csv_keys, "inspected", "passed", "rate"],
        raw,
        empty,
    )
