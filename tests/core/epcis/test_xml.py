"""EPCIS XML (2.0, and 1.2 where it maps directly) captured into the one internal model.
The documents under xml/ are written here in the shapes of GS1's XML examples."""

from pathlib import Path

import pytest
from sqlalchemy import select

from tracemark.epcis import documents as epcis
from tracemark.epcis.documents import EpcisError
from tracemark.epcis.xml import document_from_xml
from tracemark.models import SensorReading, TraceEvent
from tracemark.trace import capture
from tracemark.trace import events as trace

HERE = Path(__file__).parent / "xml"


def test_an_epcis_2_0_xml_document_maps_to_its_json_events():
    document = document_from_xml((HERE / "object_sensor_2_0.xml").read_bytes())
    assert document["@context"][1] == {"example": "https://ns.example.com/epcis/"}
    obj, pack, make = document["epcisBody"]["eventList"]
    assert obj["epcList"][0] == "urn:epc:id:sgtin:4012345.011111.987"
    assert obj["quantityList"] == [
        {"epcClass": "urn:epc:class:lgtin:4012345.022222.B-7", "quantity": 12.5, "uom": "KGM"}
    ]
    assert obj["bizTransactionList"][0]["type"] == "urn:epcglobal:cbv:btt:po"
    assert obj["sourceList"][0]["source"] == "urn:epc:id:pgln:4012345.00000"
    assert obj["sensorElementList"][0]["sensorReport"][0] == {
        "type": "Temperature",
        "value": 26.0,
        "uom": "CEL",
    }
    assert obj["example:myField"] == "a value"
    assert pack["parentID"] == "urn:epc:id:sscc:4012345.0000000001"
    assert make["ilmd"] == {"example:bestBefore": "2027-03-01"}
    records = epcis.validate_document(document)
    assert [r.event_type for r in records] == [
        "ObjectEvent",
        "AggregationEvent",
        "TransformationEvent",
    ]
    assert records[0].event_time.microsecond == 123456 and records[0].biz_step == "shipping"


def test_xml_events_are_stored_like_json_ones(db, demo):
    data = (HERE / "object_sensor_2_0.xml").read_bytes()
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, document_from_xml(data))
        assert len(result.captured) == 3
        again = capture.capture_document(session, demo.brand, document_from_xml(data))
        assert again.captured == [] and len(again.duplicates) == 3
        readings = session.scalars(
            select(SensorReading).where(SensorReading.brand_id == demo.brand.id)
        ).all()
        assert sorted(r.type for r in readings) == ["AbsoluteHumidity", "Temperature"]
        stored = session.scalars(
            select(TraceEvent)
            .where(TraceEvent.brand_id == demo.brand.id)
            .order_by(TraceEvent.event_time)
        ).all()
        make, obj, _pack = trace.serialize(session, stored)
        assert obj["eventTime"] == "2026-03-02T15:00:00.123456+01:00"
        assert obj["epcList"][1] == "https://id.gs1.org/01/04012345111118/21/988"
        assert make["outputEPCList"] == ["https://id.gs1.org/01/04012345111118/21/987"]


def test_an_epcis_1_2_xml_document_is_read_through_its_extensions(db, demo):
    document = document_from_xml((HERE / "object_1_2.xml").read_bytes())
    obj, make = document["epcisBody"]["eventList"]
    assert obj["eventID"] == "urn:uuid:x-legacy-1" and obj["quantityList"][0]["quantity"] == 3.0
    assert make["type"] == "TransformationEvent" and make["eventID"] == "urn:uuid:x-legacy-2"
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, document)
    assert result.captured == ["urn:uuid:x-legacy-1", "urn:uuid:x-legacy-2"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<notxml", "not well-formed"),
        (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>', "DTDs and entities"),
        (b'<EPCISDocument xmlns="urn:other"/>', "root element"),
        (
            b'<e:EPCISDocument xmlns:e="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList>'
            b"<SomeEvent/></EventList></EPCISBody></e:EPCISDocument>",
            "not an EPCIS event",
        ),
    ],
)
def test_bad_xml_is_refused_with_the_reason(data, reason):
    with pytest.raises(EpcisError, match=reason) as refused:
        document_from_xml(data)
    assert refused.value.code == "malformed_xml"


def test_a_schema_failure_in_xml_names_the_json_path_of_the_field():
    data = (HERE / "object_sensor_2_0.xml").read_bytes().replace(b"<action>ADD", b"<action>PUT")
    with pytest.raises(EpcisError) as refused:
        epcis.validate_document(document_from_xml(data))
    assert refused.value.path == "$.epcisBody.eventList[1].action"


def test_association_transaction_and_declared_xml_events_keep_their_values(db, demo):
    """The shapes of GS1's XML/AssociationEvent, XML/WithSensorData, XML/WithEventHashID
    and XML/WithErrorDeclaration examples: typed sensor values, an extension element in
    a sensor element, repeated certificationInfo, a hash eventID, an error declaration
    with an extension."""
    document = document_from_xml((HERE / "association_transaction_2_0.xml").read_bytes())
    assoc, deal, declared = document["epcisBody"]["eventList"]
    alarm, texts = assoc["sensorElementList"][0]["sensorReport"]
    assert alarm == {
        "type": "AbsoluteHumidity",
        "exception": "ALARM_CONDITION",
        "booleanValue": True,
    }
    assert texts["hexBinaryValue"] == "f0f0" and texts["uriValue"] == "https://example.com/E1"
    assert assoc["sensorElementList"][0]["ex:calibration"] == {"ex:lab": "Lab 4"}
    assert deal["certificationInfo"] == ["https://cert.example/1", "https://cert.example/2"]
    assert declared["errorDeclaration"]["ex:note"] == "wrong lot"
    assert declared["persistentDisposition"] == {
        "set": ["completeness_verified"],
        "unset": ["completeness_inferred"],
    }
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, document)
        assert result.captured == [assoc["eventID"], "urn:uuid:x-tx-1", "urn:uuid:x-declared"]
        stored = session.scalars(
            select(TraceEvent)
            .where(TraceEvent.brand_id == demo.brand.id)
            .order_by(TraceEvent.event_time)
        ).all()
        back = trace.serialize(session, stored, "Never_Translates")
    assert back[0]["sensorElementList"] == assoc["sensorElementList"]
    assert back[1]["certificationInfo"] == deal["certificationInfo"]
    assert back[2]["errorDeclaration"] == declared["errorDeclaration"]
