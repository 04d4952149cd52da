"""A small hand-built supply chain for the quality and supply-chain boards, with every
answer worked out by hand (see the tests that use it).

Quality (batches of lines L1 and L2, material lots of two suppliers), events written
straight to the tables as a capture would leave them:

* B1 (L1): fails on 5 Oct (test "seal", defect "leak"), passes on 6 Oct: not first-pass.
* B2 (L1): passes on 5 Oct.
* B3 (L2): a pass on 7 Oct is stored first; a fail on 6 Oct (disposition
  non_conformant, no test failed) arrives after a rollup run: its first inspection
  is the fail.
* B4 (no line of its own): a checkpoint-form event (bizStep ``commissioning``) with a
  failing "weight" test and ``tm:line`` L2, on 12 Oct: inspected, failed.
  So L1 yields 1/2 and L2 0/2; weeks: of 5 Oct 1/3, of 12 Oct 0/1; defects leak 1,
  weight 1.
* Lots: supplier North M1 passes, M2 fails then passes; supplier South M3 passes:
  North 1/2, South 1/1.
* B2 is on hold.

Supply chain (sites Plant and Warehouse), at :data:`NOW` (1 Nov):

* B1's class: at the Plant on 1 Oct, shipped 10 Oct, received at the Warehouse 12 Oct:
  in stock there 20 days (bucket "month").
* B2's class: shipped from the Plant on 20 Oct to the Warehouse: in transit 11 full days.
* M1: received at the Warehouse 1 Sep, observed there 15 Oct: 61 days (bucket
  "quarter").
* B3's class: its receipt at the Warehouse on 28 Oct is stored before its shipping on
  22 Oct: in stock 4 days (bucket "week"), not in transit.
* M3: consumed by a transformation: gone.
* A storage event of B1 at the Warehouse on 12 Oct read 9.5 °C (bounds 2 to 8), 4 °C
  (fine) and a humidity alarm: two excursions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import make_brand
from tracemark import catalog
from tracemark.epcis import identifiers as epc
from tracemark.models import SensorReading, TraceEvent, TraceEventObject
from tracemark.trace import supply

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
#: The rollup's clock: a day ahead, so that every event just written has settled.
ROLLUP_NOW = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
PLANT = "urn:epc:id:sgln:9506000.00001.0"
WAREHOUSE = "urn:epc:id:sgln:9506000.00002.0"


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def qc(*tests: tuple[str, str, str | None], **extra: Any) -> dict[str, Any]:
    """``data`` with QC results: (test, result, defect or None) each."""
    entries = []
    for test, result, defect in tests:
        entry = {"test": test, "result": result, "value": 1.0, "uom": "EA"}
        if defect:
            entry["defect"] = defect
        entries.append(entry)
    return {"tm:qc": entries, **extra}


@dataclass
class World:
    brand_id: int
    slug: str
    product_id: int
    gtin: str
    batches: dict[str, int] = field(default_factory=dict)
    lots: dict[str, int] = field(default_factory=dict)
    suppliers: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)

    def batch_epc(self, name: str) -> str:
        return epc.lot_class(self.gtin, name)

    def lot_epc(self, name: str) -> str:
        return f"https://lots.example/{self.slug}/{name}"


def event(
    session: Session,
    world: World,
    step: str,
    when: dt.datetime,
    *,
    batch: str | None = None,
    objects: tuple[tuple[str, str], ...] = (),
    site: str | None = None,
    disposition: str | None = None,
    data: dict[str, Any] | None = None,
    destinations: list[dict[str, str]] | None = None,
    readings: tuple[dict[str, Any], ...] = (),
    event_type: str = "ObjectEvent",
    action: str | None = "OBSERVE",
) -> int:
    """Store an event as a capture would; ``objects`` are (role, batch or lot name)."""
    location = {"Plant": PLANT, "Warehouse": WAREHOUSE}.get(site or "")
    row = TraceEvent(
        brand_id=world.brand_id,
        batch_id=world.batches[batch] if batch else None,
        event_type=event_type,
        action=action,
        event_time=when,
        biz_step=step,
        disposition=disposition,
        biz_location=location,
        site_id=world.sites[site] if site else None,
        destinations=destinations,
        data=data or {},
    )
    session.add(row)
    session.flush()
    for role, name in objects:
        is_batch = name in world.batches
        session.execute(
            insert(TraceEventObject),
            {
                "brand_id": world.brand_id,
                "event_id": row.id,
                "role": role,
                "epc": world.batch_epc(name) if is_batch else world.lot_epc(name),
                "batch_id": world.batches.get(name),
                "lot_id": None if is_batch else world.lots[name],
            },
        )
    for reading in readings:
        session.execute(
            insert(SensorReading), {"brand_id": world.brand_id, "event_id": row.id, **reading}
        )
    return row.id


def build(sessions: sessionmaker[Session]) -> World:
    """The world of the module docstring, up to (not including) B3's late fail."""
    demo = make_brand(sessions, lot="B1")
    with sessions.begin() as session:
        brand = catalog.get_brand(session, demo.brand.slug)
        product = catalog.get_product(session, brand, demo.product.id)
        world = World(brand.id, brand.slug, product.id, product.gtin)
        for name in ("Plant", "Warehouse"):
            site = catalog.create_site(session, brand, name)
            site.location_id = {"Plant": PLANT, "Warehouse": WAREHOUSE}[name]
            world.sites[name] = site.id
        batch = catalog.get_batch(session, brand, demo.batch.id)
        batch.line = "L1"
        world.batches["B1"] = batch.id
        for name, line in (("B2", "L1"), ("B3", "L2"), ("B4", None)):
            world.batches[name] = catalog.create_batch(session, product, name, line=line).id
        for supplier_name, lots in (("North", ("M1", "M2")), ("South", ("M3",))):
            supplier = supply.create_supplier(session, brand, supplier_name)
            world.suppliers[supplier_name] = supplier.id
            for lot in lots:
                made = supply.receive_lot(
                    session, supplier, "Oil", lot, epc_class=world.lot_epc(lot)
                )
                world.lots[lot] = made.id
        catalog.set_batch_status(
            session, catalog.get_batch(session, brand, world.batches["B2"]), "on_hold",
            {"en": "Checking a seal."},
        )  # fmt: skip
        session.flush()
        _quality(session, world)
        _supply(session, world)
    return world


