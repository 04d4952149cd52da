"""Error declarations and corrective events (EPCIS 2.0 §7.4.1.2), and eventIDs reused
with other content."""

import copy
import datetime as dt

import pytest
from sqlalchemy import select

from tests.core.trace.trace_chain import OIL_URN, build_chain, chain_events, document
from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.models import Batch, GenealogyEdge, SensorExcursion, TraceEvent
from tracemark.reporting import board_rollup
from tracemark.trace import capture, recall
from tracemark.trace import events as trace
from tracemark.trace.event_query import EventQuery, query_events

DECLARATION = {
    "declarationTime": "2026-10-05T08:00:00+02:00",
    "reason": "incorrect_data",
    "correctiveEventIDs": ["urn:uuid:t1-fixed"],
}


def _t1(chain):
    return next(e for e in chain_events(chain) if e["eventID"] == "urn:uuid:t1")


def _ids(events):
    return [e.event_id for e in events]


def test_a_declared_event_stays_queryable_and_stops_counting_in_traces_and_journey(db, demo):
    chain = build_chain(db.sessions, demo)
    declared = _t1(chain) | {"errorDeclaration": DECLARATION}
    corrective = copy.deepcopy(_t1(chain)) | {"eventID": "urn:uuid:t1-fixed"}
    # the corrective event makes batch L2401A from oil alone: the glass was wrong
    corrective["inputQuantityList"] = corrective["inputQuantityList"][:1]
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        result = capture.capture_document(session, brand, document([declared, corrective]))
        assert result.declared == ["urn:uuid:t1"] and result.captured == ["urn:uuid:t1-fixed"]
        # both are returned by a query, the first with its declaration
        found, _ = query_events(session, brand, EventQuery(event_type="TransformationEvent"))
        assert _ids(found) == ["urn:uuid:t1", "urn:uuid:t1-fixed", "urn:uuid:t2"]
        out = trace.serialize(session, found)
        assert out[0]["errorDeclaration"] == DECLARATION and "errorDeclaration" not in out[1]
        # the declared event's edges are gone; the corrective event's stand
        edges = session.execute(
            select(TraceEvent.event_id, GenealogyEdge.input_epc)
            .join(TraceEvent, TraceEvent.id == GenealogyEdge.event_id)
            .where(GenealogyEdge.brand_id == chain.brand_id)
        ).all()
        assert sorted(event_id for event_id, _ in edges) == ["urn:uuid:t1-fixed", "urn:uuid:t2"]
        glass_impact = recall.recall_impact(session, brand, "https://glass.example/lots/G-77")
        assert glass_impact.batches == []  # the glass went into no batch after all
        oil_impact = recall.recall_impact(session, brand, OIL_URN)
        assert sorted(b.batch.lot for b in oil_impact.batches) == ["L2401A", "L2402B"]
        journey = trace.events_of_batch(session, session.get_one(Batch, chain.batch_a))
        assert "urn:uuid:t1" not in _ids(journey) and "urn:uuid:t1-fixed" in _ids(journey)
        # declaring it again changes nothing
        again = capture.capture_event(session, brand, copy.deepcopy(declared))
        assert again.declared == [] and again.duplicates == ["urn:uuid:t1"]


def test_an_event_declared_in_error_before_we_held_it_is_kept_but_counts_nowhere(db, demo):
    declared = {
        "type": "TransformationEvent",
        "eventID": "urn:uuid:never-true",
        "eventTime": "2026-10-01T10:00:00+02:00",
        "eventTimeZoneOffset": "+02:00",
        "inputQuantityList": [{"epcClass": OIL_URN, "quantity": 1}],
        "outputQuantityList": [{"epcClass": epcs.lot_class("09506000134352", "L1")}],
        "errorDeclaration": {"declarationTime": "2026-10-02T00:00:00Z"},
    }
    with db.sessions.begin() as session:
        result = capture.capture_event(session, demo.brand, declared)
        assert result.captured == ["urn:uuid:never-true"]
        stored = session.scalars(
            select(TraceEvent).where(TraceEvent.brand_id == demo.brand.id)
        ).one()
        assert stored.error_declared_at is not None
        edges = session.scalars(
            select(GenealogyEdge).where(GenealogyEdge.brand_id == demo.brand.id)
        ).all()
        assert edges == []


