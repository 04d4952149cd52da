"""Scan histories for the analytics roll-ups: a brand's units and random scans of them."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import insert, select

from tests.conftest import PASSPHRASE, gtin_under, make_brand
from tracemark import catalog
from tracemark.codes import issuance
from tracemark.models import Batch, ScanEvent, Unit, UnitScanState

T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
#: The runners' clock: a day ahead, so that the scans other tests record now have settled.
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
VERDICTS = (
    ["genuine_first_scan"] * 5
    + ["genuine_scanned_before"] * 4
    + ["suspicious_copy"] * 2
    + ["revoked_key", "batch_on_hold", "batch_recalled"]
)
COUNTRIES = ["ES", "FR", "DE", "BR", "CN", None]
LOCALES = ["en", "es", "fr", "zh_Hans", None]
DEVICES = ["mobile", "tablet", "desktop", "bot", "other", None]


@dataclass(frozen=True)
class UnitRef:
    brand_id: int
    unit_id: int
    product_id: int
    batch_id: int


@dataclass(frozen=True)
class Scan:
    unit: UnitRef | None  # None: a forged code, stored without a brand
    at: dt.datetime
    verdict: str
    country: str | None
    locale: str | None
    device: str | None

    def value(self, dimension: str) -> str:
        return {
            "total": "",
            "country": self.country or "",
            "locale": self.locale or "",
            "device": self.device or "",
            "batch": str(self.unit.batch_id),
        }[dimension]


def brand_units(db, per_batch: int = 3) -> list[UnitRef]:
    """A brand with two products (one batch each) and ``per_batch`` issued units each."""
    demo = make_brand(db.sessions)
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        other = catalog.create_product(session, brand, gtin_under(demo.prefix, 2), "Pens")
        second = catalog.create_batch(session, other, "P1")
    for batch_id in (demo.batch.id, second.id):
        issuance.issue(db.sessions, batch_id, per_batch, PASSPHRASE, workers=1)
    with db.sessions() as session:
        rows = session.execute(
            select(Unit.brand_id, Unit.id, Batch.product_id, Batch.id)
            .join(Batch, Batch.id == Unit.batch_id)
            .where(Unit.brand_id == demo.brand.id)
        )
        return [UnitRef(*row) for row in rows]


def add_scans(
    db, units: list[UnitRef], count: int, *, seed: int, start=T0, days: float = 20
) -> list[Scan]:
    """``count`` scan events at random within ``days`` from ``start`` (in time order, as a
    live system stores them), one in ten of them forged (no brand)."""
    rng = random.Random(seed)
    scans = sorted(
        (
            Scan(
                None if rng.random() < 0.1 else rng.choice(units),
                start + dt.timedelta(seconds=rng.randrange(max(1, int(days * 86400)))),
                rng.choice(VERDICTS),
                rng.choice(COUNTRIES),
                rng.choice(LOCALES),
                rng.choice(DEVICES),
            )
            for _ in range(count)
        ),
        key=lambda scan: scan.at,
    )
    rows = [
        {
            "brand_id": scan.unit.brand_id if scan.unit else None,
            "unit_id": scan.unit.unit_id if scan.unit else None,
            "scanned_at": scan.at,
            "verdict": scan.verdict if scan.unit else "not_genuine",
            "reason": "test",
            "country": scan.country,
            "locale": scan.locale,
            "device_class": scan.device,
        }
        for scan in scans
    ]
    with db.sessions.begin() as session:
        session.execute(insert(ScanEvent), rows)
    return scans


def claim_at(db, unit: UnitRef, when: dt.datetime) -> None:
    with db.sessions.begin() as session:
        state = session.get(UnitScanState, unit.unit_id)
        if state is None:
            session.add(
                UnitScanState(
                    unit_id=unit.unit_id,
                    scan_count=1,
                    first_scan_at=when,
                    last_scan_at=when,
                    pin_failures=0,
                    claimed_at=when,
                )
            )
        else:
            state.claimed_at = when