def _quality(session: Session, world: World) -> None:
    def inspect(name, when, **kw):
        role = "epc_quantity"
        event(session, world, kw.pop("step", "inspecting"), when, objects=((role, name),), **kw)

    inspect("B1", at(10, 5), data=qc(("seal", "fail", "leak"), ("fill", "pass", None)))
    inspect("B1", at(10, 6), data=qc(("seal", "pass", None)), disposition="conformant")
    inspect("B2", at(10, 5), data=qc(("seal", "pass", None)), disposition="conformant")
    inspect("B3", at(10, 7), disposition="conformant")
    inspect("B4", at(10, 12), step="commissioning", data=qc(("weight", "fail", None), **{
        "tm:line": "L2", "tm:checkpoint": "final", "tm:fields": {"weight": 0.9}}))  # fmt: skip
    event(session, world, "storing", at(10, 5), objects=(("epc_quantity", "B2"),))
    inspect("M1", at(9, 1, 12), data=qc(("acidity", "pass", None)))
    inspect("M2", at(9, 2), data=qc(("acidity", "fail", "acid")))
    inspect("M2", at(9, 3), data=qc(("acidity", "pass", None)))
    inspect("M3", at(9, 2), disposition="conformant")


def late_fail(sessions: sessionmaker[Session], world: World) -> None:
    """B3's fail of 6 Oct, captured after its pass of 7 Oct."""
    with sessions.begin() as session:
        event(
            session,
            world,
            "inspecting",
            at(10, 6),
            objects=(("epc_quantity", "B3"),),
            disposition="non_conformant",
        )


def _supply(session: Session, world: World) -> None:
    to_warehouse = [{"type": "location", "destination": WAREHOUSE}]
    q = "epc_quantity"
    event(session, world, "commissioning", at(10, 1), objects=((q, "B1"),), site="Plant")
    event(session, world, "shipping", at(10, 10), objects=((q, "B1"),), site="Plant",
          destinations=to_warehouse)  # fmt: skip
    event(session, world, "receiving", at(10, 12), objects=((q, "B1"),), site="Warehouse")
    event(session, world, "commissioning", at(10, 1), objects=((q, "B2"),), site="Plant")
    event(session, world, "shipping", at(10, 20), objects=((q, "B2"),), site="Plant",
          destinations=to_warehouse)  # fmt: skip
    event(session, world, "receiving", at(9, 1), objects=((q, "M1"),), site="Warehouse")
    event(session, world, "storing", at(10, 15), objects=((q, "M1"),), site="Warehouse")
    event(session, world, "receiving", at(10, 28), objects=((q, "B3"),), site="Warehouse")
    event(session, world, "shipping", at(10, 22), objects=((q, "B3"),), site="Plant",
          destinations=to_warehouse)  # fmt: skip
    event(session, world, "receiving", at(9, 2), objects=((q, "M3"),), site="Plant")
    event(session, world, "commissioning", at(9, 20), event_type="TransformationEvent",
          action=None, objects=(("input_quantity", "M3"),), site="Plant")  # fmt: skip
    event(
        session,
        world,
        "storing",
        at(10, 12, 14),
        batch="B1",
        site="Warehouse",
        readings=(
            {"type": "gs1:Temperature", "value": 9.5, "min_value": 2, "max_value": 8, "uom": "CEL"},
            {"type": "gs1:Temperature", "value": 4.0, "min_value": 2, "max_value": 8, "uom": "CEL"},
            {"type": "gs1:RelativeHumidity", "exception": "ALARM_CONDITION"},
        ),
    )