def test_an_event_id_reused_with_other_content_is_a_conflict_and_stores_nothing(db, demo):
    chain = build_chain(db.sessions, demo)
    changed = _t1(chain) | {"bizStep": "repairing"}
    fresh = {**_t1(chain), "eventID": "urn:uuid:other"}
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        with pytest.raises(epcis.EpcisError) as raised:
            capture.capture_document(session, brand, document([fresh, changed]))
        assert raised.value.code == "event_id_conflict"
        assert raised.value.path == "$.epcisBody.eventList[1].eventID"
        held = session.scalars(
            select(TraceEvent.event_id).where(TraceEvent.event_id == "urn:uuid:other")
        ).all()
        assert held == []
        # the very same event again (a resend, recordTime aside) is held, not a conflict
        resend = _t1(chain) | {"recordTime": "2026-10-09T00:00:00Z"}
        assert capture.capture_event(session, brand, resend).duplicates == ["urn:uuid:t1"]


def test_a_declared_sensor_alarm_leaves_the_supply_chain_board(db, demo):
    chain = build_chain(db.sessions, demo)
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))

    def excursions():
        with db.sessions() as session:
            return session.scalars(
                select(SensorExcursion.type).where(SensorExcursion.brand_id == chain.brand_id)
            ).all()

    assert excursions() == ["gs1:Temperature"]
    received = next(e for e in chain_events(chain) if e["eventID"] == "urn:uuid:recv-oil")
    with db.sessions.begin() as session:
        declared = received | {"errorDeclaration": {"declarationTime": "2026-09-02T00:00:00Z"}}
        capture.capture_event(session, session.merge(demo.brand), declared)
    assert excursions() == []
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))
    assert excursions() == []


def test_a_declared_shipment_takes_back_the_places_it_gave(db, demo):
    """The case of lot L2401A was in transit after its shipping event; declared in
    error, that event placed nothing: the case leaves the board (no other event places
    it), lot L2402B's shipment stays, and a later roll-up counts nothing back."""
    from tracemark.models import ObjectPlace

    chain = build_chain(db.sessions, demo)
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))

    def in_transit():
        with db.sessions() as session:
            return set(
                session.scalars(
                    select(ObjectPlace.epc).where(
                        ObjectPlace.brand_id == chain.brand_id, ObjectPlace.state == "transit"
                    )
                )
            )

    lot_b = {epc for epc in in_transit() if "L2402B" in epc}
    assert len(lot_b) == 1 and len(in_transit()) == 2  # the case and lot L2402B
    shipped = next(e for e in chain_events(chain) if e["eventID"] == "urn:uuid:ship-case")
    with db.sessions.begin() as session:
        declared = shipped | {"errorDeclaration": {"declarationTime": "2026-10-05T00:00:00Z"}}
        capture.capture_event(session, session.merge(demo.brand), declared)
    assert in_transit() == lot_b
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))
    assert in_transit() == lot_b


def test_a_declared_inspection_leaves_the_quality_board_and_the_next_one_is_first(db, demo):
    from tracemark.models import DefectDay, InspectionFirst

    chain = build_chain(db.sessions, demo)
    qc = next(e for e in chain_events(chain) if e["eventID"] == "urn:uuid:qc-a")
    again = copy.deepcopy(qc) | {
        "eventID": "urn:uuid:qc-a-again",
        "eventTime": "2026-10-02T11:00:00+02:00",
        "disposition": "conformant",
        "tm:qc": [{"test": "peroxide", "result": "pass", "value": 12, "uom": "meq/kg"}],
    }
    with db.sessions.begin() as session:
        capture.capture_event(session, session.merge(demo.brand), again)
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))

    def board():
        with db.sessions() as session:
            firsts = session.execute(
                select(TraceEvent.event_id, InspectionFirst.passed)
                .join(TraceEvent, TraceEvent.id == InspectionFirst.event_id)
                .where(InspectionFirst.brand_id == chain.brand_id)
            ).all()
            failures = session.scalars(
                select(DefectDay.failures).where(DefectDay.brand_id == chain.brand_id)
            ).all()
        return sorted(firsts), sum(failures)

    assert board() == ([("urn:uuid:qc-a", False)], 1)
    with db.sessions.begin() as session:
        declared = qc | {"errorDeclaration": {"declarationTime": "2026-10-03T00:00:00Z"}}
        result = capture.capture_event(session, session.merge(demo.brand), declared)
        assert result.declared == ["urn:uuid:qc-a"]
    assert board() == ([("urn:uuid:qc-a-again", True)], 0)
    board_rollup.roll_up(db.sessions, settle=dt.timedelta(0))  # nothing counted twice
    assert board() == ([("urn:uuid:qc-a-again", True)], 0)
