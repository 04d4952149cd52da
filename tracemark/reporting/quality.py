"""What the quality board shows: first-pass yield per line and period, incoming lot pass
rate per supplier, defect types, and batches on hold or recalled.

An *inspection* is an event with bizStep ``inspecting`` or with QC results
(``data["tm:qc"]``: ``[{"test", "result": "pass"|"fail", "value", "uom", "defect"?}]``,
as captured from EPCIS or recorded from a checkpoint form). It fails when its disposition
is ``non_conformant`` or any test failed. An object's *first* inspection is its earliest
by event time, whatever order the events arrived in; first-pass yield is the share of
the objects first inspected in a period whose first inspection passed.

Figures are read from the tables :mod:`tracemark.reporting.board_rollup` keeps, never from the
raw events. Every function takes the brand and returns plain data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tracemark.db import dialect_name, utc_day
from tracemark.models import Batch, BatchStatus, DefectDay, InspectionFirst, Product, Supplier
from tracemark.models.base import as_utc
from tracemark.reporting.analytics import Filters, period_start, periods

#: Kinds of object whose first inspection counts towards a line's yield.
PRODUCED = ("batch", "unit")
FAILED_DISPOSITIONS = ("non_conformant", "nonconformant")
#: Longest line name and defect name kept.
MAX_LINE, MAX_DEFECT = 100, 64


@dataclass(frozen=True)
class QualityFilters(Filters):
    """The board's filters: a range of UTC days, product, period length, and a line."""

    line: str | None = None


@dataclass(frozen=True)
class Outcome:
    passed: bool
    #: One entry per failing test: its ``defect``, else its test name (``""`` unknown).
    defects: tuple[str, ...]


@dataclass(frozen=True)
class Yield:
    inspected: int = 0
    passed: int = 0

    @property
    def rate(self) -> float | None:
        """Share of first inspections that passed; None when nothing was inspected."""
        return self.passed / self.inspected if self.inspected else None

    def __add__(self, other: Yield) -> Yield:
        return Yield(self.inspected + other.inspected, self.passed + other.passed)


@dataclass(frozen=True)
class HeldBatch:
    batch_id: int
    lot: str
    product: str
    status: BatchStatus
    since: dt.datetime | None
    notice: dict[str, str]
    line: str


def is_inspection(biz_step: str | None, data: Mapping[str, Any] | None) -> bool:
    return biz_step == "inspecting" or (isinstance(data, Mapping) and "tm:qc" in data)


def inspection_outcome(data: Mapping[str, Any] | None, disposition: str | None) -> Outcome:
    """Whether an inspection passed, and the defects of its failing tests. Entries that
    are not test results (not an object, no ``result``) are ignored."""
    tests = data.get("tm:qc") if isinstance(data, Mapping) else None
    defects = []
    for test in tests if isinstance(tests, list) else []:
        if isinstance(test, Mapping) and test.get("result") == "fail":
            name = test.get("defect") or test.get("test") or ""
            defects.append(str(name).replace("\x00", "")[:MAX_DEFECT])
    failed = bool(defects) or (disposition or "").lower() in FAILED_DISPOSITIONS
    return Outcome(not failed, tuple(defects))


def line_of(data: Mapping[str, Any] | None) -> str:
    """The production line an event names (``tm:line``), or ``""``."""
    line = data.get("tm:line") if isinstance(data, Mapping) else None
    return str(line).replace("\x00", "").strip()[:MAX_LINE] if line else ""


def _range(filters: Filters) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(filters.start, dt.time(), dt.UTC)
    return start, dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), dt.UTC)


def _firsts(session: Session, brand_id: int, filters: QualityFilters, kinds, *keys):
    start, end = _range(filters)
    first = InspectionFirst
    query = (
        select(*keys, func.count(), func.sum(case((first.passed, 1), else_=0)))
        .where(
            first.brand_id == brand_id,
            first.kind.in_(kinds),
            first.first_at >= start,
            first.first_at < end,
        )
        .group_by(*keys)
    )
    if filters.product_id is not None and kinds == PRODUCED:
        query = query.where(first.product_id == filters.product_id)
    if filters.line is not None and kinds == PRODUCED:
        query = query.where(first.line == filters.line)
    return session.execute(query)


