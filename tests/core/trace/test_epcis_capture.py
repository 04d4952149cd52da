import copy

import pytest
from sqlalchemy import func, select

from tests.core.trace.trace_chain import build_chain, document, event, sgtin
from tracemark.epcis import documents as epcis
from tracemark.epcis.identifiers import canonical
from tracemark.models import Batch, SensorReading, TraceEvent, TraceEventObject
from tracemark.trace import capture
from tracemark.trace import events as trace


def _count(session, model, brand_id):
    return session.scalar(select(func.count()).select_from(model).where(model.brand_id == brand_id))


def test_unit_and_lot_identifiers_have_one_canonical_form():
    urn = canonical("urn:epc:id:sgtin:0614141.812345.6789")
    assert urn.uri == "https://id.gs1.org/01/80614141123458/21/6789"  # GS1's worked example
    link = canonical("HTTPS://TM.EXAMPLE.COM/01/80614141123458/10/L1/21/6789?S=1.k.sig")
    assert link.uri == urn.uri and link.lot == "L1"
    lot = canonical("urn:epc:class:lgtin:0614141.812345.L%2F1")
    assert lot.is_class and lot.uri == "https://id.gs1.org/01/80614141123458/10/L%2F1"
    assert canonical("https://id.gs1.org/01/80614141123458/10/L%2F1").uri == lot.uri
    # canonical (for readers and searches) keeps a wrong check digit as given; capture
    # refuses it (tests/core/epcis/test_identifiers.py)
    assert canonical("https://x.example/01/80614141123459/10/L1").uri.startswith("https://x.")
    assert canonical("urn:epc:id:sscc:0614141.1234567890").gtin is None
    assert canonical("urn:epc:id:sscc:0614141.1234567890").scheme == "sscc"


def test_captured_chain_exports_as_a_valid_document_ordered_by_event_time(db, demo):
    chain = build_chain(db.sessions, demo)
    with db.sessions.begin() as session:
        exported = trace.export_batch(session, session.get_one(Batch, chain.batch_a))
        records = epcis.validate_document(exported)  # what we export, we accept
        assert [r.event_id for r in records] == [
            "urn:uuid:t1",
            "urn:uuid:qc-a",
            "urn:uuid:pack-a",
            "urn:uuid:ship-case",  # the case holding its units
        ]
        packed = exported["epcisBody"]["eventList"][2]
        # every GS1 key in its canonical Digital Link (the SSCC was sent as a URN)
        assert packed["parentID"] == "https://id.gs1.org/00/106141412345678908"
        assert packed["childEPCs"] == [canonical(sgtin(s)).uri for s in chain.units_a]
        t1 = exported["epcisBody"]["eventList"][0]
        assert t1["eventTime"] == "2026-10-01T10:00:00.000+02:00"
        assert t1["tm:operator"] == "Ana" and t1["readPoint"] == {"id": canonical(chain_mill()).uri}
        # units were resolved to the brand's units and their batch
        objects = session.execute(
            select(TraceEventObject.unit_id, TraceEventObject.batch_id).where(
                TraceEventObject.brand_id == chain.brand_id, TraceEventObject.role == "child"
            )
        ).all()
        assert len(objects) == 4 and all(u and b == chain.batch_a for u, b in objects)
        # the brand re-sending its own export changes nothing
        before = _count(session, TraceEvent, chain.brand_id)
        result = capture.capture_document(session, demo.brand, exported)
        assert result.captured == [] and len(result.duplicates) == 4
        assert _count(session, TraceEvent, chain.brand_id) == before


def chain_mill():
    from tests.core.trace.trace_chain import MILL

    return MILL


def _object_event(event_id, when, **fields):
    return event(
        "ObjectEvent",
        event_id,
        when,
        action="OBSERVE",
        bizStep="shipping",
        quantityList=[{"epcClass": "urn:epc:class:lgtin:9506000.013435.L2401A"}],
        **fields,
    )


def test_events_arriving_out_of_order_are_read_in_event_time_order(db, demo):
    late = _object_event("urn:uuid:late", "2026-10-05T12:00:00+02:00")
    early = _object_event(
        "urn:uuid:early", "2026-10-05T08:00:00-05:00", eventTimeZoneOffset="-05:00"
    )  # 13:00 UTC
    earliest = _object_event("urn:uuid:first", "2026-10-01T00:00:00Z")
    with db.sessions.begin() as session:
        capture.capture_document(session, demo.brand, document([late, early]))
        capture.capture_event(session, demo.brand, earliest)
        batch = session.get_one(Batch, demo.batch.id)
        ids = [e.event_id for e in trace.events_of_batch(session, batch)]
        assert ids == ["urn:uuid:first", "urn:uuid:late", "urn:uuid:early"]
        exported = trace.export_batch(session, batch)["epcisBody"]["eventList"]
        assert exported[2]["eventTime"] == "2026-10-05T08:00:00.000-05:00"


def test_recapture_is_idempotent_by_event_id_and_by_content_without_one(db, demo):
    anonymous = _object_event("urn:uuid:x", "2026-10-05T12:00:00Z")
    del anonymous["eventID"]
    events = [_object_event("urn:uuid:a", "2026-10-05T12:00:00Z"), anonymous]
    with db.sessions.begin() as session:
        first = capture.capture_events(session, demo.brand, events)
        assert len(first.captured) == 2 and first.duplicates == []
        assert first.captured[1].startswith("urn:tracemark:event-sha256:")
        again = capture.capture_events(session, demo.brand, copy.deepcopy(events))
        assert again.captured == [] and again.duplicates == first.captured
        assert _count(session, TraceEvent, demo.brand.id) == 2


