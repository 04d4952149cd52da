"""Scan statistics from the rollups, and traces backward from a unit and forward from a
lot, through the API."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.core.trace.trace_chain import OIL_LINK, OIL_URN, build_chain, scan
from tracemark.models.base import utcnow
from tracemark.reporting import rollups

STATS = "/api/v1/brands/{slug}/stats/scans"
UNIT = "/api/v1/brands/{slug}/trace/units/{serial}"
LOTS = "/api/v1/brands/{slug}/trace/lots"


@pytest.fixture
def chain(db, tenant):
    return build_chain(db.sessions, tenant.demo)


def test_scan_statistics_come_from_the_rollups(db, client, tenant, other, chain, conforms):
    with db.sessions.begin() as session:
        for serial, country in zip(chain.units_a[:3], ("ES", "ES", "FR"), strict=True):
            scan(session, tenant.demo.brand.id, serial, country)
    query = {"from": "2026-10-19", "to": "2026-10-21"}
    before = conforms(
        client.get(tenant.url("stats/scans"), headers=tenant.headers("read"), query_string=query),
        STATS,
    )
    assert before["totals"]["scans"] == 0  # not rolled up yet: raw events are never read
    rollups.roll_up(db.sessions, now=utcnow() + dt.timedelta(hours=1))
    body = conforms(
        client.get(tenant.url("stats/scans"), headers=tenant.headers("read"), query_string=query),
        STATS,
    )
    assert (body["from"], body["to"], body["product"]) == ("2026-10-19", "2026-10-21", None)
    assert body["totals"]["scans"] == 3 and body["totals"]["first_scans"] == 3
    assert [(d["day"], d["scans"]) for d in body["by_day"]] == [
        ("2026-10-19", 0),
        ("2026-10-20", 3),
        ("2026-10-21", 0),
    ]
    assert [(c["country"], c["scans"]) for c in body["by_country"]] == [("ES", 2), ("FR", 1)]
    product = client.get(
        tenant.url("stats/scans"),
        headers=tenant.headers(),
        query_string=query | {"product": "09506000134352"},
    )
    assert conforms(product, STATS)["totals"]["scans"] == 3
    # the other brand sees none of it
    theirs = client.get(other.url("stats/scans"), headers=other.headers(), query_string=query)
    assert theirs.get_json()["totals"]["scans"] == 0


def test_default_range_is_the_last_30_days(client, tenant, conforms):
    body = conforms(client.get(tenant.url("stats/scans"), headers=tenant.headers()), STATS)
    start, end = dt.date.fromisoformat(body["from"]), dt.date.fromisoformat(body["to"])
    assert (end - start).days == 29 and len(body["by_day"]) == 30


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-10-10", "to": "2026-10-01"},
        {"from": "2020-01-01", "to": "2026-01-01"},
        {"from": "2000-01-01", "to": "0001-01-01"},  # once a 500: the default overflowed
        {"product": "09506000134353"},
        {"product": "09506000134369"},
    ],
)
def test_bad_statistics_parameters_are_400(client, tenant, conforms, query):
    response = client.get(tenant.url("stats/scans"), headers=tenant.headers(), query_string=query)
    assert response.status_code == 400
    assert conforms(response, STATS)["error"] == "bad_parameter"


def test_a_range_ending_on_the_calendars_first_days_starts_on_its_first(client, tenant, conforms):
    response = client.get(
        tenant.url("stats/scans"), headers=tenant.headers(), query_string={"to": "0001-01-05"}
    )
    body = conforms(response, STATS)
    assert (body["from"], body["to"], len(body["by_day"])) == ("0001-01-01", "0001-01-05", 5)


def test_backward_trace_of_a_unit(client, tenant, chain, conforms):
    response = client.get(
        tenant.url(f"trace/units/{chain.units_a[0]}"), headers=tenant.headers("read")
    )
    body = conforms(response, UNIT)
    assert body["unit_serial"] == chain.units_a[0] and body["batch"]["lot"] == "L2401A"
    assert body["suppliers"] == ["Olivar Coop", "Vidros SA"]
    assert body["operators"] == ["Ana"]
    assert any(x["reason"] == "ALARM_CONDITION" for x in body["excursions"])
    missing = client.get(tenant.url("trace/units/NOSUCHUNIT"), headers=tenant.headers())
    assert missing.status_code == 404 and conforms(missing, UNIT)["error"] == "not_found"


def test_units_of_another_brand_are_not_traced(client, tenant, other, chain):
    response = client.get(other.url(f"trace/units/{chain.units_a[0]}"), headers=other.headers())
    assert response.status_code == 404


@pytest.mark.parametrize("spelling", [OIL_URN, OIL_LINK])
def test_forward_trace_and_recall_impact_of_a_lot(client, tenant, chain, conforms, spelling):
    response = client.get(
        tenant.url("trace/lots"), headers=tenant.headers("read"), query_string={"class": spelling}
    )
    body = conforms(response, LOTS)
    assert body["trace"]["lot"]["lot_number"] == "OIL-9"
    assert sorted(b["batch"]["lot"] for b in body["batches"]) == ["L2401A", "L2402B"]
    assert body["total_units"] == 7
    assert {s["country"] for s in body["shipments"]} == {"ES", "FR"}


def test_a_lot_is_required(client, tenant, conforms):
    for query in ({}, {"class": ""}, {"class": "x" * 301}):
        response = client.get(
            tenant.url("trace/lots"), headers=tenant.headers(), query_string=query
        )
        assert response.status_code == 400
        assert conforms(response, LOTS)["parameter"] == "class"
