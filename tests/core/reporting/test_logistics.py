"""The supply-chain board's parts that stand alone: age buckets, shipments read back from
their events, and the brand's sites by id and by location."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import make_brand
from tests.core.trace.trace_chain import ES_WAREHOUSE, FR_WAREHOUSE, MILL, build_chain
from tracemark.epcis.identifiers import canonical
from tracemark.models import TraceEvent
from tracemark.reporting import logistics
from tracemark.reporting.logistics import Place, Shipment

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("age", "name"),
    [
        (dt.timedelta(0), "week"),
        (dt.timedelta(days=6, hours=23), "week"),
        (dt.timedelta(days=7), "month"),
        (dt.timedelta(days=29, hours=23), "month"),
        (dt.timedelta(days=30), "quarter"),
        (dt.timedelta(days=89), "quarter"),
        (dt.timedelta(days=90), "older"),
        (dt.timedelta(days=4000), "older"),
        (dt.timedelta(hours=-3), "week"),  # a time ahead of the clock
    ],
)
def test_every_age_falls_in_one_bucket(age, name):
    assert logistics.bucket(age) == name


def test_a_shipments_age_counts_whole_days_and_never_goes_below_zero():
    shipment = Shipment(1, NOW - dt.timedelta(days=3, hours=5), 2, Place(None, ""))
    assert shipment.age_days(NOW) == 3
    assert shipment.age_days(NOW - dt.timedelta(days=10)) == 0


@pytest.fixture
def chain(db, demo):
    return build_chain(db.sessions, demo)


def _event_ids(db, brand_id: int) -> dict[str, int]:
    with db.sessions() as session:
        rows = session.execute(
            select(TraceEvent.event_id, TraceEvent.id).where(TraceEvent.brand_id == brand_id)
        )
        return dict(rows.all())


def test_shipments_carry_their_events_origin_destinations_and_sources(db, demo, chain):
    ids = _event_ids(db, chain.brand_id)
    since = NOW - dt.timedelta(days=2)
    groups = [
        (since, ids["urn:uuid:ship-case"], 5),
        (since, ids["urn:uuid:ship-b"], 3),
        (since, ids["urn:uuid:recv-oil"], 1),
        (since, max(ids.values()) + 1000, 7),  # no such event: left out
    ]
    with db.sessions() as session:
        found = logistics.shipments(session, chain.brand_id, groups)
        sites = logistics.site_locations(session, chain.brand_id)
        names = logistics.site_names(session, chain.brand_id)
    case, bottles, oil = found
    assert (case.event_id, case.shipped_at, case.objects) == (ids["urn:uuid:ship-case"], since, 5)
    # locations and parties come back in their canonical spelling, whatever was sent
    assert case.destinations == (Place(None, canonical(ES_WAREHOUSE).uri),) and case.sources == ()
    assert bottles.destinations == (Place(None, canonical(FR_WAREHOUSE).uri),)
    assert bottles.objects == 3
    assert oil.origin.location == canonical(MILL).uri and oil.destinations == ()
    assert oil.sources == (canonical("urn:epc:id:pgln:4012345.00000").uri,)
    named = {MILL: "Mill", ES_WAREHOUSE: "Madrid warehouse", FR_WAREHOUSE: "Lyon warehouse"}
    # a site is found by the spelling it was entered in and by the canonical one
    assert sites == {**named, **{canonical(place).uri: name for place, name in named.items()}}
    assert sorted(names.values()) == ["Lyon warehouse", "Madrid warehouse", "Mill"]


def test_another_brands_events_and_sites_are_never_read(db, demo, chain):
    other = make_brand(db.sessions)
    ids = _event_ids(db, chain.brand_id)
    with db.sessions() as session:
        groups = [(NOW, ids["urn:uuid:ship-case"], 5)]
        assert logistics.shipments(session, other.brand.id, groups) == []
        assert logistics.site_names(session, other.brand.id) == {}
        assert logistics.site_locations(session, other.brand.id) == {}
