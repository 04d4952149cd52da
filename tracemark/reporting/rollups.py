"""Maintaining the scan rollups (``tracemark.models.analytics``) from new scan events.

A run counts the events after the stored watermark in batches
(:mod:`tracemark.reporting.watermark`); each batch adds its counts to the day buckets
(one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` adding to what is there) in the
transaction that moves the watermark. Events are counted once they are ``SETTLE`` old;
a scan commits in milliseconds (its event is its last, autocommitted statement).

Claims have no event of their own: the units claimed per day come from the claim time
kept with each unit's scan state, and the last days are recounted (set, not added) on
every run, so a run sees a claim however late it commits.

Only consumer scans are counted: views (the same device opening the unit again that
day: reloads, language switches) and staff scans (signed-in brand members recording a
checkpoint) are stored apart (``ScanEvent.kind``) and never reach the boards.

Only events that name a brand are counted. A code that is not genuine (bad signature,
unknown key or serial) is stored without a brand, since nothing proves which brand it
imitates, so a brand's rollups hold scans of its genuine codes: copies of real labels
show up as ``suspicious_copy``, not as ``not_genuine``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, sessionmaker

from tracemark.db import dialect_name, insert_for, utc_day
from tracemark.models import Batch, ScanEvent, ScanRollup, Unit, UnitScanState
from tracemark.models.analytics import ALL_PRODUCTS
from tracemark.models.base import utcnow
from tracemark.reporting.watermark import Rollup, RollupRun, RunOptions, lock_watermark

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The watermark row of the scan rollup.
NAME = "scan_rollup"
#: Events per transaction.
BATCH_SIZE = 50_000
#: Claims are recounted from this long before the previous run.
CLAIMS_OVERLAP = dt.timedelta(days=1)

#: verdict → the rollup column it counts in (besides ``scans``).
VERDICT_COLUMNS = {
    "genuine_first_scan": "first_scans",
    "genuine_scanned_before": "repeat_scans",
    "suspicious_copy": "suspicious",
    "not_genuine": "not_genuine",
    "revoked_key": "withheld",
    "batch_on_hold": "withheld",
    "batch_recalled": "withheld",
}
#: Marks the "all products" variant in :func:`_recount_claims`.
ALL = object()
SCAN_COUNTS = ("scans", "first_scans", "repeat_scans", "suspicious", "not_genuine", "withheld")


def roll_up(
    sessions: sessionmaker[Session], *, all_claims: bool = False, **options: Unpack[RunOptions]
) -> RollupRun:
    """Count the events added since the last run (up to ``now - settle``, see
    :meth:`Rollup.run`), then recount the recent claims (all of them with ``all_claims``,
    e.g. after restoring a backup). Safe to run from several processes at once."""
    now = options["now"] = options.get("now") or utcnow()
    run = _SCANS.run(sessions, **options)
    with sessions.begin() as session:
        _recount_claims(session, now, all_claims)
    return run


def _count_batch(session: Session, low: int, high: int) -> None:
    """Add the counts of the events ``low < id <= high`` to their day buckets."""
    session.execute(_add_statement(dialect_name(session)), {"low": low, "high": high})


_SCANS = Rollup(NAME, ScanEvent, ScanEvent.scanned_at, _count_batch, BATCH_SIZE)


@cache
def _add_statement(dialect: str):
    """Add the counts of events ``low < id <= high`` to their buckets, per dimension."""
    insert_ = insert_for(dialect)
    event = ScanEvent.__table__.c
    events = (
        select(
            event.brand_id,
            utc_day(event.scanned_at, dialect).label("day"),
            func.coalesce(Batch.product_id, 0).label("product_id"),
            func.coalesce(cast(Unit.batch_id, String), "").label("batch"),
            func.coalesce(event.country, "").label("country"),
            func.coalesce(event.locale, "").label("locale"),
            func.coalesce(event.device_class, "").label("device"),
            event.verdict,
        )
        .select_from(ScanEvent.__table__)
        .outerjoin(Unit, Unit.id == event.unit_id)
        .outerjoin(Batch, Batch.id == Unit.batch_id)
        .where(
            event.id > bindparam("low", type_=event.id.type),
            event.id <= bindparam("high", type_=event.id.type),
            event.brand_id.is_not(None),
            event.kind == "scan",
        )
        .cte("events")
    )
    counts = [func.count().label("scans")]
    for column in SCAN_COUNTS[1:]:
        verdicts = [v for v, c in VERDICT_COLUMNS.items() if c == column]
        counts.append(func.sum(case((events.c.verdict.in_(verdicts), 1), else_=0)).label(column))

    def per(dimension: str, value, each_product: bool):
        """One dimension's counts, per product or for all products together."""
        keys = [events.c.brand_id, events.c.day]
        if each_product:
            keys.append(events.c.product_id)
        product = events.c.product_id if each_product else literal(ALL_PRODUCTS)
        return select(
            events.c.brand_id,
            literal(dimension, String).label("dimension"),
            events.c.day,
            product.label("product_id"),
            (value if value is not None else literal("", String)).label("value"),
            *counts,
        ).group_by(*keys, *([value] if value is not None else []))

    values = {
        "total": None,
        "country": events.c.country,
        "locale": events.c.locale,
        "device": events.c.device,
        "batch": events.c.batch,
    }
    rows = union_all(
        *(per(name, value, each) for name, value in values.items() for each in (True, False))
    ).subquery("agg")
    names = ["brand_id", "dimension", "day", "product_id", "value", *SCAN_COUNTS]
    # the WHERE keeps SQLite's parser from reading ON CONFLICT as a join constraint
    source = select(*(rows.c[name] for name in names)).where(true())
    statement = insert_(ScanRollup.__table__).from_select(names, source)
    return statement.on_conflict_do_update(
        index_elements=["brand_id", "dimension", "day", "product_id", "value"],
        set_={
            name: getattr(ScanRollup.__table__.c, name) + getattr(statement.excluded, name)
            for name in SCAN_COUNTS
        },
    )


