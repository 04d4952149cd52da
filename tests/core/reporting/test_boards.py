"""The quality and supply-chain boards' figures, against the hand-built chain of
``tests.core.reporting.board_chain`` whose answers are worked out in its docstring."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.core.reporting.board_chain import NOW, ROLLUP_NOW, World, at, build, event, late_fail, qc
from tracemark.models import InspectionFirst, RollupWatermark
from tracemark.reporting import board_rollup, logistics, quality
from tracemark.reporting.logistics import Place, SupplyFilters
from tracemark.reporting.quality import QualityFilters, Yield

OCTOBER = {"start": dt.date(2026, 10, 1), "end": dt.date(2026, 10, 31)}


@pytest.fixture(scope="module")
def world(db) -> World:
    """The chain, rolled up; B3's earlier fail arrives after the first run."""
    world = build(db.sessions)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    late_fail(db.sessions, world)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    return world


@pytest.fixture(scope="module")
def other(db, world) -> World:
    """A second brand with the same chain, rolled up: never in the first one's figures."""
    other = build(db.sessions)
    late_fail(db.sessions, other)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    return other


def test_a_first_inspection_that_fails_is_not_first_pass_even_if_a_retest_passes(db, world):
    with db.sessions() as session:
        per_line = quality.first_pass_yield(session, world.brand_id, QualityFilters(**OCTOBER))
    by_line = dict(quality.yield_by_line(per_line))
    assert by_line == {"L1": Yield(2, 1), "L2": Yield(2, 0)}
    assert by_line["L1"].rate == 0.5


def test_an_earlier_inspection_captured_later_becomes_the_first(db, world):
    with db.sessions() as session:
        row = session.scalars(
            select(InspectionFirst).where(
                InspectionFirst.brand_id == world.brand_id,
                InspectionFirst.kind == "batch",
                InspectionFirst.subject_id == world.batches["B3"],
            )
        ).one()
    assert (row.passed, row.first_at.day) == (False, 6)


def test_a_checkpoint_event_with_qc_results_is_an_inspection_on_its_line(db, world):
    with db.sessions() as session:
        row = session.scalars(
            select(InspectionFirst).where(
                InspectionFirst.brand_id == world.brand_id,
                InspectionFirst.subject_id == world.batches["B4"],
            )
        ).one()
    assert (row.kind, row.line, row.passed) == ("batch", "L2", False)


def test_weeks_count_each_object_in_the_week_of_its_first_inspection(db, world):
    filters = QualityFilters(**OCTOBER, granularity="week")
    with db.sessions() as session:
        per_line = quality.first_pass_yield(session, world.brand_id, filters)
    weeks = dict(quality.yield_over_time(per_line))
    assert weeks[dt.date(2026, 10, 5)] == Yield(3, 1)
    assert weeks[dt.date(2026, 10, 12)] == Yield(1, 0)
    assert weeks[dt.date(2026, 9, 28)] == Yield(0, 0)  # 1 Oct's week, nothing inspected
    assert sum(weeks.values(), Yield()) == Yield(4, 1)


def test_line_and_product_filters(db, world):
    with db.sessions() as session:
        only_l2 = quality.first_pass_yield(
            session, world.brand_id, QualityFilters(**OCTOBER, line="L2")
        )
        other_product = quality.first_pass_yield(
            session, world.brand_id, QualityFilters(**OCTOBER, product_id=world.product_id + 999)
        )
    assert dict(quality.yield_by_line(only_l2)) == {"L2": Yield(2, 0)}
    assert other_product == {}


def test_a_range_before_the_first_inspections_counts_nothing(db, world):
    filters = QualityFilters(dt.date(2026, 10, 7), dt.date(2026, 10, 11))
    with db.sessions() as session:
        per_line = quality.first_pass_yield(session, world.brand_id, filters)
    # B3's pass of 7 Oct is not its first inspection: nothing was first inspected here
    assert sum((y for _, y in quality.yield_over_time(per_line)), Yield()) == Yield()


