"""The figures on the admin app's first page: for each of a user's brands, what the
people of each role come for (scans and suspected copies this week for marketing and
regulators, batches on hold and first-pass yield for the quality staff, messages the
outbox could not deliver for the owners).

Four grouped queries for all the brands at once, read from the rollup tables the boards
use (never from raw scan events) and from the batch and outbox tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from tracemark.models import Batch, BatchStatus, InspectionFirst, OutboxMessage, ScanRollup
from tracemark.models.analytics import ALL_PRODUCTS
from tracemark.models.rules import MessageStatus
from tracemark.reporting.quality import PRODUCED, Yield

#: The days a "this week" figure counts: today (UTC) and the six before.
WEEK = 7


@dataclass(frozen=True)
class BrandFigures:
    scans: int = 0
    suspected: int = 0
    not_genuine: int = 0
    on_hold: int = 0
    recalled: int = 0
    #: Outbox messages given up on, or still failing and waiting for another attempt.
    outbox_failures: int = 0
    first_pass: Yield = field(default_factory=Yield)


def brand_figures(
    session: Session, brand_ids: Iterable[int], today: dt.date
) -> dict[int, BrandFigures]:
    """The figures of each brand in ``brand_ids`` for the week ending ``today``."""
    ids = sorted(set(brand_ids))
    if not ids:
        return {}
    since = today - dt.timedelta(days=WEEK - 1)
    values: dict[int, dict] = {brand_id: {} for brand_id in ids}
    scans = session.execute(
        select(
            ScanRollup.brand_id,
            func.sum(ScanRollup.scans),
            func.sum(ScanRollup.suspicious),
            func.sum(ScanRollup.not_genuine),
        )
        .where(
            ScanRollup.brand_id.in_(ids),
            ScanRollup.dimension == "total",
            ScanRollup.product_id == ALL_PRODUCTS,
            ScanRollup.day >= since,
            ScanRollup.day <= today,
        )
        .group_by(ScanRollup.brand_id)
    )
    for brand_id, total, suspected, forged in scans:
        values[brand_id].update(
            scans=int(total or 0), suspected=int(suspected or 0), not_genuine=int(forged or 0)
        )
    batches = session.execute(
        select(Batch.brand_id, Batch.status, func.count())
        .where(Batch.brand_id.in_(ids), Batch.status != BatchStatus.RELEASED)
        .group_by(Batch.brand_id, Batch.status)
    )
    for brand_id, status, count in batches:
        key = "on_hold" if status is BatchStatus.ON_HOLD else "recalled"
        values[brand_id][key] = int(count)
    failing = or_(
        OutboxMessage.status == MessageStatus.DEAD,
        and_(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.attempts > 0),
    )
    outbox = session.execute(
        select(OutboxMessage.brand_id, func.count())
        .where(OutboxMessage.brand_id.in_(ids), failing)
        .group_by(OutboxMessage.brand_id)
    )
    for brand_id, count in outbox:
        values[brand_id]["outbox_failures"] = int(count)
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
    firsts = session.execute(
        select(
            InspectionFirst.brand_id,
            func.count(),
            func.sum(case((InspectionFirst.passed, 1), else_=0)),
        )
        .where(
            InspectionFirst.brand_id.in_(ids),
            InspectionFirst.kind.in_(PRODUCED),
            InspectionFirst.first_at >= start,
            InspectionFirst.first_at < end,
        )
        .group_by(InspectionFirst.brand_id)
    )
    for brand_id, inspected, passed in firsts:
        values[brand_id]["first_pass"] = Yield(int(inspected), int(passed or 0))
    return {brand_id: BrandFigures(**found) for brand_id, found in values.items()}
