"""Named queries and subscriptions through the integration API, checked against the
OpenAPI document; a capture through the API then reports to the subscription."""

from __future__ import annotations

from sqlalchemy import select

from tests.core.trace.trace_chain import event
from tracemark.models import AuditLog, OutboxMessage

QUERIES = "/api/v1/brands/{slug}/queries"
QUERY = "/api/v1/brands/{slug}/queries/{name}"
SUBSCRIPTIONS = "/api/v1/brands/{slug}/queries/{name}/subscriptions"
SUBSCRIPTION = "/api/v1/brands/{slug}/queries/{name}/subscriptions/{subscription_id}"
RUN = "/api/v1/brands/{slug}/queries/{name}/events"
HOOK = "https://erp.example/epcis"


def _shipping(event_id: str, step: str = "shipping") -> dict:
    return event("ObjectEvent", event_id, "2026-10-02T09:00:00+02:00", action="OBSERVE",
                 bizStep=step, epcList=["urn:epc:id:sscc:0614141.1234567890"])  # fmt: skip


def _save(client, tenant, conforms, name="shipped", query=None):
    response = client.post(
        tenant.url("queries"),
        headers=tenant.headers("read"),
        json={"name": name, "query": query or {"EQ_bizStep": "shipping"}},
    )
    assert response.status_code == 201, response.get_json()
    return conforms(response, QUERIES, "post")


def _subscribe(client, tenant, conforms, name="shipped", **body):
    response = client.post(
        tenant.url(f"queries/{name}/subscriptions"),
        headers=tenant.headers("read"),
        json={"dest": HOOK} | body,
    )
    assert response.status_code == 201, response.get_json()
    return conforms(response, SUBSCRIPTIONS, "post")


def _outbox(db, brand_id):
    with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def test_a_saved_query_and_its_subscription_report_a_captured_event(
    client, db, tenant, other, conforms
):
    saved = _save(client, tenant, conforms)
    assert saved["name"] == "shipped" and saved["query"] == {"EQ_bizStep": ["shipping"]}
    subscription = _subscribe(client, tenant, conforms)
    assert subscription["dest"] == HOOK and len(subscription["signatureToken"]) == 64
    listed = client.get(tenant.url("queries/shipped/subscriptions"), headers=tenant.headers())
    (shown,) = conforms(listed, SUBSCRIPTIONS)["subscriptions"]
    assert (
        "signatureToken" not in shown and shown["subscriptionID"] == subscription["subscriptionID"]
    )
    assert (
        conforms(client.get(tenant.url("queries"), headers=tenant.headers()), QUERIES)["queries"][
            0
        ]["subscriptions"]
        == 1
    )
    # another brand's capture, and this brand's non-matching one: nothing
    for who, event_id, step in (
        (other, "urn:uuid:o", "shipping"),
        (tenant, "urn:uuid:p", "packing"),
    ):
        response = client.post(
            who.url("events"), headers=who.headers(), json=_shipping(event_id, step)
        )
        assert response.status_code == 200
    assert _outbox(db, tenant.demo.brand.id) == []
    response = client.post(
        tenant.url("events"), headers=tenant.headers(), json=_shipping("urn:uuid:s")
    )
    assert response.status_code == 200
    (message,) = _outbox(db, tenant.demo.brand.id)
    results = message.payload["epcisBody"]["queryResults"]
    assert message.recipient == HOOK and results["subscriptionID"] == subscription["subscriptionID"]
    assert [e["eventID"] for e in results["resultsBody"]["eventList"]] == ["urn:uuid:s"]
    with db.sessions() as session:
        actors = session.scalars(
            select(AuditLog.actor).where(AuditLog.action.in_(("query.save", "query.subscribe")),
                                         AuditLog.brand_id == tenant.demo.brand.id)
        ).all()  # fmt: skip
    assert len(actors) == 2 and all(a.startswith("token:") for a in actors)


