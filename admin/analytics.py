"""The marketing board of a brand: scans over time and by country, language, product,
batch and device class, claims, the suspicious-scan rate and counterfeit hotspots, each
chart with its data as a table and as CSV.

Owners, marketing and staff see it (staff run batches and recalls, and a batch whose
labels are being copied is theirs to act on); regulators get 403, since they see
provenance, not marketing data; other brands' users get 404. Everything is read from
the rollups (``tracemark.reporting.analytics``), never from raw scan events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from flask import Response, abort, render_template, request
from flask_babel import format_date, format_decimal, format_percent, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from admin import charts
from admin.access import Member, member_in_roles
from admin.views import bp
from tracemark import csv_export
from tracemark.models import Role
from tracemark.models.base import utcnow
from tracemark.reporting import analytics
from tracemark.reporting.analytics import Counts, Filters
from tracemark.scanning.devices import DEVICE_CLASSES
from tracemark.web import error_response

ANALYSTS = frozenset({Role.OWNER, Role.MARKETING, Role.STAFF})
#: Days shown when no range is asked for.
DEFAULT_DAYS = 90
#: Bars drawn per category chart; the rest are summed into one "others" bar.
TOP = 12
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

CHARTS = {
    "time": _l("Scans over time"),
    "claims": _l("Claims over time"),
    "suspicious_rate": _l("Suspicious-scan rate"),
    "country": _l("Scans by country"),
    "locale": _l("Scans by language"),
    "product": _l("Scans by product"),
    "batch": _l("Scans by batch"),
    "device": _l("Scans by device class"),
    "hotspots": _l("Counterfeit hotspots"),
}
GRANULARITY_NAMES = {"day": _l("Days"), "week": _l("Weeks"), "month": _l("Months")}
DEVICE_NAMES = {
    "mobile": _l("Phone"),
    "tablet": _l("Tablet"),
    "desktop": _l("Computer"),
    "bot": _l("Bot"),
    "other": _l("Other"),
}
assert set(DEVICE_NAMES) == set(DEVICE_CLASSES)
DIMENSION_NAMES = {
    "country": _l("Country"),
    "locale": _l("Language"),
    "product": _l("Product"),
    "batch": _l("Batch"),
    "device": _l("Device class"),
}


# -- filters -----------------------------------------------------------------------------


@dataclass
class FilterForm:
    """The board's filters as typed (for the form) and their errors, field → message."""

    values: dict[str, str]
    errors: dict[str, str]
    filters: Filters | None


