"""The marketing board's figures, read from the roll-ups, against a direct count of the
scans behind them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from tests.helpers.rollups import NOW, T0, Scan, UnitRef, add_scans, brand_units
from tracemark.reporting import analytics, rollups
from tracemark.reporting.analytics import Counts, Filters

OCTOBER = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 10, 31)}
WITHHELD = {"revoked_key", "batch_on_hold", "batch_recalled"}


@pytest.fixture
def history(db) -> tuple[list[UnitRef], list[Scan]]:
    """A brand's six units and 300 scans of them in October 2026 (some forged), rolled up."""
    units = brand_units(db)
    scans = [scan for scan in add_scans(db, units, 300, seed=21) if scan.unit is not None]
    rollups.roll_up(db.sessions, now=NOW)
    return units, scans


def expected(scans: list[Scan]) -> Counts:
    verdicts = Counter(scan.verdict for scan in scans)
    return Counts(
        scans=len(scans),
        first_scans=verdicts["genuine_first_scan"],
        repeat_scans=verdicts["genuine_scanned_before"],
        suspicious=verdicts["suspicious_copy"],
        withheld=sum(verdicts[v] for v in WITHHELD),
    )


def _read(db, function, *args):
    with db.sessions() as session:
        return function(session, *args)


def test_totals_equal_the_scans_counted_one_by_one(db, history):
    units, scans = history
    brand_id = units[0].brand_id
    assert _read(db, analytics.totals, brand_id, Filters(**OCTOBER)) == expected(scans)
    first_days = Filters(dt.date(2026, 10, 1), dt.date(2026, 10, 5))
    early = [scan for scan in scans if scan.at.date() <= first_days.end]
    assert _read(db, analytics.totals, brand_id, first_days) == expected(early)
    product = units[0].product_id
    mine = [scan for scan in scans if scan.unit.product_id == product]
    only = Filters(**OCTOBER, product_id=product)
    assert _read(db, analytics.totals, brand_id, only) == expected(mine)


def test_weeks_start_on_monday_and_every_period_is_listed_even_empty(db, history):
    units, scans = history
    weekly = Filters(**OCTOBER, granularity="week")
    series = _read(db, analytics.over_time, units[0].brand_id, weekly)
    mondays = [dt.date(2026, 9, 28) + dt.timedelta(weeks=n) for n in range(5)]
    assert [start for start, _ in series] == mondays == analytics.periods(weekly)
    by_week = Counter(analytics.period_start(scan.at.date(), "week") for scan in scans)
    assert {start: counts.scans for start, counts in series} == {m: by_week[m] for m in mondays}
    assert sum((counts for _, counts in series), Counts()) == expected(scans)
    assert series[-1][1] == Counts()  # no scans after October 21st


def test_months_cover_a_range_across_their_edges(db, history):
    units, scans = history
    monthly = Filters(dt.date(2026, 9, 15), dt.date(2026, 11, 2), granularity="month")
    series = _read(db, analytics.over_time, units[0].brand_id, monthly)
    assert [start for start, _ in series] == [
        dt.date(2026, 9, 1),
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
    ]
    assert [counts.scans for _, counts in series] == [0, len(scans), 0]
    december = Filters(dt.date(2026, 12, 31), dt.date(2027, 1, 1), granularity="month")
    assert analytics.periods(december) == [dt.date(2026, 12, 1), dt.date(2027, 1, 1)]


@pytest.mark.parametrize("dimension", ["country", "locale", "device", "batch", "product"])
def test_each_breakdown_counts_every_value_most_scans_first(db, history, dimension):
    units, scans = history
    rows = _read(db, analytics.breakdown, units[0].brand_id, Filters(**OCTOBER), dimension)

    def value(scan: Scan) -> str:
        if dimension == "product":
            return str(scan.unit.product_id)
        return scan.value(dimension)

    direct = Counter(value(scan) for scan in scans)
    assert {key: counts.scans for key, counts in rows} == dict(direct)
    assert [key for key, _ in rows] == sorted(direct, key=lambda key: (-direct[key], key))
    assert sum((counts for _, counts in rows), Counts()) == expected(scans)


def test_hotspots_are_the_countries_with_possible_copies_most_first(db, history):
    units, scans = history
    hotspots = _read(db, analytics.hotspots, units[0].brand_id, Filters(**OCTOBER))
    copies = Counter(scan.country or "" for scan in scans if scan.verdict == "suspicious_copy")
    assert {country: counts.suspicious for country, counts in hotspots} == dict(copies)
    assert [counts.suspicious for _, counts in hotspots] == sorted(copies.values(), reverse=True)


def test_another_brands_scans_never_count(db, history):
    units, _scans = history
    theirs = brand_units(db, per_batch=1)
    add_scans(db, theirs, 50, seed=22)
    rollups.roll_up(db.sessions, now=NOW)
    mine = _read(db, analytics.totals, units[0].brand_id, Filters(**OCTOBER))
    assert mine == expected(history[1])
    their_products = {str(unit.product_id) for unit in theirs}
    rows = _read(db, analytics.breakdown, units[0].brand_id, Filters(**OCTOBER), "product")
    assert their_products.isdisjoint(key for key, _ in rows)
    names = _read(db, analytics.product_names, units[0].brand_id)
    assert set(names.values()) == {"Olive oil 1 l", "Pens"}
    assert their_products.isdisjoint(names)


def test_batch_lots_name_only_the_brands_batches_and_ignore_what_is_no_id(db, history):
    units, _scans = history
    batch_ids = sorted({str(unit.batch_id) for unit in units})
    lots = _read(db, analytics.batch_lots, units[0].brand_id, [*batch_ids, "", "x", "9" * 12])
    assert lots == {batch_ids[0]: ("L2401A", "Olive oil 1 l"), batch_ids[1]: ("P1", "Pens")}
    assert _read(db, analytics.batch_lots, units[0].brand_id + 10_000, batch_ids) == {}
    assert _read(db, analytics.batch_lots, units[0].brand_id, ["abc"]) == {}


def test_ties_between_hotspots_go_to_the_higher_share_then_the_country_code():
    ranked = analytics.rank_hotspots(
        [
            ("FR", Counts(scans=100, suspicious=5)),
            ("ES", Counts(scans=10, suspicious=5)),
            ("DE", Counts(scans=10, suspicious=5)),
            ("BR", Counts(scans=3, suspicious=0)),
            ("CN", Counts(scans=20, suspicious=9)),
        ]
    )
    assert [country for country, _ in ranked] == ["CN", "DE", "ES", "FR"]


def test_counts_add_up_and_know_their_share_of_copies():
    total = Counts(scans=4, suspicious=1, claims=1) + Counts(scans=6, suspicious=2, withheld=1)
    assert total == Counts(scans=10, suspicious=3, withheld=1, claims=1)
    assert total.suspicious_rate == 0.3
    assert Counts().suspicious_rate is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": T0.date(), "end": T0.date(), "granularity": "year"}, "granularity"),
        ({"start": dt.date(2026, 10, 2), "end": dt.date(2026, 10, 1)}, "ends before"),
        ({"start": dt.date(2020, 1, 1), "end": dt.date(2026, 1, 1)}, "longer than"),
    ],
)
def test_filters_refuse_what_no_board_can_show(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Filters(**kwargs)


def test_an_unknown_breakdown_is_refused(db):
    with db.sessions() as session, pytest.raises(ValueError, match="unknown dimension"):
        analytics.breakdown(session, 1, Filters(**OCTOBER), "colour")