def first_pass_yield(
    session: Session, brand_id: int, filters: QualityFilters
) -> dict[str, list[tuple[dt.date, Yield]]]:
    """Per line (``""``: unknown), the yield of every period of the range (empty periods
    included), for batches and units first inspected in it."""
    dialect = dialect_name(session)
    day = utc_day(InspectionFirst.first_at, dialect)
    starts = periods(filters)
    lines: dict[str, dict[dt.date, Yield]] = defaultdict(lambda: dict.fromkeys(starts, Yield()))
    for when, line, inspected, passed in _firsts(
        session, brand_id, filters, PRODUCED, day, InspectionFirst.line
    ):
        if isinstance(when, str):  # SQLite's date() is text
            when = dt.date.fromisoformat(when)
        start = period_start(when, filters.granularity)
        lines[line][start] = lines[line][start] + Yield(int(inspected), int(passed or 0))
    return {line: list(series.items()) for line, series in sorted(lines.items())}


def yield_by_line(per_line: dict[str, list[tuple[dt.date, Yield]]]) -> list[tuple[str, Yield]]:
    """The range's yield per line, from :func:`first_pass_yield`, most inspected first."""
    totals = [(line, sum((y for _, y in series), Yield())) for line, series in per_line.items()]
    return sorted(totals, key=lambda item: (-item[1].inspected, item[0]))


def yield_over_time(
    per_line: dict[str, list[tuple[dt.date, Yield]]],
) -> list[tuple[dt.date, Yield]]:
    """All lines' yield per period, from :func:`first_pass_yield` (None without lines)."""
    merged: dict[dt.date, Yield] = {}
    for series in per_line.values():
        for start, value in series:
            merged[start] = merged.get(start, Yield()) + value
    return sorted(merged.items())


def supplier_pass_rates(
    session: Session, brand_id: int, filters: QualityFilters
) -> list[tuple[int, str, Yield]]:
    """Per supplier, its material lots first inspected in the range and how many passed,
    most inspected first: (supplier id, name, yield)."""
    rows = _firsts(session, brand_id, filters, ("lot",), InspectionFirst.supplier_id).all()
    named = session.execute(
        select(Supplier.id, Supplier.name).where(
            Supplier.brand_id == brand_id,
            Supplier.id.in_([s for s, _, _ in rows if s is not None]),
        )
    )
    names = {supplier_id: name for supplier_id, name in named}
    found = [
        (supplier, names.get(supplier, ""), Yield(int(n), int(p or 0)))
        for supplier, n, p in rows
        if supplier is not None
    ]
    return sorted(found, key=lambda item: (-item[2].inspected, item[1]))


def defect_types(session: Session, brand_id: int, filters: QualityFilters) -> list[tuple[str, int]]:
    """Failing tests in the range per defect type (``""``: unnamed), most first."""
    query = (
        select(DefectDay.defect, func.sum(DefectDay.failures))
        .where(
            DefectDay.brand_id == brand_id,
            DefectDay.day >= filters.start,
            DefectDay.day <= filters.end,
        )
        .group_by(DefectDay.defect)
    )
    if filters.product_id is not None:
        query = query.where(DefectDay.product_id == filters.product_id)
    if filters.line is not None:
        query = query.where(DefectDay.line == filters.line)
    found = [(defect, int(count)) for defect, count in session.execute(query)]
    return sorted(found, key=lambda item: (-item[1], item[0]))


def held_batches(
    session: Session, brand_id: int, product_id: int | None = None, line: str | None = None
) -> list[HeldBatch]:
    """The brand's batches on hold or recalled, the longest held first."""
    query = (
        select(Batch, Product.name)
        .join(Product, Product.id == Batch.product_id)
        .where(
            Batch.brand_id == brand_id,
            Batch.status.in_([BatchStatus.ON_HOLD, BatchStatus.RECALLED]),
        )
    )
    if product_id is not None:
        query = query.where(Batch.product_id == product_id)
    if line is not None:
        query = query.where(Batch.line == line)
    found = [
        HeldBatch(
            batch.id,
            batch.lot,
            name,
            batch.status,
            as_utc(batch.status_since),
            dict(batch.notice or {}),
            batch.line or "",
        )
        for batch, name in session.execute(query)
    ]
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda b: (b.since or far, b.lot))


def lines(session: Session, brand_id: int) -> list[str]:
    """The production lines the brand's batches and first inspections name."""
    named = set(
        session.scalars(
            select(Batch.line).where(Batch.brand_id == brand_id, Batch.line.is_not(None)).distinct()
        )
    )
    named |= set(
        session.scalars(
            select(InspectionFirst.line)
            .where(InspectionFirst.brand_id == brand_id, InspectionFirst.line != "")
            .distinct()
        )
    )
    named.discard("")
    return sorted(named)
