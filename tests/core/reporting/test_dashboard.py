"""The dashboard's figures per brand: scans and suspected copies this week (from the
rollups), batches on hold or recalled, failing outbox messages, first-pass yield."""

from __future__ import annotations

import datetime as dt
import secrets

from tests.conftest import make_brand
from tracemark import catalog
from tracemark.models import InspectionFirst, OutboxMessage, ScanRollup
from tracemark.models.analytics import ALL_PRODUCTS
from tracemark.models.rules import MessageKind, MessageStatus
from tracemark.reporting.dashboard import brand_figures
from tracemark.reporting.quality import Yield

TODAY = dt.date(2026, 12, 6)


def seed(session, brand_id: int, product_id: int, batch) -> None:
    for days_ago, scans, suspicious in ((0, 10, 2), (6, 5, 1), (7, 100, 50)):
        day = TODAY - dt.timedelta(days=days_ago)
        session.add(
            ScanRollup(brand_id=brand_id, dimension="total", day=day, product_id=ALL_PRODUCTS,
                       value="", scans=scans, suspicious=suspicious, not_genuine=1)
        )  # fmt: skip
        # a per-product row of the same day is not counted twice
        session.add(
            ScanRollup(brand_id=brand_id, dimension="total", day=day, product_id=product_id,
                       value="", scans=scans, suspicious=suspicious)
        )  # fmt: skip
    catalog.set_batch_status(session, batch, "on_hold", {"en": "Held."})
    for status, attempts in (
        [(MessageStatus.DEAD, 5), (MessageStatus.PENDING, 2), (MessageStatus.PENDING, 0),
         (MessageStatus.SENT, 1)]
    ):  # fmt: skip
        session.add(
            OutboxMessage(brand_id=brand_id, kind=MessageKind.EMAIL, recipient="q@example.com",
                          dedupe_key=secrets.token_hex(8), status=status, attempts=attempts)
        )  # fmt: skip
    at = dt.datetime.combine(TODAY, dt.time(9), dt.UTC)
    for n, passed in enumerate((True, True, True, False)):
        session.add(
            InspectionFirst(brand_id=brand_id, kind="batch", subject_id=1000 + n, event_id=n,
                            first_at=at - dt.timedelta(days=n), passed=passed)
        )  # fmt: skip
    session.add(
        InspectionFirst(brand_id=brand_id, kind="batch", subject_id=999, event_id=9,
                        first_at=at - dt.timedelta(days=30), passed=False)
    )  # fmt: skip
    session.flush()


def test_figures_count_this_week_only_and_each_brand_apart(db):
    demo, other = make_brand(db.sessions), make_brand(db.sessions)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        seed(session, demo.brand.id, demo.product.id, batch)
    with db.sessions() as session:
        figures = brand_figures(session, [demo.brand.id, other.brand.id], TODAY)
    mine = figures[demo.brand.id]
    assert (mine.scans, mine.suspected, mine.not_genuine) == (15, 3, 2)
    assert (mine.on_hold, mine.recalled, mine.outbox_failures) == (1, 0, 2)
    assert mine.first_pass == Yield(4, 3) and mine.first_pass.rate == 0.75
    theirs = figures[other.brand.id]
    assert (theirs.scans, theirs.on_hold, theirs.first_pass.rate) == (0, 0, None)
