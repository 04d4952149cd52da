"""The shapes of GS1's EPCIS 2.0 example documents (gs1/EPCIS: JSON/,
JSON-simple-context/, XML/), in documents written here: what each example shows beyond
the plain shapes of test_event_shapes is stored and read back, and what GS1's examples
show that the standard refuses is refused, at its field, with the standard's reason."""

import copy

import pytest
from sqlalchemy import select

from tests.helpers.epcis import epcis_document as _doc
from tracemark.epcis import documents as epcis
from tracemark.epcis.schema import EPCIS_CONTEXTS
from tracemark.models import TraceEvent
from tracemark.trace import capture
from tracemark.trace import events as trace

SGTIN = "urn:epc:id:sgtin:4012345.011111.987"
LGTIN = "urn:epc:class:lgtin:4012345.012345.998877"
GIAI = "urn:epc:id:giai:4000001.12345"
GRAI = "urn:epc:id:grai:4012345.55555.987"
HASH_ID = (
    "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0"
)
EXT = {"ex:float": "20", "ex:object": {"ex:array": ["11", {"ex:deeper": "x"}], "ex:int": "10"}}
#: Every member GS1's sensor examples give an element, a metadata and a report.
FULL_SENSOR = {
    "sensorMetadata": {
        "time": "2026-03-02T14:05:00.000Z",
        "deviceID": "urn:epc:id:giai:4000001.111",
        "deviceMetadata": "https://id.gs1.org/8004/4000001111",
        "rawData": "https://example.org/raw/1",
        "startTime": "2026-03-02T13:55:00.000Z",
        "endTime": "2026-03-02T14:55:00.000Z",
        "dataProcessingMethod": "https://example.com/method",
        "bizRules": "https://example.com/rules",
        "ex:furtherMetadata": "text",
    },
    "sensorReport": [
        {
            "type": "gs1:Temperature",
            "deviceID": "urn:epc:id:giai:4000001.111",
            "rawData": "https://example.org/raw/1",
            "dataProcessingMethod": "https://example.com/method",
            "time": "2026-03-02T14:00:00.000Z",
            "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
            "chemicalSubstance": "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
            "value": 26,
            "component": "example:x",
            "stringValue": "SomeString",
            "booleanValue": True,
            "hexBinaryValue": "f0f0f0",
            "uriValue": "https://id.gs1.org/8004/4000001111",
            "minValue": 26,
            "maxValue": 26.2,
            "meanValue": 13.2,
            "percRank": 50,
            "percValue": 12.7,
            "uom": "CEL",
            "sDev": 0.1,
            "deviceMetadata": "https://id.gs1.org/8004/4000001111",
            "ex:furtherReportData": "text",
        },
        {"type": "Temperature", "exception": "ERROR_CONDITION", "uriValue": "https://e.example/A8"},
        {"type": "AbsoluteHumidity", "exception": "ALARM_CONDITION", "booleanValue": True},
        {"type": "gs1:MT-Humidity", "minValue": 12.1, "maxValue": 12.2, "uom": "A93"},
        {"type": "Mass", "ex:feature": "ex:packaging", "value": 1.0, "uom": "KGM"},
    ],
    **EXT,
}


def _event(kind, event_id, **fields):
    return {
        "type": kind,
        **({"eventID": event_id} if event_id else {}),
        "eventTime": "2026-03-02T15:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
    } | fields


