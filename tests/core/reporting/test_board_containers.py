"""Objects packed into containers go where the containers go on the supply-chain board,
until they are unpacked, whatever order the events arrive in."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import make_brand
from tests.core.reporting.board_chain import ROLLUP_NOW
from tests.core.trace.trace_chain import document, event, sgtin
from tracemark.epcis.identifiers import canonical
from tracemark.reporting import board_rollup, logistics
from tracemark.reporting.logistics import Place, SupplyFilters
from tracemark.trace import capture

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
OCTOBER = SupplyFilters(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
PLANT, WAREHOUSE, SHOP = (f"urn:epc:id:sgln:9506000.0000{n}.0" for n in (1, 2, 3))
CASE, PALLET = "urn:epc:id:sscc:9506000.0000000001", "urn:epc:id:sscc:9506000.0000000002"
#: Capture stores locations canonical (their Digital Link): the board names them so.
AS_SENT = {canonical(name).uri: name for name in (PLANT, WAREHOUSE, SHOP)}
U1, U2, U3 = sgtin("U1"), sgtin("U2"), sgtin("U3")


def _at(day: int, hour: int = 10) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:00:00+02:00"


def _observe(eid, day, step, objects, where, **fields):
    return event("ObjectEvent", eid, _at(day), action="OBSERVE", bizStep=step,
                 epcList=objects, readPoint={"id": where}, **fields)  # fmt: skip


def _aggregate(eid, day, action, parent, children, where, hour=10):
    return event("AggregationEvent", eid, _at(day, hour), action=action, bizStep="packing",
                 parentID=parent, childEPCs=children, bizLocation={"id": where})  # fmt: skip


def _ship(eid, day, objects, origin, to):
    return _observe(eid, day, "shipping", objects, origin,
                    destinationList=[{"type": "location", "destination": to}])  # fmt: skip


#: Captured in this order (each list one document); the late packing of U3 into the case
#: happened before the case was first shipped.
DOCUMENTS = [
    [
        event(
            "ObjectEvent",
            "urn:uuid:made",
            _at(1),
            action="ADD",
            bizStep="commissioning",
            epcList=[U1, U2, U3],
            bizLocation={"id": PLANT},
        ),
        _aggregate("urn:uuid:pack", 2, "ADD", CASE, [U1, U2], PLANT),
        _ship("urn:uuid:ship-1", 3, [CASE], PLANT, WAREHOUSE),
    ],
    [
        _observe("urn:uuid:receive-1", 5, "receiving", [CASE], WAREHOUSE),
        _aggregate("urn:uuid:unpack", 6, "DELETE", CASE, [U1], WAREHOUSE),
        _ship("urn:uuid:ship-2", 7, [CASE], WAREHOUSE, SHOP),
    ],
    [_aggregate("urn:uuid:pack-late", 2, "ADD", CASE, [U3], PLANT, hour=12)],
    [
        _observe("urn:uuid:receive-2", 9, "receiving", [CASE], SHOP),
        _aggregate("urn:uuid:palletise", 10, "ADD", PALLET, [CASE], SHOP),
        _ship("urn:uuid:ship-3", 11, [PALLET], SHOP, WAREHOUSE),
    ],
]


def _capture(db, brand, events) -> None:
    with db.sessions.begin() as session:
        capture.capture_document(session, session.merge(brand), document(events))


def _board(db, brand_id):
    with db.sessions() as session:
        transit = logistics.in_transit(session, brand_id, OCTOBER, NOW)
        stock = logistics.stock(session, brand_id, OCTOBER, NOW)
    return transit, {AS_SENT[s.place.location]: s.total for s in stock}


def test_a_shipped_case_takes_its_units_along(db):
    demo = make_brand(db.sessions)
    _capture(db, demo.brand, DOCUMENTS[0])
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    transit, stock = _board(db, demo.brand.id)
    assert stock == {PLANT: 1}  # U3; U1 and U2 left in the case
    assert (transit.shipments, transit.objects) == (1, 3)  # the case and its two units
    (shipment,) = transit.oldest
    assert shipment.origin == Place(None, canonical(PLANT).uri)
    assert [AS_SENT[d.location] for d in shipment.destinations] == [WAREHOUSE]
    _capture(db, demo.brand, DOCUMENTS[1][:1])
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    transit, stock = _board(db, demo.brand.id)
    assert stock == {PLANT: 1, WAREHOUSE: 3} and transit.shipments == 0


@pytest.mark.parametrize("runs", ["one run", "a run per document"])
def test_units_follow_until_unpacked_through_nesting_and_late_events(db, runs):
    demo = make_brand(db.sessions)
    for events in DOCUMENTS:
        _capture(db, demo.brand, events)
        if runs == "a run per document":
            board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    board_rollup.roll_up(db.sessions, now=ROLLUP_NOW)
    transit, stock = _board(db, demo.brand.id)
    # U1 was unpacked at the warehouse; the pallet carries the case, U2 and late U3
    assert stock == {WAREHOUSE: 1}
    assert (transit.shipments, transit.objects) == (1, 4)
    (shipment,) = transit.oldest
    assert shipment.origin == Place(None, canonical(SHOP).uri)
    assert shipment.shipped_at == dt.datetime(2026, 10, 11, 8, tzinfo=dt.UTC)
