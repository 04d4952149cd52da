"""Named EPCIS queries and their subscriptions (EPCIS 2.0 REST binding: ``/queries``,
``/queries/{name}/subscriptions``): new events a capture stores that match a subscribed
query are sent, signed, to its webhook (see :mod:`tracemark.trace.subscriptions`).

Every call takes the ``read`` scope (a subscription reads events, delivered later).
Each change is audited by the core operation, naming the token.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.datastructures import MultiDict

from api.access import (
    ApiError,
    bp,
    budget_key,
    made,
    not_found,
    query_parameter_exception,
    requires,
)
from api.access import token as current_token
from api.bodies import body_of
from api.events import PAGING, answer, query_of
from tracemark import errors
from tracemark.audit import Actor
from tracemark.models import QuerySubscription, SavedQuery
from tracemark.models.base import as_utc
from tracemark.trace import subscriptions as subs
from tracemark.web import db_session, rate_limited, settings


def _query_json(saved: SavedQuery) -> dict:
    return {
        "name": saved.name,
        "query": saved.params,
        "subscriptions": len(saved.subscriptions),
        "created_at": as_utc(saved.created_at).isoformat(),
    }


def _subscription_json(subscription: QuerySubscription) -> dict:
    return {
        "subscriptionID": str(subscription.id),
        "queryName": subscription.query.name,
        "dest": subscription.dest,
        "stream": True,
        "reportIfEmpty": False,
        "created_at": as_utc(subscription.created_at).isoformat(),
    }


def _refused(error: subs.SubscriptionError) -> ApiError:
    status = 409 if error.code == "query_exists" else 422
    return ApiError(status, error.code, str(error), path=f"$.{error.field}")


def _saved(name: str) -> SavedQuery:
    try:
        return subs.get_query(db_session(), current_token().brand, name)
    except errors.NotFound:
        raise not_found() from None


@bp.get("/brands/<slug>/queries")
@rate_limited("api", key=budget_key)
@requires("read")
def list_queries(slug: str):
    found = subs.list_queries(db_session(), current_token().brand)
    return jsonify(queries=[_query_json(saved) for saved in found])


@bp.post("/brands/<slug>/queries")
@rate_limited("api", key=budget_key)
@requires("read")
def save_query(slug: str):
    """Save a SimpleEventQuery under a name: 201 with it. Its parameters are those of
    ``GET events`` (bad ones are a ``QueryParameterException``), without paging."""
    body = body_of("NewQuery")
    params = {
        name: value if isinstance(value, list) else [value] for name, value in body["query"].items()
    }
    for name in params:
        if name in PAGING:
            raise query_parameter_exception(
                name, f"{name} lays out an answer: a saved query has none", code="unknown_parameter"
            )
    query, _layout = query_of(MultiDict(list(_pairs(params))))
    session = db_session()
    try:
        saved = subs.save_query(
            session, current_token().brand, body["name"], query, params,
            actor=Actor.of_token(current_token()),
        )  # fmt: skip
    except subs.SubscriptionError as error:
        raise _refused(error) from None
    return made(session, _query_json(saved), location=f"/api/v1/brands/{slug}/queries/{saved.name}")


def _pairs(params: dict[str, list[str]]):
    for name, values in params.items():
        for value in values:
            yield name, value


@bp.get("/brands/<slug>/queries/<name>")
@rate_limited("api", key=budget_key)
@requires("read")
def get_query(slug: str, name: str):
    return jsonify(_query_json(_saved(name)))


@bp.get("/brands/<slug>/queries/<name>/events")
@rate_limited("api", key=budget_key)
@requires("read")
def query_events(slug: str, name: str):
    """The saved query's events, as ``GET events`` answers them; only layout parameters
    are taken (paging, ``orderBy``, ``orderDirection``, ``eventCountLimit``)."""
    saved = _saved(name)
    for parameter in request.args:
        if parameter not in PAGING:
            raise query_parameter_exception(
                parameter,
                f"{parameter}: a saved query's filters are its own; only paging is taken",
                code="unknown_parameter",
            )
    _query, layout = query_of(request.args)
    return answer(subs.query_from_json(saved.filters), layout)


@bp.delete("/brands/<slug>/queries/<name>")
@rate_limited("api", key=budget_key)
@requires("read")
def delete_query(slug: str, name: str):
    """Delete the query and its subscriptions (their reports not yet sent are not sent)."""
    session = db_session()
    subs.delete_query(session, _saved(name), actor=Actor.of_token(current_token()))
    session.commit()
    return "", 204


@bp.get("/brands/<slug>/queries/<name>/subscriptions")
@rate_limited("api", key=budget_key)
@requires("read")
def list_subscriptions(slug: str, name: str):
    saved = _saved(name)
    return jsonify(subscriptions=[_subscription_json(s) for s in saved.subscriptions])


@bp.post("/brands/<slug>/queries/<name>/subscriptions")
@rate_limited("api", key=budget_key)
@requires("read")
def subscribe(slug: str, name: str):
    """Send the query's new events to ``dest``: 201 with the subscription and, when the
    client gave no ``signatureToken``, the one made for it (shown only here)."""
    body = body_of("NewSubscription")
    saved = _saved(name)
    if body.get("reportIfEmpty") or body.get("stream") is False or "schedule" in body:
        raise ApiError(
            422, "unsupported_subscription",
            "subscriptions report the events of each capture as they are stored (stream):"
            " there is no schedule, and no empty report",
            path="$",
        )  # fmt: skip
    session = db_session()
    current = settings()
    try:
        subscription = subs.subscribe(
            session, saved, body.get("dest"), body.get("signatureToken"),
            actor=Actor.of_token(current_token()),
            allow_http=current.webhook_allow_http, allow_private=current.webhook_allow_private,
        )  # fmt: skip
    except subs.SubscriptionError as error:
        raise _refused(error) from None
    answer = _subscription_json(subscription)
    if "signatureToken" not in body:
        answer["signatureToken"] = subscription.secret
    location = f"/api/v1/brands/{slug}/queries/{saved.name}/subscriptions/{subscription.id}"
    return made(session, answer, location=location)


def _subscription(name: str, subscription_id: int) -> QuerySubscription:
    try:
        return subs.get_subscription(db_session(), _saved(name), subscription_id)
    except errors.NotFound:
        raise not_found() from None


@bp.get("/brands/<slug>/queries/<name>/subscriptions/<id:subscription_id>")
@rate_limited("api", key=budget_key)
@requires("read")
def get_subscription(slug: str, name: str, subscription_id: int):
    return jsonify(_subscription_json(_subscription(name, subscription_id)))


@bp.delete("/brands/<slug>/queries/<name>/subscriptions/<id:subscription_id>")
@rate_limited("api", key=budget_key)
@requires("read")
def unsubscribe(slug: str, name: str, subscription_id: int):
    """Stop the subscription: its reports not yet sent are not sent."""
    session = db_session()
    subs.unsubscribe(
        session, _subscription(name, subscription_id), actor=Actor.of_token(current_token())
    )
    session.commit()
    return "", 204