#: Shapes GS1's examples show (the example named), each captured.
STORED = {
    # WithFullCombinationOfFields/object_event_all_possible_fields (as ADD: see REFUSED)
    "every field of an ObjectEvent, extensions nested": _event(
        "ObjectEvent",
        "urn:uuid:full",
        action="ADD",
        epcList=[SGTIN],
        bizStep="receiving",
        disposition="in_progress",
        readPoint={"id": "urn:epc:id:sgln:0012345.11111.400"},
        bizLocation={"id": "urn:epc:id:sgln:0012345.11111.0"},
        bizTransactionList=[
            {"type": "po", "bizTransaction": "urn:epc:id:gdti:0614141.00001.1618034"},
            {"type": "pedigree", "bizTransaction": "urn:epc:id:gsrn:0614141.0000010253"},
        ],
        quantityList=[{"epcClass": LGTIN, "quantity": 200, "uom": "KGM"}],
        sourceList=[
            {"type": "location", "source": "urn:epc:id:sgln:4012345.00225.0"},
            {"type": "possessing_party", "source": "urn:epc:id:pgln:4012345.00225"},
        ],
        destinationList=[{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00777"}],
        sensorElementList=[FULL_SENSOR],
        persistentDisposition={
            "set": ["completeness_verified"],
            "unset": ["completeness_inferred"],
        },
        ilmd={"cbvmda:countryOfOrigin": "GB", "cbvmda:lotNumber": "ABC123", **EXT},
        certificationInfo=["https://cert.example/1", "https://cert.example/2"],
        **EXT,
    ),
    # Example_9.6.1-ObjectEvent-with-pseudo-SBDH-headers, SensorDataExample17: hash IDs
    "a hash eventID": _event("ObjectEvent", HASH_ID, action="OBSERVE", epcList=[SGTIN]),
    # SensorDataExample9: no eventID at all (capture names it by its hash)
    "no eventID": _event("ObjectEvent", None, action="OBSERVE", epcList=[SGTIN]),
    # Example-Type-sourceOrDestination,measurement,bizTransaction: CBV terms as URNs
    "CBV terms and types as URNs, a recordTime sent": _event(
        "AssociationEvent",
        "urn:uuid:urns",
        action="ADD",
        parentID="urn:epc:id:grai:4012345.55555.98765",
        childEPCs=[GIAI],
        bizStep="urn:epcglobal:cbv:bizstep:installing",
        disposition="urn:epcglobal:cbv:disp:in_progress",
        recordTime="2026-03-02T15:05:00.000+01:00",
        bizTransactionList=[
            {
                "type": "urn:epcglobal:cbv:btt:inv",
                "bizTransaction": "urn:epcglobal:cbv:bt:4023333000000:54545",
            }
        ],
        sourceList=[
            {
                "type": "urn:epcglobal:cbv:sdt:possessing_party",
                "source": "urn:epc:id:pgln:4000001.00012",
            }
        ],
    ),
    # WithDigitalLinkID/*, SensorDataExample17: Digital Links for every identifier
    "Digital Links for objects, classes, parent and locations": _event(
        "AggregationEvent",
        "urn:uuid:links",
        action="ADD",
        parentID="https://id.gs1.org/00/106141412345678908",
        childEPCs=["https://id.gs1.org/01/04012345111118/21/987"],
        childQuantityList=[
            {"epcClass": "https://id.gs1.org/01/04012345222227/10/B7", "quantity": 2}
        ],
        readPoint={"id": "https://id.gs1.org/414/4012345000016/254/7"},
        bizLocation={"id": "https://id.gs1.org/414/4012345000016"},
    ),
    # AssociationEvent-e: lots of a product put into a returnable asset
    "association of quantities only": _event(
        "AssociationEvent",
        "urn:uuid:assoc-e",
        action="ADD",
        parentID=GRAI,
        childQuantityList=[
            {"epcClass": "urn:epc:class:lgtin:4023333.002000.998877", "quantity": 4}
        ],
    ),
    # Example-TransactionEvents: a DELETE naming only its business transaction
    "a TransactionEvent DELETE naming only its transaction": _event(
        "TransactionEvent",
        "urn:uuid:tx-off",
        action="DELETE",
        bizTransactionList=[{"type": "po", "bizTransaction": "http://transaction.acme.com/po/1"}],
    ),
}


@pytest.mark.parametrize("name", sorted(STORED))
def test_what_gs1_examples_show_is_stored_and_read_back(db, demo, name):
    sent = STORED[name]
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, _doc([copy.deepcopy(sent)]))
        assert len(result.captured) == 1
        stored = session.scalars(
            select(TraceEvent).where(TraceEvent.brand_id == demo.brand.id)
        ).one()
        (back,) = trace.serialize(session, [stored], "Never_Translates")
    assert back.get("eventID", result.captured[0]) == result.captured[0]
    if "eventID" in sent:
        assert back["eventID"] == sent["eventID"]
    for key, value in sent.items():
        if key.startswith(("ex:", "sensor", "ilmd", "persistent", "certification", "bizTrans")):
            assert back[key] == value, key


@pytest.mark.parametrize("context", EPCIS_CONTEXTS)
def test_gs1_examples_simple_context_folder_reads_as_the_full_one(context):
    """JSON-simple-context/ holds the same events as JSON/ under the simple context."""
    records = epcis.validate_document(_doc(copy.deepcopy(list(STORED.values())), context))
    assert [r.event_type for r in records] == [e["type"] for e in STORED.values()]


def test_a_document_header_and_master_data_do_not_stop_its_events():
    """Example_9.6.1-…-with-pseudo-SBDH-headers, -with-implements, Example_9.8.1-MasterData."""
    header = {
        "id": "https://id.example.org/document1",
        "sender": "urn:epc:id:sgln:0353579.00001.0",
        "receiver": "urn:epc:id:sgln:5012345.00001.0",
        "instanceIdentifier": "1234567890",
        "implements": ["https://example.com/rail-standard.pdf"],
        "epcisHeader": {
            "epcisMasterData": {
                "vocabularyList": [
                    {
                        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                        "vocabularyElementList": [{"id": "urn:epc:id:sgln:0037000.00729.0"}],
                    }
                ]
            }
        },
    }
    events = [copy.deepcopy(STORED["a hash eventID"])]
    assert [r.event_id for r in epcis.validate_document(_doc(events, **header))] == [HASH_ID]


def _changed(name, *drop, **changes):
    event = copy.deepcopy(STORED[name])
    for key in drop:
        del event[key]
    return event | changes


#: What GS1's examples show that the standard (EPCIS 2.0 and its JSON schema) refuses.
REFUSED = [
    # object_event_all_possible_fields: ilmd on an OBSERVE (ilmd belongs to ADD)
    (
        [_changed("every field of an ObjectEvent, extensions nested", action="OBSERVE")],
        {},
        ("rule_violation", "$.epcisBody.eventList[0].ilmd", "has no ilmd"),
    ),
    # drafts' "isA" for "type" (…with-comment, WithErrorDeclaration/…, all_possible_fields)
    (
        [{"isA": "ObjectEvent"} | _changed("a hash eventID", "type")],
        {},
        ("schema_violation", "$.epcisBody.eventList[0].type", "is required"),
    ),
    # Example_9.6.1-with-comment: a JSON-LD node id on the event, schemaVersion a number
    (
        [_changed("a hash eventID", id="_:event1")],
        {},
        ("schema_violation", '$.epcisBody.eventList[0]["id"]', "unknown field"),
    ),
    (
        [_changed("a hash eventID")],
        {"schemaVersion": 2.0},
        ("schema_violation", "$.schemaVersion", "must be one of 2.0, 2.0.0"),
    ),
    # Example-ObjectEvent-with-reused-source-destination: node ids in sourceList
    (
        [
            _changed(
                "a hash eventID",
                sourceList=[{"id": "http://example.org/gln/1", "type": "location", "source": GIAI}],
            )
        ],
        {},
        (
            "schema_violation",
            '$.epcisBody.eventList[0].sourceList[0]["id"]',
            "this member takes only source, type",
        ),
    ),
    # Example-custom: extension members inside a bizTransaction (no extension point)
    (
        [
            _changed(
                "a TransactionEvent DELETE naming only its transaction",
                bizTransactionList=[
                    {
                        "type": "inv",
                        "bizTransaction": "urn:epcglobal:cbv:bt:4023333000000:5",
                        "ex:custom": "inv",
                    }
                ],
            )
        ],
        {},
        (
            "schema_violation",
            '$.epcisBody.eventList[0].bizTransactionList[0]["ex:custom"]',
            "this member takes only bizTransaction, type",
        ),
    ),
    # Example-Type-sourceOrDestination,…: an inline @context without GS1's
    (
        [_changed("a hash eventID")],
        {"@context": {"@vocab": "https://ns.gs1.org/epcis/"}},
        ("unsupported_context", "$['@context']", EPCIS_CONTEXTS[1]),
    ),
]


@pytest.mark.parametrize(("events", "header", "expected"), REFUSED)
def test_what_the_standard_refuses_in_gs1_examples_is_refused_with_its_reason(
    events, header, expected
):
    with pytest.raises(epcis.EpcisError) as raised:
        epcis.validate_document(_doc(events, **header))
    code, path, words = expected
    assert (raised.value.code, raised.value.path) == (code, path)
    assert words in raised.value.detail


def test_a_query_document_is_not_a_capture_document():
    """JSON/EPCISQueryDocument.jsonld: capture takes an EPCISDocument (EPCIS 2.0 §8.2)."""
    query = _doc([]) | {"type": "EPCISQueryDocument"}
    with pytest.raises(epcis.EpcisError) as raised:
        epcis.validate_document(query)
    assert (raised.value.path, raised.value.detail) == ("$.type", "must be EPCISDocument")
