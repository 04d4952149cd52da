"""Capturing events through the API (all or nothing, idempotent) and reading them back."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import gtin_under
from tests.core.trace.trace_chain import document, event, sgtin
from tracemark.epcis import documents as epcis
from tracemark.models import TraceEvent
from tracemark.trace import capture

EVENTS = "/api/v1/brands/{slug}/events"
BATCH_EVENTS = "/api/v1/brands/{slug}/batches/{lot}/events"
CLASS = "https://id.gs1.org/01/09506000134352/10/L2401A"


def _events(n: int, step: str = "shipping", day: int = 2) -> list[dict]:
    return [
        event(
            "ObjectEvent",
            f"urn:uuid:e{day}-{i}",
            f"2026-10-{day:02d}T{8 + i % 10:02d}:00:00+02:00",
            action="OBSERVE",
            bizStep=step,
            quantityList=[{"epcClass": CLASS, "quantity": i + 1, "uom": "EA"}],
        )
        for i in range(n)
    ]


def _held(db, brand_id) -> int:
    with db.sessions() as session:
        query = select(func.count()).select_from(TraceEvent).where(TraceEvent.brand_id == brand_id)
        return session.scalar(query)


@pytest.mark.parametrize("shape", ["event", "list", "document"])
def test_capture_is_idempotent_by_event_id(db, client, tenant, conforms, shape):
    events = _events(3)
    body = {"event": events[0], "list": events, "document": document(events)}[shape]
    expected = 1 if shape == "event" else 3
    first = conforms(
        client.post(tenant.url("events"), headers=tenant.headers("capture"), json=body),
        EVENTS,
        "post",
    )
    assert (first["stored"], first["already_held"]) == (expected, 0)
    assert first["stored_event_ids"] == [e["eventID"] for e in events[:expected]]
    again = conforms(
        client.post(tenant.url("events"), headers=tenant.headers("capture"), json=body),
        EVENTS,
        "post",
    )
    assert (again["stored"], again["already_held"]) == (0, expected)
    assert _held(db, tenant.demo.brand.id) == expected


def test_ld_json_is_accepted(client, tenant):
    response = client.post(
        tenant.url("events"),
        headers=tenant.headers(),
        data=json.dumps(document(_events(1))),
        content_type="application/ld+json",
    )
    assert response.status_code == 200 and response.get_json()["stored"] == 1


def test_one_bad_event_stores_nothing_and_names_its_path(db, client, tenant, conforms):
    events = _events(5)
    events[3]["eventTime"] = "yesterday"
    response = client.post(tenant.url("events"), headers=tenant.headers(), json=document(events))
    assert response.status_code == 422
    body = conforms(response, EVENTS, "post")
    assert body["error"] == "schema_violation"
    assert body["path"] == "$.epcisBody.eventList[3].eventTime"
    assert _held(db, tenant.demo.brand.id) == 0
    listed = client.post(tenant.url("events"), headers=tenant.headers(), json=events)
    assert listed.get_json()["path"] == "$[3].eventTime"
    assert _held(db, tenant.demo.brand.id) == 0


def test_events_of_another_brand_stay_apart(client, tenant, other):
    client.post(tenant.url("events"), headers=tenant.headers(), json=_events(2))
    # the same eventIDs are the other brand's own events, stored for it
    again = client.post(other.url("events"), headers=other.headers(), json=_events(2))
    assert again.get_json()["stored"] == 2
    mine = client.get(tenant.url("events"), headers=tenant.headers()).get_json()["events"]
    assert len(mine) == 2


def test_query_filters_and_pages_by_event_time(client, tenant, conforms):
    client.post(tenant.url("events"), headers=tenant.headers(), json=_events(7, day=3))
    client.post(tenant.url("events"), headers=tenant.headers(), json=_events(2, "receiving", day=1))
    seen, cursor = [], None
    while True:
        query = {"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping", "limit": 3}
        if cursor:
            query["cursor"] = cursor
        page = conforms(
            client.get(tenant.url("events"), headers=tenant.headers("read"), query_string=query),
            EVENTS,
        )
        seen += page["events"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and {e["bizStep"] for e in seen} == {"shipping"}
    times = [epcis._time(e["eventTime"], "$") for e in seen]
    assert times == sorted(times)
    window = client.get(
        tenant.url("events"),
        headers=tenant.headers(),
        query_string={
            "GE_eventTime": "2026-10-03T09:00:00+02:00",
            "LT_eventTime": "2026-10-03T11:00:00+02:00",
        },
    ).get_json()["events"]
    assert [e["eventID"] for e in window] == ["urn:uuid:e3-1", "urn:uuid:e3-2"]
    by_class = client.get(
        tenant.url("events"),
        headers=tenant.headers(),
        query_string={"MATCH_epcClass": "urn:epc:class:lgtin:9506000.013435.L2401A"},
    ).get_json()["events"]
    assert len(by_class) == 9
    # MATCH_epc looks at instance lists only (epcList, childEPCs), as EPCIS defines it
    by_instance = client.get(
        tenant.url("events"),
        headers=tenant.headers(),
        query_string={"MATCH_epc": "urn:epc:class:lgtin:9506000.013435.L2401A"},
    ).get_json()["events"]
    assert by_instance == []


def test_epcis_clients_get_query_documents_and_follow_the_next_link(client, tenant, conforms):
    client.post(tenant.url("events"), headers=tenant.headers(), json=_events(5, day=3))
    client.post(tenant.url("events"), headers=tenant.headers(), json=_events(2, "receiving", day=1))
    headers = tenant.headers("read") | {"Accept": "application/ld+json"}
    address = tenant.url("events") + "?EQ_bizStep=shipping&limit=2"
    seen, pages = [], 0
    while address:
        response = client.get(address, headers=headers)
        assert response.status_code == 200 and response.mimetype == "application/ld+json"
        body = conforms(response, EVENTS)
        assert body["type"] == "EPCISQueryDocument"
        results = body["epcisBody"]["queryResults"]
        assert results["queryName"] == "SimpleEventQuery"
        seen += results["resultsBody"]["eventList"]
        pages += 1
        link = response.headers.get("Link")
        address = link and re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1)
    assert pages == 3
    assert [e["eventID"] for e in seen] == [f"urn:uuid:e3-{i}" for i in range(5)]
    # what a query gives, a capture takes back
    assert epcis.validate_document(epcis.document(seen, dt.datetime.now(dt.UTC)))
    # plain JSON stays the default, for any other Accept
    for accept in (None, "*/*", "application/json"):
        plain = client.get(
            tenant.url("events"),
            headers=tenant.headers() | ({"Accept": accept} if accept else {}),
        )
        assert plain.mimetype == "application/json" and "Link" not in plain.headers
        assert len(conforms(plain, EVENTS)["events"]) == 7


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "99999999999999999999"},
        {"limit": "x"},
        {"cursor": "not-a-cursor"},
        {"GE_eventTime": "2026-10-01"},
        {"GE_eventTime": "0001-01-01T00:00:00+14:00"},
        {"EQ_bizStep": ""},
        {"MATCH_epc": "x" * 301},
    ],
)
def test_bad_query_parameters_are_400(client, tenant, conforms, query):
    response = client.get(tenant.url("events"), headers=tenant.headers(), query_string=query)
    assert response.status_code == 400
    body = conforms(response, EVENTS)
    assert body["error"] == "bad_parameter" and body["parameter"] == next(iter(query))


def test_batch_events_are_an_epcis_document_in_event_time_order(client, tenant, conforms):
    client.post(tenant.url("events"), headers=tenant.headers(), json=list(reversed(_events(4))))
    response = client.get(tenant.url("batches/L2401A/events"), headers=tenant.headers("read"))
    body = conforms(response, BATCH_EVENTS)
    assert body["type"] == "EPCISDocument"
    ids = [e["eventID"] for e in body["epcisBody"]["eventList"]]
    assert ids == [f"urn:uuid:e2-{i}" for i in range(4)]
    assert epcis.validate_document(body)  # what we export, we accept
    missing = client.get(tenant.url("batches/NOPE/events"), headers=tenant.headers())
    assert missing.status_code == 404 and conforms(missing, BATCH_EVENTS)["error"] == "not_found"


def test_an_ambiguous_lot_needs_the_gtin(db, client, tenant, conforms):
    from tracemark import catalog

    with db.sessions.begin() as session:
        brand = session.merge(tenant.demo.brand)
        product = catalog.create_product(
            session, brand, gtin_under(tenant.demo.prefix, 2), "Olive oil 5 l"
        )
        catalog.create_batch(session, product, "L2401A")
    response = client.get(tenant.url("batches/L2401A/events"), headers=tenant.headers())
    assert response.status_code == 409
    assert conforms(response, BATCH_EVENTS)["error"] == "ambiguous_lot"
    chosen = client.get(
        tenant.url("batches/L2401A/events"),
        headers=tenant.headers(),
        query_string={"gtin": gtin_under(tenant.demo.prefix, 2)},
    )
    assert chosen.status_code == 200


def test_units_named_by_serial_are_found(client, tenant):
    unit = event(
        "ObjectEvent",
        "urn:uuid:u1",
        "2026-10-02T08:00:00Z",
        action="OBSERVE",
        bizStep="inspecting",
        epcList=[sgtin("ABC")],
    )
    assert client.post(tenant.url("events"), headers=tenant.headers(), json=unit).status_code == 200
    found = client.get(
        tenant.url("events"), headers=tenant.headers(), query_string={"MATCH_epc": sgtin("ABC")}
    )
    assert [e["eventID"] for e in found.get_json()["events"]] == ["urn:uuid:u1"]


def test_a_document_resent_while_its_first_capture_runs_is_found_held(db, app, tenant, monkeypatch):
    """Two clients post the same document at once: both read that the brand holds none
    of its events before either has stored them, both insert, and the second insert
    meets the first one's rows in the unique index. That client must still get a 2xx
    (capture looks again and finds the events held), never a 500."""
    events = _events(3)
    body = document(events)
    both_checked = threading.Barrier(2, timeout=30)
    checked = threading.local()
    held = capture._held

    def held_then_wait(session, brand_id, ids):
        found = held(session, brand_id, ids)
        if not getattr(checked, "once", False):  # the first look of each capture
            checked.once = True
            both_checked.wait()
        return found

    monkeypatch.setattr(capture, "_held", held_then_wait)
    answers: list = []

    def post() -> None:
        try:
            response = app.test_client().post(
                tenant.url("events"), headers=tenant.headers("capture"), json=body
            )
            answers.append((response.status_code, response.get_json()))
        except Exception as exc:  # a 500 that the test app raises instead of rendering
            answers.append((500, repr(exc)))

    clients = [threading.Thread(target=post) for _ in range(2)]
    for client_thread in clients:
        client_thread.start()
    for client_thread in clients:
        client_thread.join(60)
    assert [status for status, _ in answers] == [200, 200], answers
    counts = sorted((answer["stored"], answer["already_held"]) for _, answer in answers)
    assert counts == [(0, 3), (3, 0)]
    assert _held(db, tenant.demo.brand.id) == 3


def test_a_reused_event_id_is_409_and_an_error_declaration_is_counted(client, tenant, conforms):
    (sent,) = _events(1)
    url, headers = tenant.url("events"), tenant.headers("capture")
    conforms(client.post(url, headers=headers, json=sent), EVENTS, "post")
    changed = sent | {"bizStep": "receiving"}
    refused = client.post(url, headers=headers, json=changed)
    assert refused.status_code == 409
    assert conforms(refused, EVENTS, "post")["error"] == "event_id_conflict"
    declared = sent | {"errorDeclaration": {"declarationTime": "2026-10-03T00:00:00Z"}}
    answer = conforms(client.post(url, headers=headers, json=declared), EVENTS, "post")
    assert (answer["declared_in_error"], answer["declared_event_ids"]) == (1, [sent["eventID"]])