def _date(text: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST and len(text) == 10 else None


def parse_filters(args: MultiDict, products: dict[str, str], today: dt.date) -> FilterForm:
    """Read ``start``, ``end`` (ISO dates), ``product`` (an id of the brand's, or empty)
    and ``period`` (day, week, month); every problem becomes a translated message."""
    values = {
        "start": args.get("start", "").strip()[:20],
        "end": args.get("end", "").strip()[:20],
        "product": args.get("product", "").strip()[:20],
        "period": args.get("period", "").strip()[:10] or "day",
    }
    errors: dict[str, str] = {}
    end = _date(values["end"]) if values["end"] else today
    start = _date(values["start"]) if values["start"] else None
    for name, day in (("start", start), ("end", end)):
        if values[name] and day is None:
            errors[name] = gettext("Enter a date as YYYY-MM-DD, between 2000 and 2100.")
    if end is not None and start is None and not values["start"]:
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start is not None and end is not None and not errors:
        if end < start:
            errors["end"] = gettext("The end date is before the start date.")
        elif (end - start).days >= analytics.MAX_DAYS:
            errors["end"] = gettext(
                "Choose a range of at most %(days)s days.",
                days=format_decimal(analytics.MAX_DAYS),
            )
    if values["product"] and values["product"] not in products:
        errors["product"] = gettext("Choose one of the brand's products.")
    if values["period"] not in analytics.GRANULARITIES:
        errors["period"] = gettext("Choose days, weeks or months.")
    if errors:
        return FilterForm(values, errors, None)
    values["start"], values["end"] = start.isoformat(), end.isoformat()
    product = int(values["product"]) if values["product"] else None
    return FilterForm(values, errors, Filters(start, end, product, values["period"]))


# -- what the board shows ----------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One chart with its data: table rows for the page, raw rows for the CSV."""

    id: str
    chart: charts.Chart
    headers: list[str]
    rows: list[list[str]]
    csv_header: list[str]
    csv_rows: list[list]
    #: What an empty chart says instead (the scans board's message when empty).
    empty: str = ""


def number(value: float) -> str:
    return format_decimal(value)


def percent(value: float | None) -> str:
    return "-" if value is None else format_percent(value, "#,##0.0%")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


class Board:
    """The board of one brand under one set of filters; each section computed on demand."""

    def __init__(self, member: Member, filters: Filters, products: dict[str, str]) -> None:
        self.session, self.brand_id = member.session, member.brand.id
        self.filters, self.products = filters, products
        self.locale = get_locale()

    @cached_property
    def totals(self) -> Counts:
        return analytics.totals(self.session, self.brand_id, self.filters)

    @cached_property
    def timeline(self) -> list[tuple[dt.date, Counts]]:
        return analytics.over_time(self.session, self.brand_id, self.filters)

    @cached_property
    def _breakdowns(self) -> dict[str, list[tuple[str, Counts]]]:
        return {}

    def breakdown(self, dimension: str) -> list[tuple[str, Counts]]:
        """One query per dimension and page (the hotspots reuse the countries)."""
        if dimension not in self._breakdowns:
            self._breakdowns[dimension] = analytics.breakdown(
                self.session, self.brand_id, self.filters, dimension
            )
        return self._breakdowns[dimension]

    def section(self, chart: str) -> Section:
        if chart in ("time", "claims", "suspicious_rate"):
            return self._time_section(chart)
        if chart == "hotspots":
            return self._hotspots()
        return self._breakdown(chart)

    def sections(self) -> list[Section]:
        return [self.section(chart) for chart in CHARTS]

    # labels

    def period_label(self, start: dt.date, short: bool = False) -> str:
        granularity = self.filters.granularity
        if granularity == "month":
            return format_skeleton("yMMM" if short else "yMMMM", start, locale=self.locale)
        if short:
            return format_skeleton("MMMd", start, locale=self.locale)
        if granularity == "week":
            return gettext("Week of %(date)s", date=format_date(start, "medium"))
        return format_date(start, "medium")

    def label(self, dimension: str, key: str) -> str:
        if dimension == "product":
            return self.products.get(key) or gettext("No product")
        if key == "":
            return gettext("Unknown")
        if dimension in ("country", "hotspots"):
            return self.locale.territories.get(key, key)
        if dimension == "locale":
            try:
                return Locale.parse(key).get_display_name(self.locale) or key
            except (ValueError, UnknownLocaleError):
                return key
        if dimension == "device":
            return str(DEVICE_NAMES.get(key, key))
        return key

    # sections

    def _line_chart(
        self, chart: str, description: str, y_title: str, series: list, value, **axis
    ) -> charts.Chart:
        """The chart ``chart`` as lines over the board's periods (see
        :func:`charts.line_chart` for ``series``, ``value`` and ``axis``)."""
        return charts.line_chart(
            chart,
            str(CHARTS[chart]),
            description,
            str(GRANULARITY_NAMES[self.filters.granularity]),
            y_title,
            [self.period_label(start, short=True) for start, _ in self.timeline],
            series,
            value,
            **axis,
        )

    def _time_section(self, chart: str) -> Section:
        timeline = self.timeline
        period = gettext("Period")
        csv_starts = [start.isoformat() for start, _ in timeline]
        if chart == "time":
            names = (gettext("All scans"), gettext("First scans"), gettext("Repeat scans"))
            fields = ("scans", "first_scans", "repeat_scans")
            series = [
                (name, f"tm-series-{i}", [getattr(c, f) for _, c in timeline])
                for i, (name, f) in enumerate(zip(names, fields, strict=True))
            ]
            drawn = self._line_chart(
                chart,
                gettext("Scans per period: all, first scans of a code and repeat scans."),
                gettext("Scans"),
                series,
                number,
            )
            rows = [
                [self.period_label(s), *(number(getattr(c, f)) for f in fields)]
                for s, c in timeline
            ]
            raw = [
                [d, *(getattr(c, f) for f in fields)]
                for d, (_, c) in zip(csv_starts, timeline, strict=True)
            ]
            return Section(chart, drawn, [period, *names], rows, ["period", *fields], raw)
        if chart == "claims":
            values = [c.claims for _, c in timeline]
            drawn = self._line_chart(
                chart,
                gettext("Units claimed with their scratch-off PIN, per period."),
                gettext("Claims"),
                [(gettext("Claims"), "tm-series-0", values)],
                number,
            )
            rows = [[self.period_label(s), number(c.claims)] for s, c in timeline]
            raw = [[d, c.claims] for d, (_, c) in zip(csv_starts, timeline, strict=True)]
            return Section(
                chart, drawn, [period, gettext("Claims")], rows, ["period", "claims"], raw
            )
        rates = [c.suspicious_rate or 0.0 for _, c in timeline]
        drawn = self._line_chart(
            chart,
            gettext("Share of scans judged a possible copy, per period."),
            gettext("Suspicious scans"),
            [(gettext("Suspicious scans"), "tm-series-3", rates)],
            percent,
            whole=False,
            tick_number=lambda value: format_percent(value, "#,##0.#%"),
        )
        headers = [period, gettext("Scans"), gettext("Suspicious scans"), gettext("Rate")]
        rows = [
            [
                self.period_label(s),
                number(c.scans),
                number(c.suspicious),
                percent(c.suspicious_rate),
            ]
            for s, c in timeline
        ]
        raw = [
            [d, c.scans, c.suspicious, _rate(c.suspicious_rate)]
            for d, (_, c) in zip(csv_starts, timeline, strict=True)
        ]
        return Section(chart, drawn, headers, rows, ["period", "scans", "suspicious", "rate"], raw)

    def _breakdown(self, chart: str) -> Section:
        items = self.breakdown(chart)
        names: dict[str, str] = {}
        if chart == "batch":
            lots = analytics.batch_lots(self.session, self.brand_id, [k for k, _ in items])
            names = {key: f"{lot} · {product}" for key, (lot, product) in lots.items()}

        def label(key: str) -> str:
            return names.get(key) or self.label(chart, key)

        bars = [(label(key), counts.scans) for key, counts in items[:TOP]]
        rest = sum(counts.scans for _, counts in items[TOP:])
        if rest:
            bars.append((gettext("Others"), rest))
        drawn = charts.bar_chart(
            chart,
            str(CHARTS[chart]),
            gettext("Scans in the chosen range, most first."),
            gettext("Scans"),
            bars,
            number,
        )
        headers = [str(DIMENSION_NAMES[chart]), gettext("Scans"), gettext("Suspicious scans")]
        rows = [[label(key), number(c.scans), number(c.suspicious)] for key, c in items]
        fields = ("scans", "first_scans", "repeat_scans", "suspicious")
        raw = [[key, label(key), *(getattr(c, f) for f in fields)] for key, c in items]
        return Section(chart, drawn, headers, rows, ["key", "label", *fields], raw)

    def _hotspots(self) -> Section:
        items = analytics.rank_hotspots(self.breakdown("country"))
        bars = [(self.label("country", key), counts.suspicious) for key, counts in items[:TOP]]
        drawn = charts.bar_chart(
            "hotspots",
            str(CHARTS["hotspots"]),
            gettext(
                "Countries where scans of the brand's genuine codes were judged possible "
                "copies, most such scans first."
            ),
            gettext("Suspicious scans"),
            bars,
            number,
        )
        headers = [
            str(DIMENSION_NAMES["country"]),
            gettext("Suspicious scans"),
            gettext("Scans"),
            gettext("Rate"),
        ]
        rows = [
            [
                self.label("country", k),
                number(c.suspicious),
                number(c.scans),
                percent(c.suspicious_rate),
            ]
            for k, c in items
        ]
        raw = [
            [k, self.label("country", k), c.suspicious, c.scans, _rate(c.suspicious_rate)]
            for k, c in items
        ]
        return Section(
            "hotspots",
            drawn,
            headers,
            rows,
            ["country", "label", "suspicious", "scans", "rate"],
            raw,
        )


# -- CSV --------------------------------------------------------------------------------


def csv_text(header: list[str], rows: list[list]) -> str:
    """The section as CSV, through the shared spreadsheet-safe writer."""
    return csv_export.text(header, rows)


# -- views --------------------------------------------------------------------------------


def _analyst(slug: str) -> Member:
    """The member, when their role may see analytics (a 403 stops the request else)."""
    message = gettext("Scan analytics are for the brand's owners, staff and marketing.")
    return member_in_roles(slug, ANALYSTS, message)


def board_page(template: str, member: Member, form: FilterForm, board, **context):
    """A board's page and its status: 400 when the filters are bad (the form says why)."""
    page = render_template(
        template,
        member=member,
        form=form,
        board=board,
        granularities=GRANULARITY_NAMES,
        number=number,
        **context,
    )
    return page, 200 if board else 400


def csv_response(slug: str, name: str, form: FilterForm, header: list[str], rows: list[list]):
    """A board's table as a CSV download named for the brand, the table and the range."""
    filename = f"{slug}-{name}-{form.values['start']}-{form.values['end']}.csv"
    return Response(
        csv_text(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def bad_filter(form: FilterForm):
    """The 400 for a CSV asked with bad filters, naming the first problem."""
    return error_response(400, "bad_filter", next(iter(form.errors.values())))


def board_csv(member: Member, form: FilterForm, board, chart: str, known, item_of):
    """A board's table ``chart`` as CSV: 404 when ``chart`` is not one of ``known``, 400
    when the filters are bad; ``item_of(board, chart)`` gives the section or listing."""
    if chart not in known:
        abort(404)
    if board is None:
        return bad_filter(form)
    item = item_of(board, chart)
    return csv_response(member.brand.slug, chart, form, item.csv_header, item.csv_rows)


@bp.get("/brands/<slug>/analytics")
@login_required
def analytics_board(slug: str):
    member = _analyst(slug)
    products = analytics.product_names(member.session, member.brand.id)
    form = parse_filters(request.args, products, utcnow().date())
    board = Board(member, form.filters, products) if form.filters else None
    return board_page(
        "admin/analytics/board.html", member, form, board, products=products, percent=percent
    )


@bp.get("/brands/<slug>/analytics/<chart>.csv")
@login_required
def analytics_csv(slug: str, chart: str):
    member = _analyst(slug)
    products = analytics.product_names(member.session, member.brand.id)
    form = parse_filters(request.args, products, utcnow().date())
    board = Board(member, form.filters, products) if form.filters else None
    return board_csv(member, form, board, chart, CHARTS, Board.section)
