"""Every event shape GS1's example folders show, in documents written here: each is
captured and read back, or refused for a reason the standard gives, at the failing field."""

import copy

import pytest
from sqlalchemy import select

from tests.helpers.epcis import epcis_document as _doc
from tracemark.epcis import documents as epcis
from tracemark.epcis.schema import EPCIS_CONTEXTS
from tracemark.models import SensorReading, TraceEvent
from tracemark.trace import capture
from tracemark.trace import events as trace

GRAI = "urn:epc:id:grai:4012345.55555.987"
GIAI = "urn:epc:id:giai:4000001.12345"
SSCC = "urn:epc:id:sscc:4012345.0000000001"
SGLN = "urn:epc:id:sgln:4012345.00001.0"
SGTIN = "urn:epc:id:sgtin:4012345.011111.987"
LGTIN = "urn:epc:class:lgtin:4012345.022222.B-7"
PO = {"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.00001.1618"}
READINGS = [
    {
        "sensorMetadata": {"time": "2026-03-02T14:05:00.000+01:00", "deviceID": GIAI},
        "sensorReport": [
            {"type": "Temperature", "value": 26.0, "uom": "CEL"},
            {"type": "AbsoluteHumidity", "value": 12.1, "uom": "A93"},
        ],
    }
]


def _event(kind, event_id, **fields):
    base = {
        "type": kind,
        "eventID": f"urn:uuid:{event_id}",
        "eventTime": "2026-03-02T15:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
    }
    return base | fields


