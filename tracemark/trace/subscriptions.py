"""Named EPCIS queries and subscriptions to them (EPCIS 2.0 ``subscribe``, triggered by
capture): events a capture stores that match a subscribed query are sent to the
subscription's webhook.

Delivery goes through the outbox (:mod:`tracemark.notify.outbox`): the messages are
written in the capture's transaction (they exist exactly when the events do), delivered
afterwards at least once, signed like a rule's webhooks (HMAC-SHA256 under the
subscription's secret, ``Idempotency-Key`` the same on every attempt). A message is an
EPCIS query document (``queryName`` the saved query's name, ``subscriptionID`` the
subscription's id) holding the capture's matching events, at most :data:`MAX_EVENTS`
per message. An unsubscribed (or deleted) subscription's pending messages are not sent.

Matching uses the query API's own predicate (:func:`tracemark.trace.event_query.matching`)
restricted to the capture's new events: one query of the brand's subscriptions per
capture, and one per subscribed query when there are any (a brand is expected to have a
handful). Events declared in error at capture are not sent. Only captures trigger a
report: there is no schedule, so an empty report (``reportIfEmpty``) is never sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager

from tracemark import audit
from tracemark.epcis import documents as epcis
from tracemark.errors import NotFound
from tracemark.models import (
    Brand,
    MessageKind,
    MessageStatus,
    OutboxMessage,
    QuerySubscription,
    SavedQuery,
    TraceEvent,
)
from tracemark.models.base import utcnow
from tracemark.notify import webhooks
from tracemark.trace import events as trace
from tracemark.trace.event_query import EventQuery, matching

#: Events one webhook message carries at most (a larger capture sends several).
MAX_EVENTS = 500
MAX_QUERIES = 100
MAX_SUBSCRIPTIONS = 20
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
#: A client-chosen signing secret (``signatureToken``): printable ASCII, no spaces.
SECRET = re.compile(r"^[!-~]{16,64}$")


class SubscriptionError(ValueError):
    """An input refused, with a stable code and the field it is about."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field = code, field


def query_to_json(query: EventQuery) -> dict[str, Any]:
    """``query`` as JSON (times in ISO 8601), read back by :func:`query_from_json`."""
    out: dict[str, Any] = {}
    for name in ("event_type", "action", "biz_step", "disposition", "read_point",
                 "biz_location", "event_id"):  # fmt: skip
        if getattr(query, name):
            out[name] = list(getattr(query, name))
    if query.matches:
        out["matches"] = [[role, list(values)] for role, values in query.matches]
    if query.quantities:
        out["quantities"] = [[op, value] for op, value in query.quantities]
    for name in ("since", "until", "recorded_since", "recorded_until"):
        value = getattr(query, name)
        if value is not None:
            out[name] = value.astimezone(dt.UTC).isoformat()
    return out


def query_from_json(data: dict[str, Any]) -> EventQuery:
    values: dict[str, Any] = {}
    for name, value in data.items():
        if name == "matches":
            values[name] = tuple((role, tuple(items)) for role, items in value)
        elif name == "quantities":
            values[name] = tuple((op, float(number)) for op, number in value)
        elif name in ("since", "until", "recorded_since", "recorded_until"):
            values[name] = dt.datetime.fromisoformat(value)
        else:
            values[name] = tuple(value)
    return EventQuery(**values)


def get_query(session: Session, brand: Brand, name: str) -> SavedQuery:
    """:raises NotFound: the brand has no query of this name."""
    found = session.scalar(
        select(SavedQuery).where(SavedQuery.brand_id == brand.id, SavedQuery.name == name)
    )
    if found is None:
        raise NotFound()
    return found


def list_queries(session: Session, brand: Brand) -> list[SavedQuery]:
    query = select(SavedQuery).where(SavedQuery.brand_id == brand.id).order_by(SavedQuery.name)
    return list(session.scalars(query))


