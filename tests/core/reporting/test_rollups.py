"""The scan rollups: exact against a direct count, incremental, and safe with two runners."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from tests.conftest import PASSPHRASE
from tests.helpers.rollups import NOW, T0, Scan, UnitRef, add_scans, brand_units, claim_at
from tracemark import worker as jobs
from tracemark.cli import main
from tracemark.models import ScanEvent, ScanRollup
from tracemark.models.analytics import ALL_PRODUCTS
from tracemark.reporting import rollups
from tracemark.reporting.watermark import SETTLE


def direct(scans: list[Scan], brand_id: int, dimension: str) -> dict:
    """What the rollup should hold, counted straight from the generated scans."""
    counts: dict = {}
    for scan in scans:
        if scan.unit is None or scan.unit.brand_id != brand_id:
            continue
        for product in (scan.unit.product_id, ALL_PRODUCTS):  # each product, and all
            key = (scan.at.date(), product, scan.value(dimension))
            counter = counts.setdefault(key, Counter())
            counter["scans"] += 1
            counter[rollups.VERDICT_COLUMNS[scan.verdict]] += 1
    return {
        key: tuple(counter[name] for name in rollups.SCAN_COUNTS) for key, counter in counts.items()
    }


def rolled(db, brand_id: int, dimension: str) -> dict:
    with db.sessions() as session:
        rows = session.scalars(
            select(ScanRollup).where(
                ScanRollup.brand_id == brand_id, ScanRollup.dimension == dimension
            )
        )
        return {
            (row.day, row.product_id, row.value): tuple(
                getattr(row, name) for name in rollups.SCAN_COUNTS
            )
            for row in rows
            if row.scans
        }


def assert_matches(db, scans: list[Scan], brand_id: int) -> None:
    for dimension in ("total", "country", "locale", "device", "batch"):
        assert rolled(db, brand_id, dimension) == direct(scans, brand_id, dimension), dimension


@pytest.fixture
def units(db) -> list[UnitRef]:
    found = brand_units(db)
    rollups.roll_up(db.sessions, now=NOW)  # what other tests left behind (the database is shared)
    return found


def test_rollup_equals_a_direct_count_in_every_dimension(db, units):
    scans = add_scans(db, units, 600, seed=1)
    run = rollups.roll_up(db.sessions, batch_size=128, now=NOW)
    assert run.events == 600 and run.batches == 5
    assert_matches(db, scans, units[0].brand_id)
    totals = rolled(db, units[0].brand_id, "total")
    everything = sum(1 for scan in scans if scan.unit)
    assert sum(v[0] for (_day, product, _), v in totals.items() if product < 0) == everything
    assert sum(v[0] for (_day, product, _), v in totals.items() if product > 0) == everything


def test_new_events_are_added_once_and_a_rerun_adds_nothing(db, units):
    first = add_scans(db, units, 300, seed=2)
    rollups.roll_up(db.sessions, now=NOW)
    # later scans fall partly on days already counted: their buckets grow
    second = add_scans(db, units, 200, seed=3, start=T0 + dt.timedelta(days=15))
    run = rollups.roll_up(db.sessions, batch_size=64, now=NOW)
    assert run.events == 200
    assert_matches(db, first + second, units[0].brand_id)
    again = rollups.roll_up(db.sessions, now=NOW)
    assert (again.events, again.batches) == (0, 0)
    assert_matches(db, first + second, units[0].brand_id)


def test_events_still_settling_wait_for_the_next_run(db, units):
    old = add_scans(db, units, 50, seed=4, start=NOW - dt.timedelta(days=2), days=1)
    fresh = add_scans(db, units, 20, seed=5, start=NOW - dt.timedelta(seconds=5), days=3 / 86400)
    assert rollups.roll_up(db.sessions, now=NOW).events == 50
    assert_matches(db, old, units[0].brand_id)
    later = NOW + SETTLE
    assert rollups.roll_up(db.sessions, now=later).events == 20
    assert_matches(db, old + fresh, units[0].brand_id)


def test_two_runners_at_once_count_every_event_exactly_once(db, units):
    scans = add_scans(db, units, 1500, seed=6)
    results, errors = [], []

    def runner():
        try:
            results.append(rollups.roll_up(db.sessions, batch_size=50, now=NOW))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(run.events for run in results) == 1500
    assert_matches(db, scans, units[0].brand_id)


def test_another_brands_scans_stay_in_their_own_rollup(db, units):
    theirs = brand_units(db, per_batch=1)
    mine = add_scans(db, units, 100, seed=7)
    their_scans = add_scans(db, theirs, 100, seed=8)
    rollups.roll_up(db.sessions, now=NOW)
    assert_matches(db, mine, units[0].brand_id)
    assert_matches(db, their_scans, theirs[0].brand_id)


def _claims(db, brand_id: int) -> dict:
    with db.sessions() as session:
        rows = session.execute(
            select(ScanRollup.day, ScanRollup.product_id, ScanRollup.claims).where(
                ScanRollup.brand_id == brand_id,
                ScanRollup.dimension == "total",
                ScanRollup.claims > 0,
            )
        )
        return {(day, product): claims for day, product, claims in rows}


def test_claims_are_counted_per_day_and_never_twice(db, units):
    # later than any run of the other tests (the database is shared): claims are recent
    now = NOW + dt.timedelta(days=90)
    day = now - dt.timedelta(hours=3)
    claim_at(db, units[0], day)
    claim_at(db, units[1], day + dt.timedelta(minutes=5))
    rollups.roll_up(db.sessions, now=now)
    rollups.roll_up(db.sessions, now=now)
    brand = units[0].brand_id
    expected = Counter((day.date(), unit.product_id) for unit in units[:2])
    expected[(day.date(), ALL_PRODUCTS)] = 2
    assert _claims(db, brand) == dict(expected)
    # a claim committed after that run, timed before it, is picked up by the next run
    late = now - dt.timedelta(minutes=1)
    claim_at(db, units[-1], late)
    rollups.roll_up(db.sessions, now=now + dt.timedelta(hours=1))
    expected[(late.date(), units[-1].product_id)] += 1
    expected[(late.date(), ALL_PRODUCTS)] += 1
    assert _claims(db, brand) == dict(expected)


def test_a_runner_dying_mid_batch_leaves_counts_and_watermark_as_they_were(db, units, monkeypatch):
    scans = add_scans(db, units, 200, seed=9)
    real = rollups._count_batch

    def dies_after_counting(*args):
        real(*args)
        raise RuntimeError("runner died")

    monkeypatch.setattr(rollups, "_SCANS", replace(rollups._SCANS, apply=dies_after_counting))
    with pytest.raises(RuntimeError):
        rollups.roll_up(db.sessions, now=NOW)
    assert rolled(db, units[0].brand_id, "total") == {}
    monkeypatch.undo()
    assert rollups.roll_up(db.sessions, now=NOW).events == 200
    assert_matches(db, scans, units[0].brand_id)


def test_the_command_and_the_idle_worker_bring_the_rollups_up_to_date(db, units):
    scans = add_scans(db, units, 40, seed=10)
    env = {"TRACEMARK_DATABASE_URL": db.url, "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE}
    result = CliRunner().invoke(main, ["analytics", "rollup"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "events in" in result.output
    assert_matches(db, scans, units[0].brand_id)
    more = add_scans(db, units, 30, seed=11)
    calls = []

    def idle():
        calls.append(rollups.roll_up(db.sessions))

    jobs.run_worker(db.sessions, PASSPHRASE, once=True, idle=idle)
    assert len(calls) == 1
    assert_matches(db, scans + more, units[0].brand_id)


def test_all_claims_recounts_days_before_the_last_run(db, units):
    rollups.roll_up(db.sessions, now=NOW + dt.timedelta(days=60))
    restored = T0 + dt.timedelta(days=3)  # say, from a restored backup
    claim_at(db, units[0], restored)
    rollups.roll_up(db.sessions, now=NOW + dt.timedelta(days=60))
    assert _claims(db, units[0].brand_id) == {}
    rollups.roll_up(db.sessions, now=NOW + dt.timedelta(days=60), all_claims=True)
    assert _claims(db, units[0].brand_id) == {
        (restored.date(), units[0].product_id): 1,
        (restored.date(), ALL_PRODUCTS): 1,
    }


def test_views_and_staff_scans_stay_out_of_the_rollups(db, units):
    scans = add_scans(db, units, 200, seed=11)
    unit = units[0]
    extra = [
        {"brand_id": unit.brand_id, "unit_id": unit.unit_id, "scanned_at": T0, "kind": kind,
         "verdict": "genuine_first_scan", "reason": "test", "country": "ES"}
        for kind in ("view", "view", "staff")
    ]  # fmt: skip
    with db.sessions.begin() as session:
        session.execute(insert(ScanEvent), extra)
    rollups.roll_up(db.sessions, now=NOW)
    assert_matches(db, scans, unit.brand_id)  # consumer scans only, as generated