#: One event of each shape the standard's examples show.
VALID = {
    "object with an EPC list": _event(
        "ObjectEvent", "o1", action="OBSERVE", bizStep="shipping", epcList=[SGTIN]
    ),
    "object with quantities and ILMD": _event(
        "ObjectEvent",
        "o2",
        action="ADD",
        bizStep="commissioning",
        quantityList=[{"epcClass": LGTIN, "quantity": 200.5, "uom": "KGM"}],
        ilmd={"cbvmda:bestBeforeDate": "2027-01-01"},
    ),
    "object with sensor data and a read point, no objects": _event(
        "ObjectEvent",
        "o3",
        action="OBSERVE",
        bizStep="inspecting",
        readPoint={"id": SGLN},
        sensorElementList=READINGS,
    ),
    "object with persistent disposition and certification": _event(
        "ObjectEvent",
        "o4",
        action="OBSERVE",
        epcList=[SGTIN],
        persistentDisposition={"set": ["completeness_verified"]},
        certificationInfo="https://cert.example/1",
    ),
    "aggregation ADD": _event(
        "AggregationEvent", "a1", action="ADD", bizStep="packing", parentID=SSCC, childEPCs=[SGTIN]
    ),
    "aggregation DELETE": _event(
        "AggregationEvent", "a2", action="DELETE", bizStep="unpacking", parentID=SSCC
    ),
    "aggregation OBSERVE without a parent": _event(
        "AggregationEvent", "a3", action="OBSERVE", childQuantityList=[{"epcClass": LGTIN}]
    ),
    "association ADD": _event(
        "AssociationEvent",
        "s1",
        action="ADD",
        bizStep="assembling",
        parentID=GRAI,
        childEPCs=[GIAI],
        childQuantityList=[{"epcClass": LGTIN, "quantity": 10}],
    ),
    "association DELETE without children": _event(
        "AssociationEvent", "s2", action="DELETE", bizStep="disassembling", parentID=GRAI
    ),
    "association with sensor data": _event(
        "AssociationEvent",
        "s3",
        action="OBSERVE",
        parentID=GRAI,
        childEPCs=[GIAI],
        sensorElementList=READINGS,
    ),
    "transaction ADD": _event(
        "TransactionEvent",
        "t1",
        action="ADD",
        bizStep="shipping",
        bizTransactionList=[PO],
        epcList=[SGTIN],
        readPoint={"id": SGLN},
    ),
    "transaction with a parent and quantities": _event(
        "TransactionEvent",
        "t2",
        action="DELETE",
        bizTransactionList=[{"bizTransaction": "https://erp.example/po/77"}],
        parentID=SSCC,
        quantityList=[{"epcClass": LGTIN, "quantity": 3}],
    ),
    "transformation with inputs and outputs": _event(
        "TransformationEvent",
        "x1",
        bizStep="commissioning",
        inputQuantityList=[{"epcClass": LGTIN, "quantity": 500, "uom": "KGM"}],
        outputEPCList=[SGTIN],
    ),
    "transformation with inputs only and a transformationID": _event(
        "TransformationEvent",
        "x2",
        transformationID="urn:uuid:batch-run-1",
        inputQuantityList=[{"epcClass": LGTIN, "quantity": 5}],
    ),
    "transformation with outputs only": _event(
        "TransformationEvent",
        "x3",
        transformationID="urn:uuid:batch-run-1",
        outputQuantityList=[{"epcClass": "urn:epc:idpat:sgtin:4012345.044444.*"}],
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_every_standard_shape_is_captured_and_read_back(db, demo, name):
    sent = VALID[name]
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, _doc([copy.deepcopy(sent)]))
        assert result.captured == [sent["eventID"]]
        stored = session.scalars(
            select(TraceEvent).where(TraceEvent.brand_id == demo.brand.id)
        ).one()
        (back,) = trace.serialize(session, [stored], "Never_Translates")
    assert back["type"] == sent["type"] and back.get("action") == sent.get("action")
    for key in ("parentID", "transformationID", "bizTransactionList", "readPoint", "ilmd"):
        assert back.get(key) == sent.get(key)
    for key in ("epcList", "childEPCs", "outputEPCList", "quantityList", "inputQuantityList"):
        assert len(back.get(key, ())) == len(sent.get(key, ()))
    assert back["eventTime"] == sent["eventTime"]


def test_sensor_data_without_objects_keeps_its_readings(db, demo):
    event = VALID["object with sensor data and a read point, no objects"]
    with db.sessions.begin() as session:
        capture.capture_event(session, demo.brand, copy.deepcopy(event))
        readings = session.scalars(
            select(SensorReading).where(SensorReading.brand_id == demo.brand.id)
        ).all()
        assert sorted(r.type for r in readings) == ["AbsoluteHumidity", "Temperature"]


@pytest.mark.parametrize("context", EPCIS_CONTEXTS)
def test_every_gs1_context_is_accepted_alone_or_in_a_list(context):
    events = [copy.deepcopy(VALID["transaction ADD"])]
    assert len(epcis.validate_document(_doc(events, context))) == 1
    alone = _doc(copy.deepcopy(events)) | {"@context": context}
    assert len(epcis.validate_document(alone)) == 1


def test_an_unknown_context_is_refused_naming_the_accepted_ones():
    doc = _doc([copy.deepcopy(VALID["object with an EPC list"])], "https://example.com/ctx.jsonld")
    with pytest.raises(epcis.EpcisError) as raised:
        epcis.validate_document(doc)
    assert (raised.value.code, raised.value.path) == ("unsupported_context", "$['@context']")
    assert all(context in raised.value.detail for context in EPCIS_CONTEXTS)


def _without(name, *keys, **changes):
    event = copy.deepcopy(VALID[name])
    for key in keys:
        del event[key]
    return event | changes


@pytest.mark.parametrize(
    ("event", "code", "path", "words"),
    [
        (
            _without("aggregation ADD", "parentID"),
            "rule_violation",
            "parentID",
            "action ADD names the parentID",
        ),
        (
            _without("aggregation DELETE", "parentID"),
            "rule_violation",
            "parentID",
            "action DELETE",
        ),
        (
            _without("association ADD", "parentID", action="OBSERVE"),
            "rule_violation",
            "parentID",
            "AssociationEvent names its parentID",
        ),
        (
            _without("transaction ADD", "bizTransactionList"),
            "schema_violation",
            "bizTransactionList",
            "is required",
        ),
        (
            _without("transaction ADD", bizTransactionList=[]),
            "schema_violation",
            "bizTransactionList",
            "at least 1 item",
        ),
        (
            _without("transformation with inputs only and a transformationID", "inputQuantityList"),
            "rule_violation",
            "inputEPCList",
            "at least one input or output",
        ),
        (
            _without("object with an EPC list", "action"),
            "schema_violation",
            "action",
            "is required",
        ),
        (
            _without("object with an EPC list", epcList=["not a uri"]),
            "schema_violation",
            "epcList[0]",
            "must be a URI",
        ),
        (
            _without(
                "transaction ADD",
                sourceList={"type": "location", "source": SGLN},  # a list, in the standard
            ),
            "schema_violation",
            "sourceList",
            "must be of type array",
        ),
        (
            _without("object with an EPC list", errorDeclaration={"reason": "incorrect_data"}),
            "schema_violation",
            "errorDeclaration.declarationTime",
            "is required",
        ),
        (
            _without(
                "object with an EPC list",
                "eventID",
                errorDeclaration={"declarationTime": "2026-03-04T00:00:00Z"},
            ),
            "rule_violation",
            "eventID",
            "eventID of the event it declares",
        ),
        (
            _without("object with quantities and ILMD", action="OBSERVE"),
            "rule_violation",
            "ilmd",
            "action OBSERVE has no ilmd",
        ),
        (
            _without("object with an EPC list", epcList=[]),
            "rule_violation",
            "epcList",
            "an ObjectEvent names its objects",
        ),
        (
            _without("object with sensor data and a read point, no objects", "readPoint"),
            "rule_violation",
            "epcList",
            "sensor data (sensorElementList) at a readPoint",
        ),
        (
            _without("aggregation ADD", "childEPCs"),
            "rule_violation",
            "childEPCs",
            "names its children (childEPCs or childQuantityList) unless its action is DELETE",
        ),
        (
            _without("association ADD", "childEPCs", "childQuantityList"),
            "rule_violation",
            "childEPCs",
            "names its children",
        ),
        (
            _without("transaction ADD", "epcList"),
            "rule_violation",
            "epcList",
            "a TransactionEvent names its objects (epcList or quantityList) unless",
        ),
        (
            _without(
                "transaction ADD",
                sourceList=[{"type": "location", "source": SGLN, "example:note": "dock 4"}],
            ),
            "schema_violation",
            'sourceList[0]["example:note"]',
            "this member takes only source, type",
        ),
        (
            _without(
                "object with sensor data and a read point, no objects",
                sensorElementList=[
                    {"sensorReport": [{"type": "Temperature", "hexBinaryValue": "0xZZ"}]}
                ],
            ),
            "schema_violation",
            "sensorElementList[0].sensorReport[0].hexBinaryValue",
            "hexadecimal digits",
        ),
    ],
)
def test_a_shape_the_standard_refuses_names_the_field_and_the_reason(event, code, path, words):
    with pytest.raises(epcis.EpcisError) as raised:
        epcis.validate_document(_doc([event]))
    error = raised.value
    assert (error.code, error.path) == (code, f"$.epcisBody.eventList[0].{path}")
    assert words in error.detail
    assert "{" not in error.detail  # the message never prints the event back


def test_microseconds_survive_capture_and_export(db, demo):
    sent = _event(
        "ObjectEvent",
        "micro",
        action="OBSERVE",
        epcList=[SGTIN],
        eventTime="2026-03-02T15:00:00.123456+01:00",
    )
    with db.sessions.begin() as session:
        capture.capture_event(session, demo.brand, copy.deepcopy(sent))
        stored = session.scalars(
            select(TraceEvent).where(TraceEvent.brand_id == demo.brand.id)
        ).one()
        (back,) = trace.serialize(session, [stored])
    assert back["eventTime"] == "2026-03-02T15:00:00.123456+01:00"
