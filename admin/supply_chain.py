"""The supply-chain board of a brand: shipments in transit, stock at each site by age,
and sensor excursions, each with its data as a table and as CSV. Read from the board
tables (``tracemark.reporting.logistics``); in transit and stock are as of now.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import charts
from admin.access import Member
from admin.analytics import (
    GRANULARITY_NAMES,
    TOP,
    Board,
    Section,
    number,
)
from admin.boards import Listing, days, iso, operator_csv, operator_page, when
from admin.views import bp
from tracemark.models.base import utcnow
from tracemark.reporting import logistics
from tracemark.reporting.analytics import Filters
from tracemark.reporting.logistics import AGES, Place, SupplyFilters

CHARTS = {
    "transit": _l("Shipments in transit, by age"),
    "stock": _l("Stock per site"),
    "excursions_site": _l("Sensor excursions per site"),
    "excursions_time": _l("Sensor excursions over time"),
}
LISTINGS = {
    "shipments": _l("Oldest shipments in transit"),
    "excursions": _l("Latest sensor excursions"),
}
AGE_NAMES = {
    "week": _l("Under a week"),
    "month": _l("1 to 4 weeks"),
    "quarter": _l("1 to 3 months"),
    "older": _l("Over 3 months"),
}
assert set(AGE_NAMES) == set(AGES)


class SupplyBoard:
    """The board of one brand under one set of filters, as of ``now``."""

    #: What ``admin.boards.operator_page`` and ``operator_csv`` read: the page's template,
    #: the filter the board adds to the scans board's, and the tables it gives as CSV.
    template = "admin/boards/supply_chain.html"
    extra = "site"
    tables = frozenset({*CHARTS, *LISTINGS})

    def __init__(
        self, member: Member, filters: SupplyFilters, products: dict[str, str], now: dt.datetime
    ) -> None:
        self.session, self.brand_id = member.session, member.brand.id
        self.filters, self.now = filters, now
        self.periods = Board(member, filters, products)
        self.sites = logistics.site_names(self.session, self.brand_id)
        self.locations = logistics.site_locations(self.session, self.brand_id)

    @staticmethod
    def choices(member: Member) -> dict[str, str]:
        names = logistics.site_names(member.session, member.brand.id)
        return {str(k): v for k, v in names.items()}

    @classmethod
    def of(cls, member: Member, f: Filters, site: str | None, products: dict) -> SupplyBoard:
        site_id = int(site) if site else None
        filters = SupplyFilters(f.start, f.end, f.product_id, f.granularity, site_id=site_id)
        return cls(member, filters, products, utcnow())

    def item(self, chart: str) -> Section | Listing:
        if chart in LISTINGS:
            return getattr(self, chart)(logistics.MAX_ROWS)
        return self.section(chart)

    def place(self, place: Place) -> str:
        if place.site_id is not None and place.site_id in self.sites:
            return self.sites[place.site_id]
        if place.location:
            return self.locations.get(place.location, place.location)
        return gettext("Unknown place")

    def section(self, chart: str) -> Section:
        return getattr(self, f"_{chart}")()

    def sections(self) -> list[Section]:
        return [self.section(chart) for chart in CHARTS]

    def transit(self, limit: int = logistics.LISTED) -> logistics.Transit:
        if getattr(self, "_transit_limit", None) != limit:
            self._found = logistics.in_transit(
                self.session, self.brand_id, self.filters, self.now, limit
            )
            self._transit_limit = limit
        return self._found

    def _transit(self) -> Section:
        transit = self.transit()
        bars = [(str(AGE_NAMES[name]), count) for name, count in transit.by_age.items()]
        drawn = charts.bar_chart(
            "transit",
            str(CHARTS["transit"]),
            gettext(
                "Shipments whose objects have had no later event (no receipt), by how long "
                "ago they were shipped."
            ),
            gettext("Shipments"),
            bars if transit.shipments else [],
            number,
        )
        headers = [gettext("Age"), gettext("Shipments")]
        rows = [[name, number(count)] for name, count in bars]
        raw = [[key, count] for key, count in transit.by_age.items()]
        return Section(
            "transit",
            drawn,
            headers,
            rows,
            ["age", "shipments"],
            raw,
            gettext("Nothing is in transit: every shipment has been received."),
        )

    def _stock(self) -> Section:
        stock = logistics.stock(self.session, self.brand_id, self.filters, self.now)
        drawn = charts.bar_chart(
            "stock",
            str(CHARTS["stock"]),
            gettext("Objects whose latest event left them at each site, the fullest first."),
            gettext("Objects"),
            [(self.place(s.place), s.total) for s in stock[:TOP]],
            number,
        )
        headers = [gettext("Site"), *(str(name) for name in AGE_NAMES.values()), gettext("All")]
        rows = [
            [self.place(s.place), *(number(s.by_age[a]) for a in AGES), number(s.total)]
            for s in stock
        ]
        raw = [
            [s.place.site_id or "", s.place.location, self.place(s.place),
             *(s.by_age[a] for a in AGES), s.total]
            for s in stock
        ]  # fmt: skip
        return Section(
            "stock",
            drawn,
            headers,
            rows,
            ["site_id", "location", "site", *AGES, "total"],
            raw,
            gettext("No object is at any site: none was recorded, or all have moved on."),
        )

    def _excursions_site(self) -> Section:
        items = logistics.excursions_by_site(self.session, self.brand_id, self.filters)
        drawn = charts.bar_chart(
            "excursions_site",
            str(CHARTS["excursions_site"]),
            gettext(
                "Sensor readings with an alarm or a value outside their bounds, per site, "
                "in the chosen range."
            ),
            gettext("Excursions"),
            [(self.place(place), count) for place, count in items[:TOP]],
            number,
        )
        rows = [[self.place(place), number(count)] for place, count in items]
        raw = [[p.site_id or "", p.location, self.place(p), count] for p, count in items]
        return Section(
            "excursions_site",
            drawn,
            [gettext("Site"), gettext("Excursions")],
            rows,
            ["site_id", "location", "site", "excursions"],
            raw,
            gettext("No sensor excursion in this range."),
        )

    def _excursions_time(self) -> Section:
        timeline = logistics.excursions_over_time(self.session, self.brand_id, self.filters)
        drawn = charts.line_chart(
            "excursions_time",
            str(CHARTS["excursions_time"]),
            gettext("Sensor excursions per period."),
            str(GRANULARITY_NAMES[self.filters.granularity]),
            gettext("Excursions"),
            [self.periods.period_label(start, short=True) for start, _ in timeline],
            [(gettext("Excursions"), "tm-series-3", [n for _, n in timeline])]
            if any(n for _, n in timeline)
            else [],
            number,
        )
        rows = [[self.periods.period_label(start), number(n)] for start, n in timeline]
        return Section(
            "excursions_time",
            drawn,
            [gettext("Period"), gettext("Excursions")],
            rows,
            ["period", "excursions"],
            [[start.isoformat(), n] for start, n in timeline],
            gettext("No sensor excursion in this range."),
        )

    def shipments(self, limit: int = logistics.LISTED) -> Listing:
        transit = self.transit(limit)

        def targets(shipment: logistics.Shipment) -> str:
            return ", ".join(self.place(p) for p in shipment.destinations) or gettext("Unknown")

        headers = [
            gettext("Shipped"),
            gettext("From"),
            gettext("To"),
            gettext("Objects"),
            gettext("Age"),
        ]
        rows = [
            [when(s.shipped_at), self.place(s.origin), targets(s), number(s.objects),
             days(s.age_days(self.now))]
            for s in transit.oldest
        ]  # fmt: skip
        raw = [
            [s.event_id, iso(s.shipped_at), self.place(s.origin), s.origin.location,
             " ".join(p.location for p in s.destinations), " ".join(s.sources), s.objects,
             s.age_days(self.now)]
            for s in transit.oldest
        ]  # fmt: skip
        return Listing(
            "shipments",
            str(LISTINGS["shipments"]),
            gettext("Nothing is in transit: every shipment has been received."),
            headers,
            rows,
            ["event", "shipped_at", "from", "from_location", "to", "sources", "objects",
             "age_days"],
            raw,
        )  # fmt: skip

    def excursions(self, limit: int = logistics.LISTED) -> Listing:
        found = logistics.excursions(self.session, self.brand_id, self.filters, limit)

        def value(x: float | None) -> str:
            return "-" if x is None else format_decimal(x)

        def bounds(e: logistics.Excursion) -> str:
            if e.min_value is None and e.max_value is None:
                return "-"
            return gettext("%(low)s to %(high)s", low=value(e.min_value), high=value(e.max_value))

        headers = [
            gettext("When"),
            gettext("Site"),
            gettext("Reading"),
            gettext("Value"),
            gettext("Bounds"),
            gettext("Alarm"),
            gettext("Batch"),
        ]
        rows = [
            [when(e.at), self.place(e.place), e.type.removeprefix("gs1:"),
             f"{value(e.value)} {e.uom or ''}".strip(), bounds(e), e.exception or "",
             f"{e.lot} · {e.product}" if e.lot else gettext("Unknown")]
            for e in found
        ]  # fmt: skip
        raw = [
            [iso(e.at), self.place(e.place), e.place.location, e.type,
             "" if e.value is None else e.value, "" if e.min_value is None else e.min_value,
             "" if e.max_value is None else e.max_value, e.uom or "", e.exception or "",
             e.batch_id or "", e.lot or ""]
            for e in found
        ]  # fmt: skip
        return Listing(
            "excursions",
            str(LISTINGS["excursions"]),
            gettext("No sensor excursion in this range."),
            headers,
            rows,
            ["at", "site", "location", "type", "value", "min", "max", "uom", "exception",
             "batch_id", "batch"],
            raw,
        )  # fmt: skip


@bp.get("/brands/<slug>/supply-chain")
@login_required
def supply_chain_board(slug: str):
    return operator_page(slug, SupplyBoard)


@bp.get("/brands/<slug>/supply-chain/<chart>.csv")
@login_required
def supply_chain_csv(slug: str, chart: str):
    return operator_csv(slug, SupplyBoard, chart)