def test_incoming_lot_pass_rate_per_supplier(db, world):
    filters = QualityFilters(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    with db.sessions() as session:
        rates = quality.supplier_pass_rates(session, world.brand_id, filters)
    assert [(name, y) for _, name, y in rates] == [("North", Yield(2, 1)), ("South", Yield(1, 1))]


def test_defects_by_defect_name_else_test_name(db, world):
    with db.sessions() as session:
        october = quality.defect_types(session, world.brand_id, QualityFilters(**OCTOBER))
        september = quality.defect_types(
            session, world.brand_id, QualityFilters(dt.date(2026, 9, 1), dt.date(2026, 9, 30))
        )
    assert october == [("leak", 1), ("weight", 1)]
    assert september == [("acid", 1)]


def test_batches_on_hold_with_since_and_notice(db, world):
    with db.sessions() as session:
        held = quality.held_batches(session, world.brand_id)
    assert [(b.lot, b.status.value, b.notice) for b in held] == [
        ("B2", "on_hold", {"en": "Checking a seal."})
    ]
    assert held[0].since is not None and held[0].since.tzinfo is not None


@pytest.mark.parametrize(
    ("data", "disposition", "passed", "defects"),
    [
        ({}, "conformant", True, ()),
        ({}, "non_conformant", False, ()),
        (qc(("a", "pass", None)), "non_conformant", False, ()),
        (qc(("a", "fail", None), ("b", "fail", "scratch")), "conformant", False, ("a", "scratch")),
        ({"tm:qc": ["junk", {"test": "x"}, {"result": "fail"}]}, None, False, ("",)),
        ({"tm:qc": "not a list"}, None, True, ()),
    ],
)
def test_inspection_outcome(data, disposition, passed, defects):
    outcome = quality.inspection_outcome(data, disposition)
    assert (outcome.passed, outcome.defects) == (passed, defects)


def test_in_transit_is_shipped_and_not_received_by_event_time(db, world):
    with db.sessions() as session:
        transit = logistics.in_transit(session, world.brand_id, SupplyFilters(**OCTOBER), NOW)
    assert (transit.shipments, transit.objects) == (1, 1)
    assert transit.by_age == {"week": 0, "month": 1, "quarter": 0, "older": 0}
    (shipment,) = transit.oldest
    assert shipment.shipped_at == at(10, 20)
    assert shipment.origin.site_id == world.sites["Plant"]
    assert [d.location for d in shipment.destinations] == ["urn:epc:id:sgln:9506000.00002.0"]
    assert shipment.age_days(NOW) == 11  # 20 Oct 10:00 to 1 Nov 00:00


def test_stock_per_site_by_age(db, world):
    with db.sessions() as session:
        stock = logistics.stock(session, world.brand_id, SupplyFilters(**OCTOBER), NOW)
    assert [(s.place, s.by_age) for s in stock] == [
        (
            Place(world.sites["Warehouse"], ""),
            {"week": 1, "month": 1, "quarter": 1, "older": 0},
        )
    ]


def test_stock_filters_by_site_and_product(db, world):
    plant = SupplyFilters(**OCTOBER, site_id=world.sites["Plant"])
    product = SupplyFilters(**OCTOBER, product_id=world.product_id)
    with db.sessions() as session:
        assert logistics.stock(session, world.brand_id, plant, NOW) == []
        (only,) = logistics.stock(session, world.brand_id, product, NOW)
    assert only.by_age == {"week": 1, "month": 1, "quarter": 0, "older": 0}  # not lot M1


def test_sensor_excursions_by_site_over_time_and_batch(db, world):
    filters = SupplyFilters(**OCTOBER, granularity="week")
    with db.sessions() as session:
        by_site = logistics.excursions_by_site(session, world.brand_id, filters)
        weeks = dict(logistics.excursions_over_time(session, world.brand_id, filters))
        listed = logistics.excursions(session, world.brand_id, filters)
    assert by_site == [(Place(world.sites["Warehouse"], ""), 2)]
    assert weeks[dt.date(2026, 10, 12)] == 2 and sum(weeks.values()) == 2
    assert sorted((e.type, e.value, e.exception, e.lot) for e in listed) == [
        ("gs1:RelativeHumidity", None, "ALARM_CONDITION", "B1"),
        ("gs1:Temperature", 9.5, None, "B1"),
    ]


def test_a_brand_never_sees_another_brands_figures(db, world, other):
    filters = QualityFilters(**OCTOBER)
    with db.sessions() as session:
        by_line = dict(
            quality.yield_by_line(quality.first_pass_yield(session, world.brand_id, filters))
        )
        transit = logistics.in_transit(session, world.brand_id, SupplyFilters(**OCTOBER), NOW)
        excursions = logistics.excursions_by_site(session, world.brand_id, SupplyFilters(**OCTOBER))
        theirs = dict(
            quality.yield_by_line(quality.first_pass_yield(session, other.brand_id, filters))
        )
    assert by_line == {"L1": Yield(2, 1), "L2": Yield(2, 0)}
    assert transit.shipments == 1 and excursions[0][1] == 2
    assert theirs == by_line


def test_a_rollup_counts_each_event_once(db, world):
    with db.sessions.begin() as session:
        event(session, world, "inspecting", at(10, 20), objects=(("epc_quantity", "B2"),),
              data=qc(("seal", "fail", "leak")))  # fmt: skip
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    run = board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    with db.sessions() as session:
        defects = quality.defect_types(session, world.brand_id, QualityFilters(**OCTOBER))
        mark = session.get(RollupWatermark, board_rollup.NAME)
        per_line = quality.first_pass_yield(session, world.brand_id, QualityFilters(**OCTOBER))
    assert run.events == 0 and mark.last_event_id >= 1
    assert defects == [("leak", 2), ("weight", 1)]
    # B2's first inspection (a pass on 5 Oct) still decides
    assert dict(quality.yield_by_line(per_line))["L1"] == Yield(2, 1)


def test_events_too_young_wait_for_the_next_run(db, world):
    with db.sessions.begin() as session:
        event(session, world, "inspecting", at(10, 21), objects=(("epc_quantity", "B4"),),
              data=qc(("cap", "fail", "crooked")))  # fmt: skip
    board_rollup.roll_up(db.sessions, now=dt.datetime.now(dt.UTC))
    with db.sessions() as session:
        before = quality.defect_types(session, world.brand_id, QualityFilters(**OCTOBER))
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    with db.sessions() as session:
        after = quality.defect_types(session, world.brand_id, QualityFilters(**OCTOBER))
    assert ("crooked", 1) not in before and ("crooked", 1) in after


def test_an_inspection_recorded_for_a_batch_counts_for_it(db, world):
    from tracemark import catalog
    from tracemark.models import Brand
    from tracemark.trace import events as trace

    with db.sessions.begin() as session:
        brand = session.get(Brand, world.brand_id)
        product = catalog.get_product(session, brand, world.product_id)
        batch = catalog.create_batch(session, product, "R1", line="L3")
        trace.record_event(
            session, batch, "inspecting", at(10, 25), disposition="non_conformant",
            data=qc(("label", "fail", None)),
        )  # fmt: skip
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    filters = QualityFilters(dt.date(2026, 10, 25), dt.date(2026, 10, 25), line="L3")
    with db.sessions() as session:
        per_line = quality.first_pass_yield(session, world.brand_id, filters)
        defects = quality.defect_types(session, world.brand_id, filters)
    assert dict(quality.yield_by_line(per_line)) == {"L3": Yield(1, 0)}
    assert defects == [("label", 1)]