def _valid():
    sensor = {
        "sensorReport": [{"type": "gs1:Temperature", "value": 4.0, "uom": "CEL"}],
    }
    return document(
        [
            _object_event("urn:uuid:ok-1", "2026-10-05T12:00:00Z"),
            _object_event("urn:uuid:ok-2", "2026-10-05T13:00:00Z", sensorElementList=[sensor]),
        ]
    )


def _set(path, value):
    def change(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


_DELETE = object()
_EVENTS = ("epcisBody", "eventList")


@pytest.mark.parametrize(
    ("change", "code", "path"),
    [
        (_set(("type",), "EPCISQueryDocument"), "schema_violation", "$.type"),
        (
            _set((*_EVENTS, 1, "eventTime"), _DELETE),
            "schema_violation",
            "$.epcisBody.eventList[1].eventTime",
        ),
        (
            _set((*_EVENTS, 1, "eventTime"), "2026-13-05T12:00:00Z"),
            "bad_time",
            "$.epcisBody.eventList[1].eventTime",
        ),
        (
            _set((*_EVENTS, 0, "action"), "UPDATE"),
            "schema_violation",
            "$.epcisBody.eventList[0].action",
        ),
        (
            _set((*_EVENTS, 1, "bizstep"), "shipping"),
            "schema_violation",
            '$.epcisBody.eventList[1]["bizstep"]',
        ),
        (
            _set((*_EVENTS, 1, "quantityList", 0, "quantity"), -1),
            "schema_violation",
            "$.epcisBody.eventList[1].quantityList[0].quantity",
        ),
        (
            _set((*_EVENTS, 1, "sensorElementList", 0, "sensorReport", 0, "value"), "cold"),
            "schema_violation",
            "$.epcisBody.eventList[1].sensorElementList[0].sensorReport[0].value",
        ),
        (
            _set((*_EVENTS, 1, "eventID"), "urn:uuid:ok-1"),
            "duplicate_event_id",
            "$.epcisBody.eventList[1].eventID",
        ),
        (
            _set((*_EVENTS, 0, "type"), "FooEvent"),
            "schema_violation",
            "$.epcisBody.eventList[0].type",
        ),
    ],
)
def test_invalid_document_is_rejected_with_the_failing_path_and_nothing_stored(
    db, demo, change, code, path
):
    doc = _valid()
    change(doc)
    with db.sessions.begin() as session:
        with pytest.raises(epcis.EpcisError) as raised:
            capture.capture_document(session, demo.brand, doc)
        assert (raised.value.code, raised.value.path) == (code, path)
        assert _count(session, TraceEvent, demo.brand.id) == 0
        assert _count(session, SensorReading, demo.brand.id) == 0


def test_a_failure_while_storing_leaves_no_event_of_the_document(db, demo, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    with db.sessions.begin() as session:
        capture.capture_document(
            session, demo.brand, document([_object_event("urn:uuid:0", "2026-10-01T00:00:00Z")])
        )
        monkeypatch.setattr(capture, "_children", broken)
        with pytest.raises(RuntimeError):
            capture.capture_document(session, demo.brand, _valid())
        assert _count(session, TraceEvent, demo.brand.id) == 1  # the earlier capture only


@pytest.mark.parametrize("garbage", [None, [], "doc", {"type": "EPCISDocument"}, {"@context": 1}])
def test_garbage_is_a_schema_violation_not_a_crash(garbage):
    with pytest.raises(epcis.EpcisError) as raised:
        epcis.validate_document(garbage)
    assert raised.value.code == "schema_violation"


def test_a_document_naming_too_many_identifiers_is_refused_before_storing(db, demo, monkeypatch):
    monkeypatch.setattr(epcis, "MAX_OBJECTS", 3)
    units = [f"urn:epc:id:sgtin:9506000.013435.S{i}" for i in range(2)]
    events = [
        event(
            "ObjectEvent",
            f"urn:uuid:big-{i}",
            "2026-10-01T00:00:00Z",
            action="OBSERVE",
            epcList=units,
        )
        for i in range(2)
    ]
    with db.sessions.begin() as session:
        with pytest.raises(epcis.EpcisError) as raised:
            capture.capture_events(session, demo.brand, events)
        assert (raised.value.code, raised.value.path) == ("too_large", "$[1]")
        assert _count(session, TraceEvent, demo.brand.id) == 0


def test_a_failed_qc_test_may_name_its_defect_and_keeps_it(db, demo):
    qc = [
        {"test": "seal", "result": "fail", "defect": "leaking cap"},
        {"test": "weight", "result": "pass", "value": 1.01, "uom": "KGM"},
    ]
    inspected = _object_event(
        "urn:uuid:qc-defect", "2026-10-06T09:00:00Z", disposition="non_conformant", **{"tm:qc": qc}
    )
    inspected["bizStep"] = "inspecting"
    with db.sessions.begin() as session:
        capture.capture_event(session, demo.brand, inspected)
        stored = session.scalars(
            select(TraceEvent).where(
                TraceEvent.brand_id == demo.brand.id, TraceEvent.event_id == "urn:uuid:qc-defect"
            )
        ).one()
        assert stored.data["tm:qc"][0]["defect"] == "leaking cap"
    unknown = copy.deepcopy(inspected)
    unknown["tm:qc"][0]["cause"] = "x"
    with pytest.raises(epcis.EpcisError):
        epcis.validate_event(unknown)