def _recount_claims(session: Session, now: dt.datetime, everything: bool = False) -> None:
    """Set the claims of the days since the previous recount (all days the first time)."""
    watermark = lock_watermark(session, now, NAME)
    dialect = dialect_name(session)
    insert_ = insert_for(session)
    state = UnitScanState.__table__.c
    day = utc_day(state.claimed_at, dialect)
    conditions = [state.claimed_at.is_not(None)]
    if watermark.claims_from is not None and not everything:
        start = dt.datetime.combine(watermark.claims_from, dt.time(), dt.UTC)
        conditions.append(state.claimed_at >= start)
    claims = (
        select(Unit.brand_id, day.label("day"), Batch.product_id)
        .select_from(UnitScanState.__table__)
        .join(Unit, Unit.id == state.unit_id)
        .join(Batch, Batch.id == Unit.batch_id)
        .where(and_(*conditions))
        .cte("claims")
    )

    def per(product):
        keys = [claims.c.brand_id, claims.c.day, *([product] if product is not ALL else [])]
        return select(
            claims.c.brand_id,
            literal("total", String).label("dimension"),
            claims.c.day,
            (literal(ALL_PRODUCTS) if product is ALL else product).label("product_id"),
            literal("", String).label("value"),
            func.count().label("claims"),
        ).group_by(*keys)

    rows = union_all(per(claims.c.product_id), per(ALL)).subquery("agg")
    names = ["brand_id", "dimension", "day", "product_id", "value", "claims"]
    source = select(*(rows.c[name] for name in names)).where(true())
    statement = insert_(ScanRollup.__table__).from_select(names, source)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["brand_id", "dimension", "day", "product_id", "value"],
            set_={"claims": statement.excluded.claims},
        )
    )
    watermark.claims_from = (now - CLAIMS_OVERLAP).date()