def test_bad_queries_and_webhooks_are_refused(client, tenant, conforms):
    url, headers = tenant.url("queries"), tenant.headers("read")
    unknown = client.post(url, headers=headers, json={"name": "q", "query": {"EQ_colour": "red"}})
    assert unknown.status_code == 400
    assert conforms(unknown, QUERIES, "post")["error"] == "unknown_parameter"
    for layout in ({"perPage": "5"}, {"orderDirection": "DESC"}, {"eventCountLimit": "3"}):
        paging = client.post(url, headers=headers, json={"name": "q", "query": layout})
        assert paging.status_code == 400
    quantities = {"name": "big", "query": {"GE_quantity": "10", "EQ_bizStep": "shipping"}}
    assert client.post(url, headers=headers, json=quantities).status_code == 201
    saved = client.get(tenant.url("queries/big"), headers=headers).get_json()
    assert saved["query"] == {"GE_quantity": ["10"], "EQ_bizStep": ["shipping"]}
    bad_name = client.post(url, headers=headers, json={"name": "a b", "query": {}})
    assert bad_name.status_code == 422
    _save(client, tenant, conforms, "q")
    again = client.post(url, headers=headers, json={"name": "q", "query": {}})
    assert again.status_code == 409 and conforms(again, QUERIES, "post")["error"] == "query_exists"
    subscriptions = tenant.url("queries/q/subscriptions")
    for dest in ("http://erp.example/x", "https://127.0.0.1/x", "https://192.168.1.2/x"):
        refused = client.post(subscriptions, headers=headers, json={"dest": dest})
        assert refused.status_code == 422, dest
        assert conforms(refused, SUBSCRIPTIONS, "post")["error"] == "bad_dest"
    for body in ({"dest": HOOK, "reportIfEmpty": True}, {"dest": HOOK, "schedule": {}}):
        refused = client.post(subscriptions, headers=headers, json=body)
        assert refused.status_code == 422
        assert refused.get_json()["error"] == "unsupported_subscription"
    missing = client.post(
        tenant.url("queries/none/subscriptions"), headers=headers, json={"dest": HOOK}
    )
    assert missing.status_code == 404


def test_a_token_without_read_and_another_brand_find_nothing(client, tenant, other, conforms):
    _save(client, tenant, conforms)
    denied = client.get(tenant.url("queries"), headers=tenant.headers("capture"))
    assert denied.status_code == 403
    assert client.get(other.url("queries/shipped"), headers=other.headers()).status_code == 404
    assert client.get(tenant.url("queries/shipped"), headers=other.headers()).status_code == 404


def test_unsubscribing_and_deleting_stop_reports(client, db, tenant, conforms):
    _save(client, tenant, conforms)
    subscription = _subscribe(client, tenant, conforms, signatureToken="my-own-secret-token")
    assert "signatureToken" not in subscription
    address = tenant.url(f"queries/shipped/subscriptions/{subscription['subscriptionID']}")
    assert (
        conforms(client.get(address, headers=tenant.headers()), SUBSCRIPTION)["queryName"]
        == "shipped"
    )
    deleted = client.delete(address, headers=tenant.headers())
    assert deleted.status_code == 204
    assert client.get(address, headers=tenant.headers()).status_code == 404
    client.post(tenant.url("events"), headers=tenant.headers(), json=_shipping("urn:uuid:1"))
    assert _outbox(db, tenant.demo.brand.id) == []
    _subscribe(client, tenant, conforms)
    assert client.delete(tenant.url("queries/shipped"), headers=tenant.headers()).status_code == 204
    assert client.get(tenant.url("queries/shipped"), headers=tenant.headers()).status_code == 404
    client.post(tenant.url("events"), headers=tenant.headers(), json=_shipping("urn:uuid:2"))
    assert _outbox(db, tenant.demo.brand.id) == []


def test_a_saved_query_runs_at_its_events_address(client, tenant, conforms):
    for event_id, step in (("urn:uuid:a", "shipping"), ("urn:uuid:b", "packing")):
        client.post(tenant.url("events"), headers=tenant.headers(), json=_shipping(event_id, step))
    _save(client, tenant, conforms)
    url = tenant.url("queries/shipped/events")
    page = conforms(client.get(url, headers=tenant.headers("read")), RUN)
    assert [e["eventID"] for e in page["events"]] == ["urn:uuid:a"]
    ld = client.get(url, headers=tenant.headers() | {"Accept": "application/ld+json"})
    assert ld.get_json()["type"] == "EPCISQueryDocument"
    refused = client.get(url, headers=tenant.headers(), query_string={"EQ_bizStep": "packing"})
    assert refused.status_code == 400
    assert conforms(refused, RUN)["error"] == "unknown_parameter"
