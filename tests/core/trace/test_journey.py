"""The portal's journey of a batch: every supply-chain event about it, once each, in event
time order, with places and sensor excursions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event as sa_event

from tests.core.trace.trace_chain import ALARM, CASE, build_chain, document, event, sgtin
from tracemark.content import provenance
from tracemark.epcis import identifiers as epc
from tracemark.models import Batch
from tracemark.scanning import batch_view
from tracemark.scanning.batch_view import BatchViewCache
from tracemark.trace import capture
from tracemark.trace import events as trace

A_CLASS = epc.lot_class("09506000134352", "L2401A")


def _journey(db, batch_id: int):
    with db.sessions() as session:
        return batch_view.batch_journey(session, session.get_one(Batch, batch_id))


def test_the_journey_holds_every_event_about_the_batch_once_in_time_order(db, demo):
    chain = build_chain(db.sessions, demo)
    unit = sgtin(chain.units_a[1])
    late = [
        # captured last, happened first: shown first
        event("ObjectEvent", "urn:uuid:early", "2026-09-30T08:00:00+02:00", action="OBSERVE",
              bizStep="arriving", quantityList=[{"epcClass": A_CLASS}],
              bizLocation={"id": "https://example.com/depots/valencia"}),
        # names the class and a unit at once: one step, not two
        event("ObjectEvent", "urn:uuid:both", "2026-10-05T08:00:00+02:00", action="OBSERVE",
              bizStep="receiving", epcList=[unit], quantityList=[{"epcClass": A_CLASS}]),
        # a unit only, at a location that is no site of the brand: no unreadable URN shown
        event("ObjectEvent", "urn:uuid:unit", "2026-10-06T08:00:00+02:00", action="OBSERVE",
              bizStep="retail_selling", epcList=[unit],
              bizLocation={"id": "urn:epc:id:sgln:0614141.00009.0"}),
    ]  # fmt: skip
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(demo.brand), document(late))
    steps, excursions = _journey(db, chain.batch_a)
    assert [s.biz_step for s in steps] == [
        "arriving",  # 09-30
        "commissioning",  # 10-01, the transformation that made the batch
        "inspecting",
        "packing",  # its units into a case
        "shipping",  # the case
        "receiving",
        "retail_selling",
    ]
    assert [s.when for s in steps] == sorted(s.when for s in steps)
    assert steps[-1].place is None
    assert steps[0].place == "https://example.com/depots/valencia"
    assert (steps[1].place, steps[1].country) == ("Mill", "ES")  # the read point's site
    assert excursions == []  # the oil lot's alarm is the supplier's, not this batch's
    # the other batch: its own events only
    steps_b, _ = _journey(db, chain.batch_b)
    assert [s.biz_step for s in steps_b] == ["commissioning", "shipping"]


def test_sensor_excursions_show_with_value_limit_unit_and_place(db, demo):
    chain = build_chain(db.sessions, demo)
    cold = [
        event("ObjectEvent", "urn:uuid:truck", "2026-10-04T12:00:00+02:00", action="OBSERVE",
              bizStep="shipping", quantityList=[{"epcClass": A_CLASS}],
              readPoint={"id": "urn:epc:id:sgln:9506000.00000.0"},
              sensorElementList=[{"sensorReport": [
                  ALARM | {"tm:limit": 25},
                  {"type": "gs1:RelativeHumidity", "value": 50, "uom": "A93"},
                  {"type": "gs1:Illuminance", "value": 900, "uom": "LUX",
                   "exception": "ERROR_CONDITION"},
              ]}]),
    ]  # fmt: skip
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(demo.brand), document(cold))
    _steps, excursions = _journey(db, chain.batch_a)
    assert [(x.type, x.value, x.uom, x.limit) for x in excursions] == [
        ("gs1:Temperature", 31.5, "CEL", 25.0),
        ("gs1:Illuminance", 900, "LUX", None),
    ]
    assert {(x.place, x.country) for x in excursions} == {("Mill", "ES")}
    assert excursions[0].when == dt.datetime(2026, 10, 4, 10, tzinfo=dt.UTC)


def test_a_batch_without_events_costs_one_query_and_the_journey_is_cached(db, demo):
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    with db.sessions() as session:
        batch = session.get_one(Batch, demo.batch.id)
        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert batch_view.batch_journey(session, batch) == ([], [])
            assert len(statements) == 1
            cache = BatchViewCache(ttl=60)
            cache.get(session, batch.id, {}, "en")
            before = len(statements)
            cache.get(session, batch.id, {}, "en")
            assert len(statements) == before  # a scan of a cached batch reads nothing
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)


def test_the_journey_is_bounded(db, demo, monkeypatch):
    monkeypatch.setattr(batch_view, "MAX_JOURNEY", 3)
    with db.sessions.begin() as session:
        batch = session.get_one(Batch, demo.batch.id)
        start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
        for hours in (5, 1, 4, 2, 3):
            trace.record_event(session, batch, "storing", start + dt.timedelta(hours=hours))
    steps, _ = _journey(db, demo.batch.id)
    assert [s.when.hour for s in steps] == [1, 2, 3]


def test_the_journey_reads_a_bounded_sample_of_events_naming_single_units(db, demo, monkeypatch):
    chain = build_chain(db.sessions, demo)
    singles = [
        event("ObjectEvent", f"urn:uuid:single-{i}", f"2026-10-0{5 + i}T08:00:00+02:00",
              action="OBSERVE", bizStep="retail_selling", epcList=[sgtin(serial)])
        for i, serial in enumerate(chain.units_a[:3])
    ]  # fmt: skip
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(demo.brand), document(singles))
    steps, _ = _journey(db, chain.batch_a)
    assert [s.biz_step for s in steps].count("retail_selling") == 3
    # the packing event names all four units: with room for one row, one unit-level event
    monkeypatch.setattr(trace, "MAX_UNIT_ROWS", 1)
    steps, _ = _journey(db, chain.batch_a)
    unit_level = [s.biz_step for s in steps if s.biz_step in ("retail_selling", "packing")]
    assert len(unit_level) == 1
    # the batch's own and class-level events are all there
    assert {"commissioning", "inspecting"} <= {s.biz_step for s in steps}
    with db.sessions() as session:  # an export reads everything
        events = trace.events_of_batch(session, session.get_one(Batch, chain.batch_a))
        assert [e.biz_step for e in events].count("retail_selling") == 3


def test_the_journey_follows_the_case_onto_its_pallet(db, demo):
    chain = build_chain(db.sessions, demo)
    pallet = "urn:epc:id:sscc:0614141.2222222222"
    later = [
        event("AggregationEvent", "urn:uuid:palletise", "2026-10-05T08:00:00+02:00",
              action="ADD", bizStep="loading", parentID=pallet, childEPCs=[CASE]),
        event("ObjectEvent", "urn:uuid:pallet-out", "2026-10-06T08:00:00+02:00",
              action="OBSERVE", bizStep="departing", epcList=[pallet]),
        # another pallet, never holding this batch's case: not in its journey
        event("ObjectEvent", "urn:uuid:other-pallet", "2026-10-06T09:00:00+02:00",
              action="OBSERVE", bizStep="arriving",
              epcList=["urn:epc:id:sscc:0614141.3333333333"]),
    ]  # fmt: skip
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(demo.brand), document(later))
    steps, _ = _journey(db, chain.batch_a)
    assert [s.biz_step for s in steps][-3:] == ["shipping", "loading", "departing"]
    steps_b, _ = _journey(db, chain.batch_b)
    assert "loading" not in [s.biz_step for s in steps_b]


def test_the_regulators_journey_holds_the_same_events_as_the_portals(db, demo):
    """Provenance views and signed statements read events by class, unit and case too,
    not only those recorded for the batch as a whole."""
    chain = build_chain(db.sessions, demo)
    with db.sessions() as session:
        batch = session.get_one(Batch, chain.batch_a)
        portal, _ = batch_view.batch_journey(session, batch)
        regulator = provenance.batch_provenance(session, batch).journey
    assert [s.biz_step for s in regulator] == [s.biz_step for s in portal]
    assert "packing" in [s.biz_step for s in regulator]  # the units' case, not the batch
    assert [s.time for s in regulator] == [s.when for s in portal]
    assert (regulator[0].place, regulator[0].country) == (portal[0].place, portal[0].country)
