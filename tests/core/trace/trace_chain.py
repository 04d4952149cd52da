"""A small hand-built supply chain, captured as EPCIS 2.0, for the trace tests.

Two suppliers: an olive-oil cooperative (ES, lot by GTIN) and a glassworks (PT, lot by a
private URI). Transformation T1 makes batch L2401A from oil and glass; T2 makes batch
L2402B from oil alone. L2401A's units are packed into a case shipped to a Spanish
warehouse; L2402B is shipped by quantity to a French one. L2401A is inspected
(fails one test); the oil lot's storage logged a temperature alarm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from signing.gs1 import gtin_check_digit
from tests.conftest import PASSPHRASE, DemoBrand
from tracemark import catalog
from tracemark.codes import issuance
from tracemark.epcis import identifiers as epc
from tracemark.epcis.schema import EPCIS_CONTEXT
from tracemark.models import Batch, ScanEvent, Unit
from tracemark.trace import capture, supply

OIL_GTIN = "0401234512345" + str(gtin_check_digit("0401234512345"))
#: The oil lot spelt two ways: an EPC URN and a Digital Link on another host.
OIL_URN = "urn:epc:class:lgtin:4012345.012345.OIL-9"
OIL_LINK = f"https://oil.example/01/{OIL_GTIN}/10/OIL-9"
ALARM = {"type": "gs1:Temperature", "value": 31.5, "uom": "CEL", "exception": "ALARM_CONDITION"}
GLASS_CLASS = "https://glass.example/lots/G-77"
CASE = "urn:epc:id:sscc:0614141.1234567890"
ES_WAREHOUSE = "urn:epc:id:sgln:0614141.00001.0"
FR_WAREHOUSE = "urn:epc:id:sgln:0614141.00002.0"
MILL = "urn:epc:id:sgln:9506000.00000.0"


@dataclass
class Chain:
    brand_id: int
    batch_a: int
    batch_b: int
    oil_lot: int
    glass_lot: int
    oil_class: str
    units_a: list[str]
    units_b: list[str]


def event(kind: str, event_id: str, when: str, **fields) -> dict:
    base = {"type": kind, "eventID": event_id, "eventTime": when, "eventTimeZoneOffset": "+02:00"}
    return base | fields


def document(events: list[dict]) -> dict:
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-10-10T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


def sgtin(serial: str) -> str:
    """A unit of the demo product (GTIN 09506000134352) as an EPC URN."""
    return f"urn:epc:id:sgtin:9506000.013435.{serial}"


def chain_events(c: Chain) -> list[dict]:
    a_class = epc.lot_class("09506000134352", "L2401A")
    b_class = epc.lot_class("09506000134352", "L2402B")
    glass = epc.canonical(GLASS_CLASS).uri
    return [
        event(
            "ObjectEvent", "urn:uuid:recv-oil", "2026-09-01T08:00:00+02:00", action="OBSERVE",
            bizStep="receiving",
            quantityList=[{"epcClass": OIL_URN, "quantity": 800, "uom": "LTR"}],
            sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
            readPoint={"id": MILL},
            sensorElementList=[{
                "sensorMetadata": {"time": "2026-09-01T09:00:00+02:00"},
                "sensorReport": [
                    ALARM,
                    {"type": "gs1:RelativeHumidity", "value": 80, "uom": "A93"},
                ],
            }],
        ),
        event(
            "TransformationEvent", "urn:uuid:t1", "2026-10-01T10:00:00+02:00",
            bizStep="commissioning", transformationID="urn:uuid:t1-id",
            inputQuantityList=[
                {"epcClass": OIL_LINK, "quantity": 500, "uom": "LTR"},
                {"epcClass": glass, "quantity": 4, "uom": "EA"},
            ],
            outputQuantityList=[{"epcClass": a_class, "quantity": 4, "uom": "EA"}],
            readPoint={"id": MILL},
            **{"tm:operator": "Ana", "tm:equipment": "Filler 3", "tm:line": "Line 2"},
        ),
        event(
            "TransformationEvent", "urn:uuid:t2", "2026-10-01T11:00:00+02:00",
            bizStep="commissioning",
            inputQuantityList=[{"epcClass": OIL_URN, "quantity": 300, "uom": "LTR"}],
            outputQuantityList=[{"epcClass": b_class, "quantity": 3, "uom": "EA"}],
            **{"tm:operator": "Luis"},
        ),
        event(
            "ObjectEvent", "urn:uuid:qc-a", "2026-10-02T09:00:00+02:00", action="OBSERVE",
            bizStep="inspecting", disposition="non_conformant",
            quantityList=[{"epcClass": a_class}],
            **{"tm:qc": [{"test": "peroxide", "result": "fail", "value": 25, "uom": "meq/kg"}]},
        ),
        event(
            "AggregationEvent", "urn:uuid:pack-a", "2026-10-03T09:00:00+02:00", action="ADD",
            bizStep="packing", parentID=CASE, childEPCs=[sgtin(s) for s in c.units_a],
        ),
        event(
            "ObjectEvent", "urn:uuid:ship-case", "2026-10-04T09:00:00+02:00", action="OBSERVE",
            bizStep="shipping", epcList=[CASE],
            destinationList=[{"type": "location", "destination": ES_WAREHOUSE}],
        ),
        event(
            "ObjectEvent", "urn:uuid:ship-b", "2026-10-04T10:00:00+02:00", action="OBSERVE",
            bizStep="shipping", quantityList=[{"epcClass": b_class, "quantity": 3, "uom": "EA"}],
            destinationList=[{"type": "location", "destination": FR_WAREHOUSE}],
        ),
    ]  # fmt: skip


def build_chain(sessions: sessionmaker[Session], demo: DemoBrand) -> Chain:
    """Register suppliers, lots, sites and units, then capture the chain's events."""
    with sessions.begin() as session:
        brand = session.merge(demo.brand)
        product = session.merge(demo.product)
        batch_b = catalog.create_batch(session, product, "L2402B")
        for name, location, country in (
            ("Mill", MILL, "ES"),
            ("Madrid warehouse", ES_WAREHOUSE, "ES"),
            ("Lyon warehouse", FR_WAREHOUSE, "FR"),
        ):
            site = catalog.create_site(session, brand, name, country=country)
            site.location_id = location
        coop = supply.create_supplier(session, brand, "Olivar Coop", country="ES")
        glassworks = supply.create_supplier(session, brand, "Vidros SA", country="PT")
        oil = supply.receive_lot(session, coop, "Olive oil, bulk", "OIL-9", gtin=OIL_GTIN)
        glass = supply.receive_lot(session, glassworks, "Bottle 1 l", "G-77", epc_class=GLASS_CLASS)
        ids = (brand.id, demo.batch.id, batch_b.id, oil.id, glass.id, oil.epc_class)
    for batch_id, count in ((ids[1], 4), (ids[2], 3)):
        issuance.issue(sessions, batch_id, count, PASSPHRASE, workers=1)
    with sessions.begin() as session:
        serials = {
            batch_id: list(
                session.scalars(
                    select(Unit.serial).where(Unit.batch_id == batch_id).order_by(Unit.seq)
                )
            )
            for batch_id in ids[1:3]
        }
    chain = Chain(*ids[:5], ids[5], serials[ids[1]], serials[ids[2]])
    with sessions.begin() as session:
        brand = session.merge(demo.brand)
        capture.capture_document(session, brand, document(chain_events(chain)))
    return chain


def scan(session: Session, brand_id: int, serial: str, country: str | None) -> None:
    unit_id = session.scalar(
        select(Unit.id).where(Unit.brand_id == brand_id, Unit.serial == serial)
    )
    session.execute(
        insert(ScanEvent).values(
            brand_id=brand_id, unit_id=unit_id, verdict="genuine_first_scan", reason="ok",
            country=country, scanned_at=dt.datetime(2026, 10, 20, tzinfo=dt.UTC),
        )
    )  # fmt: skip


def batch_of(session: Session, batch_id: int) -> Batch:
    return session.get_one(Batch, batch_id)
