"""EPCIS subscriptions: a captured event matching a subscribed query becomes one signed
outbox message per subscription, and nothing else does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.conftest import make_brand
from tests.core.trace.trace_chain import document, event, sgtin
from tracemark import audit
from tracemark.models import AuditLog, Brand, MessageStatus, OutboxMessage
from tracemark.notify import outbox, webhooks
from tracemark.trace import capture
from tracemark.trace import subscriptions as subs
from tracemark.trace.event_query import EventQuery

ACTOR = audit.Actor("token", label="tm_test", brand_id=None)


@pytest.fixture
def receiver() -> Iterator[tuple[list[tuple[dict[str, str], bytes]], str]]:
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(
                (dict(self.headers.items()), self.rfile.read(int(self.headers["Content-Length"])))
            )
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}/epcis"
    finally:
        server.shutdown()
        server.server_close()


def _shipping(event_id: str, serial: str = "S1", step: str = "shipping") -> dict:
    return event(
        "ObjectEvent", event_id, "2026-10-02T09:00:00+02:00", action="OBSERVE",
        bizStep=step, epcList=[sgtin(serial)],
    )  # fmt: skip


def _subscribe(db, brand_id: int, url: str, name: str = "shipped", **filters):
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, brand_id)
        query = EventQuery(**(filters or {"biz_step": ("shipping",)}))
        saved = subs.save_query(
            session, brand, name, query, {"EQ_bizStep": ["shipping"]}, actor=ACTOR
        )
        subscription = subs.subscribe(
            session, saved, url, actor=ACTOR, allow_http=True, allow_private=True
        )
        return subscription.id, subscription.secret


def _capture(db, brand_id: int, *events: dict) -> None:
    with db.sessions.begin() as session:
        capture.capture_document(session, session.get_one(Brand, brand_id), document(list(events)))


def _messages(db, brand_id: int) -> list[OutboxMessage]:
    with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.brand_id == brand_id)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def _transports() -> outbox.Transports:
    sender = webhooks.WebhookSender(timeout=5, allow_http=True, allow_private=True)
    return outbox.Transports(None, sender, "https://tm.example.com")


def test_a_matching_event_is_one_signed_report_per_subscription(db, demo, receiver):
    received, url = receiver
    first, secret = _subscribe(db, demo.brand.id, url)
    with db.sessions.begin() as session:
        saved = subs.get_query(session, session.get_one(Brand, demo.brand.id), "shipped")
        second = subs.subscribe(session, saved, url + "/2", "a-token-of-my-own-choice", actor=ACTOR,
                                allow_http=True, allow_private=True).id  # fmt: skip
    _capture(
        db, demo.brand.id, _shipping("urn:uuid:ship-1"), _shipping("urn:uuid:pack", step="packing")
    )
    messages = _messages(db, demo.brand.id)
    assert [m.recipient for m in messages] == [url, url + "/2"]
    for message, subscription in zip(messages, (first, second), strict=True):
        results = message.payload["epcisBody"]["queryResults"]
        assert message.payload["type"] == "EPCISQueryDocument"
        assert results["queryName"] == "shipped"
        assert results["subscriptionID"] == str(subscription)
        assert [e["eventID"] for e in results["resultsBody"]["eventList"]] == ["urn:uuid:ship-1"]
    assert outbox.deliver(db.sessions, _transports(), "w1").sent == 2
    signed = {}
    for headers, body in received:
        sent = json.loads(body)
        signed[sent["epcisBody"]["queryResults"]["subscriptionID"]] = (headers, body)
    h1, b1 = signed[str(first)]
    assert webhooks.verify(secret, h1["Tracemark-Signature"], b1)
    assert not webhooks.verify("a-token-of-my-own-choice", h1["Tracemark-Signature"], b1)
    assert h1["Idempotency-Key"] == messages[0].dedupe_key
    h2, b2 = signed[str(second)]
    assert webhooks.verify("a-token-of-my-own-choice", h2["Tracemark-Signature"], b2)
    assert json.loads(b1) == messages[0].payload


def test_no_report_for_events_the_query_does_not_match_or_another_brand_captures(db, demo):
    _subscribe(db, demo.brand.id, "https://erp.example/hook")
    _capture(db, demo.brand.id, _shipping("urn:uuid:pack", step="packing"))
    other = make_brand(db.sessions)
    _capture(db, other.brand.id, _shipping("urn:uuid:ship-other"))
    assert _messages(db, demo.brand.id) == []
    assert _messages(db, other.brand.id) == []


def test_an_event_held_already_is_not_reported_again(db, demo):
    _subscribe(db, demo.brand.id, "https://erp.example/hook")
    _capture(db, demo.brand.id, _shipping("urn:uuid:ship-1"))
    _capture(db, demo.brand.id, _shipping("urn:uuid:ship-1"))
    assert len(_messages(db, demo.brand.id)) == 1


def test_identifier_filters_match_as_the_query_api_does(db, demo):
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        pattern = "urn:epc:idpat:sgtin:9506000.013435.*"
        query = EventQuery(matches=(("epc", (pattern,)),))
        saved = subs.save_query(
            session, brand, "units", query, {"MATCH_epc": [pattern]}, actor=ACTOR
        )
        subs.subscribe(session, saved, "https://erp.example/hook", actor=ACTOR)
    _capture(db, demo.brand.id, _shipping("urn:uuid:a", "S1"), event(
        "ObjectEvent", "urn:uuid:b", "2026-10-02T08:00:00+02:00", action="OBSERVE",
        epcList=["urn:epc:id:sscc:0614141.1234567890"],
    ))  # fmt: skip
    (message,) = _messages(db, demo.brand.id)
    events = message.payload["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in events] == ["urn:uuid:a"]


@pytest.mark.parametrize(
    "url",
    [
        "http://erp.example/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/x",
        "ftp://x",
        "",
        # the forms a rule's webhook is refused in (tests/core/notify/test_webhook_addresses)
        "https://2130706433/x",
        "https://127.1/x",
        "https://[::127.0.0.1]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[2002:7f00:1::1]/x",
    ],
)
def test_a_webhook_a_rule_could_not_call_is_refused(db, demo, url):
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        saved = subs.save_query(session, brand, "q", EventQuery(), {}, actor=ACTOR)
        with pytest.raises(subs.SubscriptionError) as refused:
            subs.subscribe(session, saved, url, actor=ACTOR)
    assert refused.value.code == "bad_dest"


def test_names_are_unique_per_brand_and_secrets_checked(db, demo):
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        saved = subs.save_query(session, brand, "q", EventQuery(), {}, actor=ACTOR)
        with pytest.raises(subs.SubscriptionError) as taken:
            subs.save_query(session, brand, "q", EventQuery(), {}, actor=ACTOR)
        assert taken.value.code == "query_exists"
        with pytest.raises(subs.SubscriptionError) as bad:
            subs.save_query(session, brand, "no spaces", EventQuery(), {}, actor=ACTOR)
        assert bad.value.code == "bad_name"
        with pytest.raises(subs.SubscriptionError) as short:
            subs.subscribe(session, saved, "https://erp.example/h", "short", actor=ACTOR)
        assert short.value.code == "bad_secret"
    other = make_brand(db.sessions)
    with db.sessions.begin() as session:  # another brand may use the name
        subs.save_query(session, session.get_one(Brand, other.brand.id), "q", EventQuery(), {},
                        actor=ACTOR)  # fmt: skip


def test_unsubscribing_stops_delivery_and_is_audited(db, demo, receiver):
    received, url = receiver
    subscription_id, _secret = _subscribe(db, demo.brand.id, url)
    _capture(db, demo.brand.id, _shipping("urn:uuid:ship-1"))  # pending, not yet sent
    with db.sessions.begin() as session:
        saved = subs.get_query(session, session.get_one(Brand, demo.brand.id), "shipped")
        subs.unsubscribe(
            session, subs.get_subscription(session, saved, subscription_id), actor=ACTOR
        )
    _capture(db, demo.brand.id, _shipping("urn:uuid:ship-2"))
    (message,) = _messages(db, demo.brand.id)
    assert outbox.deliver(db.sessions, _transports(), "w1").dead == 1
    assert received == []
    with db.sessions() as session:
        assert session.get_one(OutboxMessage, message.id).status is MessageStatus.DEAD
        ours = AuditLog.brand_id == demo.brand.id, AuditLog.action.like("query.%")
        entries = session.scalars(select(AuditLog).where(*ours).order_by(AuditLog.id)).all()
    assert [e.action for e in entries] == ["query.save", "query.subscribe", "query.unsubscribe"]
    assert {e.actor for e in entries} == {"token:tm_test"}
    assert all("secret" not in json.dumps(e.details) for e in entries)


def test_deleting_a_query_ends_its_subscriptions(db, demo):
    _subscribe(db, demo.brand.id, "https://erp.example/hook")
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        subs.delete_query(session, subs.get_query(session, brand, "shipped"), actor=ACTOR)
    with db.sessions() as session:
        assert subs.active(session, demo.brand.id) == []
    _capture(db, demo.brand.id, _shipping("urn:uuid:ship-1"))
    assert _messages(db, demo.brand.id) == []


def test_a_large_capture_is_reported_in_several_messages(db, demo, monkeypatch):
    monkeypatch.setattr(subs, "MAX_EVENTS", 2)
    _subscribe(db, demo.brand.id, "https://erp.example/hook")
    _capture(db, demo.brand.id, *(_shipping(f"urn:uuid:s{i}", f"S{i}") for i in range(5)))
    messages = _messages(db, demo.brand.id)
    sizes = [
        len(m.payload["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) for m in messages
    ]
    assert sizes == [2, 2, 1]
    assert len({m.dedupe_key for m in messages}) == 3


def test_a_saved_querys_filters_read_back_as_they_were_saved():
    import datetime as dt

    query = EventQuery(
        event_type=("ObjectEvent",),
        biz_step=("shipping",),
        matches=(("any", ("urn:epc:id:sscc:0614141.1234567890",)),),
        since=dt.datetime(2026, 10, 1, tzinfo=dt.UTC),
        quantities=(("GE", 10.0), ("LT", 12.5)),
    )
    assert subs.query_from_json(json.loads(json.dumps(subs.query_to_json(query)))) == query
