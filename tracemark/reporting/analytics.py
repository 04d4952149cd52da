"""What the marketing board shows, read from the scan rollups only (never raw events).

Every function takes the brand and :class:`Filters` (an inclusive range of UTC days, an
optional product, a granularity) and returns plain data; presentation is the admin's.
Rollups are per day: weeks (from Monday) and months are summed from days here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracemark.models import Batch, Product, ScanRollup
from tracemark.models.analytics import ALL_PRODUCTS

GRANULARITIES = ("day", "week", "month")
#: The longest range a board covers.
MAX_DAYS = 3 * 366
#: Dimensions of :func:`breakdown` (``product`` comes from the ``total`` rows).
BREAKDOWNS = ("country", "locale", "device", "batch", "product")


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date
    product_id: int | None = None
    granularity: str = "day"

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise ValueError(f"unknown granularity {self.granularity!r}")
        if self.end < self.start:
            raise ValueError("the range ends before it starts")
        if (self.end - self.start).days >= MAX_DAYS:
            raise ValueError(f"the range is longer than {MAX_DAYS} days")


@dataclass(frozen=True)
class Counts:
    scans: int = 0
    first_scans: int = 0
    repeat_scans: int = 0
    suspicious: int = 0
    not_genuine: int = 0
    withheld: int = 0
    claims: int = 0

    @property
    def other(self) -> int:
        """Scans of no kind above (checked by signature only while the history was
        unavailable): what makes the kinds add up to ``scans``."""
        kinds = self.first_scans + self.repeat_scans + self.suspicious
        return max(0, self.scans - kinds - self.not_genuine - self.withheld)

    @property
    def suspicious_rate(self) -> float | None:
        """Share of scans judged a possible copy; None without scans."""
        return self.suspicious / self.scans if self.scans else None

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Counts)))


COUNT_NAMES = tuple(f.name for f in fields(Counts))


def _counts(values) -> Counts:
    """Counts from summed columns (PostgreSQL sums big integers as numerics)."""
    return Counts(*(int(value) for value in values))


_SUMS = [func.coalesce(func.sum(getattr(ScanRollup, name)), 0) for name in COUNT_NAMES]


def _rows(
    session: Session, brand_id: int, filters: Filters, dimension: str, *keys, each_product=False
):
    """Summed counts of ``dimension`` grouped by ``keys``: from the all-products rows, or
    the filtered product's; ``each_product`` reads every product's own rows."""
    query = (
        select(*keys, *_SUMS)
        .where(
            ScanRollup.brand_id == brand_id,
            ScanRollup.dimension == dimension,
            ScanRollup.day >= filters.start,
            ScanRollup.day <= filters.end,
        )
        .group_by(*keys)
    )
    if filters.product_id is not None:
        query = query.where(ScanRollup.product_id == filters.product_id)
    elif each_product:
        query = query.where(ScanRollup.product_id != ALL_PRODUCTS)
    else:
        query = query.where(ScanRollup.product_id == ALL_PRODUCTS)
    return session.execute(query)


def totals(session: Session, brand_id: int, filters: Filters) -> Counts:
    row = _rows(session, brand_id, filters, "total").one()
    return _counts(row)


def period_start(day: dt.date, granularity: str) -> dt.date:
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def periods(filters: Filters) -> list[dt.date]:
    """The start of every period the range touches, in order."""
    starts, day = [], period_start(filters.start, filters.granularity)
    while day <= filters.end:
        starts.append(day)
        if filters.granularity == "day":
            day += dt.timedelta(days=1)
        elif filters.granularity == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return starts


def over_time(session: Session, brand_id: int, filters: Filters) -> list[tuple[dt.date, Counts]]:
    """Counts per period (every period of the range, empty ones included)."""
    series = {start: Counts() for start in periods(filters)}
    for day, *counts in _rows(session, brand_id, filters, "total", ScanRollup.day):
        start = period_start(day, filters.granularity)
        series[start] = series[start] + _counts(counts)
    return list(series.items())


def breakdown(
    session: Session, brand_id: int, filters: Filters, dimension: str
) -> list[tuple[str, Counts]]:
    """Counts per value of ``dimension`` (one of :data:`BREAKDOWNS`), most scans first.

    Values are as stored: ISO country codes, locales, device classes, batch and product
    ids in decimal; ``""`` is unknown.
    """
    if dimension not in BREAKDOWNS:
        raise ValueError(f"unknown dimension {dimension!r}")
    if dimension == "product":
        rows = _rows(session, brand_id, filters, "total", ScanRollup.product_id, each_product=True)
    else:
        rows = _rows(session, brand_id, filters, dimension, ScanRollup.value)
    found = [(str(key), _counts(counts)) for key, *counts in rows]
    return sorted(found, key=lambda item: (-item[1].scans, item[0]))


def hotspots(session: Session, brand_id: int, filters: Filters) -> list[tuple[str, Counts]]:
    """Countries with scans judged possible copies, most such scans first (then by rate).

    Only genuine codes of the brand can be judged copies, so this is where copies of its
    real labels are scanned; forged codes carry no brand (see ``tracemark.reporting.rollups``).
    """
    return rank_hotspots(breakdown(session, brand_id, filters, "country"))


def rank_hotspots(countries: list[tuple[str, Counts]]) -> list[tuple[str, Counts]]:
    """:func:`hotspots` from a country :func:`breakdown` already at hand."""
    found = [item for item in countries if item[1].suspicious]
    return sorted(found, key=lambda item: (-item[1].suspicious, -item[1].suspicious_rate, item[0]))


def product_names(session: Session, brand_id: int) -> dict[str, str]:
    """The brand's products: id (decimal) → name."""
    rows = session.execute(select(Product.id, Product.name).where(Product.brand_id == brand_id))
    return {str(product_id): name for product_id, name in rows}


def batch_lots(session: Session, brand_id: int, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The brand's batches among ``ids`` (decimal): id → (lot, product name)."""
    wanted = [int(key) for key in ids if key.isdigit() and len(key) < 10]
    if not wanted:
        return {}
    rows = session.execute(
        select(Batch.id, Batch.lot, Product.name)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.brand_id == brand_id, Batch.id.in_(wanted))
    )
    return {str(batch_id): (lot, name) for batch_id, lot, name in rows}