def save_query(
    session: Session,
    brand: Brand,
    name: str,
    query: EventQuery,
    params: dict[str, list[str]],
    *,
    actor: audit.Actor,
) -> SavedQuery:
    """Save ``query`` (parsed from ``params``) under ``name``; audited as ``query.save``.

    :raises SubscriptionError: a bad name (``bad_name``), a name taken (``query_exists``:
        a saved query is deleted and saved again, as its subscriptions rely on it), or
        too many queries (``too_many``).
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise SubscriptionError(
            "bad_name", "name", "a query name is 1 to 100 letters, digits, '.', '_' or '-'"
        )
    existing = list_queries(session, brand)
    if any(saved.name == name for saved in existing):
        raise SubscriptionError("query_exists", "name", f"the brand has a query named {name}")
    if len(existing) >= MAX_QUERIES:
        raise SubscriptionError("too_many", "name", f"a brand saves at most {MAX_QUERIES} queries")
    saved = SavedQuery(brand_id=brand.id, name=name, params=params, filters=query_to_json(query))
    session.add(saved)
    session.flush()
    audit.log(session, actor, "query.save", "saved_query", saved.id,
              {"name": name, "params": params}, brand_id=brand.id)  # fmt: skip
    return saved


def delete_query(session: Session, saved: SavedQuery, *, actor: audit.Actor) -> None:
    """Delete a saved query and its subscriptions; audited as ``query.delete``."""
    details = {"name": saved.name, "subscriptions": [s.id for s in saved.subscriptions]}
    audit.log(session, actor, "query.delete", "saved_query", saved.id, details,
              brand_id=saved.brand_id)  # fmt: skip
    session.delete(saved)
    session.flush()


def subscribe(
    session: Session,
    saved: SavedQuery,
    dest: object,
    secret: object = None,
    *,
    actor: audit.Actor,
    allow_http: bool = False,
    allow_private: bool = False,
) -> QuerySubscription:
    """Send the new events matching ``saved`` to the webhook ``dest``, signed with
    ``secret`` (one is made when None); audited as ``query.subscribe`` (without the secret).

    :raises SubscriptionError: ``bad_dest`` (the check of :func:`webhooks.check_url`),
        ``bad_secret``, ``too_many``.
    """
    try:
        url = webhooks.check_url(dest, allow_http=allow_http, allow_private=allow_private)
    except ValueError as error:
        raise SubscriptionError("bad_dest", "dest", str(error)) from None
    if secret is None:
        secret = secrets.token_hex(32)
    elif not isinstance(secret, str) or not SECRET.match(secret):
        raise SubscriptionError(
            "bad_secret", "signatureToken",
            "a signatureToken is 16 to 64 printable ASCII characters without spaces",
        )  # fmt: skip
    if len(saved.subscriptions) >= MAX_SUBSCRIPTIONS:
        raise SubscriptionError(
            "too_many", "dest", f"a query has at most {MAX_SUBSCRIPTIONS} subscriptions"
        )
    subscription = QuerySubscription(brand_id=saved.brand_id, query=saved, dest=url, secret=secret)
    session.add(subscription)
    session.flush()
    details = {"query": saved.name, "dest": url}
    audit.log(session, actor, "query.subscribe", "query_subscription", subscription.id,
              details, brand_id=saved.brand_id)  # fmt: skip
    return subscription


def get_subscription(
    session: Session, saved: SavedQuery, subscription_id: int
) -> QuerySubscription:
    """:raises NotFound: no such subscription of this query."""
    found = session.get(QuerySubscription, subscription_id)
    if found is None or found.query_id != saved.id or found.brand_id != saved.brand_id:
        raise NotFound()
    return found


def unsubscribe(session: Session, subscription: QuerySubscription, *, actor: audit.Actor) -> None:
    """Stop the subscription; its messages not yet sent are not sent. Audited as
    ``query.unsubscribe``."""
    details = {"query": subscription.query.name, "dest": subscription.dest}
    audit.log(session, actor, "query.unsubscribe", "query_subscription", subscription.id,
              details, brand_id=subscription.brand_id)  # fmt: skip
    session.delete(subscription)
    session.flush()


def active(session: Session, brand_id: int) -> list[QuerySubscription]:
    """The brand's subscriptions with their queries (one query; capture asks once)."""
    query = (
        select(QuerySubscription)
        .join(SavedQuery, SavedQuery.id == QuerySubscription.query_id)
        .options(contains_eager(QuerySubscription.query))
        .where(QuerySubscription.brand_id == brand_id)
        .order_by(QuerySubscription.id)
    )
    return list(session.scalars(query))


def dedupe_key(subscription_id: int, first_event: int) -> str:
    return hashlib.sha256(
        f"subscription\x00{subscription_id}\x00{first_event}".encode()
    ).hexdigest()


def report(
    session: Session, brand: Brand, found: list[QuerySubscription], event_ids: list[int]
) -> int:
    """Enqueue, for each subscription, the events among ``event_ids`` (just stored) its
    query matches; returns the number of messages. Run inside the capture transaction."""
    if not found or not event_ids:
        return 0
    by_query: dict[int, list[QuerySubscription]] = {}
    for subscription in found:
        by_query.setdefault(subscription.query_id, []).append(subscription)
    sent = 0
    created = utcnow()
    for subscriptions in by_query.values():
        saved = subscriptions[0].query
        statement = (
            matching(brand, query_from_json(saved.filters))
            .where(TraceEvent.id.in_(event_ids), TraceEvent.error_declaration.is_(None))
            .order_by(TraceEvent.event_time, TraceEvent.id)
        )
        events = list(session.scalars(statement))
        for start in range(0, len(events), MAX_EVENTS):
            chunk = events[start : start + MAX_EVENTS]
            body = trace.serialize(session, chunk)
            for subscription in subscriptions:
                document = epcis.query_document(body, created)
                results = document["epcisBody"]["queryResults"]
                results["queryName"] = saved.name
                results["subscriptionID"] = str(subscription.id)
                session.add(
                    OutboxMessage(
                        brand_id=brand.id,
                        firing_id=None,
                        kind=MessageKind.WEBHOOK,
                        dedupe_key=dedupe_key(subscription.id, chunk[0].id),
                        recipient=subscription.dest,
                        payload=document,
                        status=MessageStatus.PENDING,
                        attempts=0,
                        next_attempt_at=created,
                    )
                )
                sent += 1
    if sent:
        session.flush()
    return sent
