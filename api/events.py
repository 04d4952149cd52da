"""EPCIS events: capture (all or nothing, idempotent by eventID) and queries."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from flask import jsonify, request

from api.access import ApiError, bad_parameter, bp, budget_key, json_body, requires, token
from api.production import batch_of
from tracemark.epcis import documents as epcis
from tracemark.models.base import utcnow
from tracemark.trace import capture
from tracemark.trace import events as trace
from tracemark.trace.event_query import DEFAULT_LIMIT, MAX_LIMIT, Cursor, EventQuery, query_events
from tracemark.web import db_session, rate_limited

#: Query parameters of ``GET events`` (EPCIS query names) → :class:`EventQuery` fields.
FILTERS = {
    "eventType": "event_type",
    "EQ_bizStep": "biz_step",
    "EQ_disposition": "disposition",
    "MATCH_epc": "epc",
}
TIMES = {"GE_eventTime": "since", "LT_eventTime": "until"}
MAX_FILTER_LENGTH = 300
LD_JSON = "application/ld+json"


@bp.post("/brands/<slug>/events")
@rate_limited("api", key=budget_key)
@requires("capture")
def capture_events(slug: str):
    """An event, a list of events or an EPCISDocument; all stored or none (422 with the
    failing path). Events the brand holds already (same eventID) are skipped."""
    body = json_body()
    session = db_session()
    brand = token().brand
    try:
        if isinstance(body, dict) and body.get("type") == "EPCISDocument":
            result = capture.capture_document(session, brand, body)
        elif isinstance(body, list):
            result = capture.capture_events(session, brand, body)
        else:
            result = capture.capture_event(session, brand, body)
    except capture.EpcisError as exc:
        session.rollback()
        status = 409 if exc.code == "event_id_conflict" else 422
        raise ApiError(status, exc.code, exc.detail, path=exc.path) from None
    session.commit()
    return jsonify(
        stored=len(result.captured),
        already_held=len(result.duplicates),
        declared_in_error=len(result.declared),
        stored_event_ids=result.captured,
        held_event_ids=result.duplicates,
        declared_event_ids=result.declared,
    )


@bp.get("/brands/<slug>/events")
@rate_limited("api", key=budget_key)
@requires("read")
def query(slug: str):
    """The brand's events matching EPCIS-style filters, by event time, a page at a time."""
    values = {}
    for name, field in FILTERS.items():
        value = request.args.get(name)
        if value is not None:
            if not value or len(value) > MAX_FILTER_LENGTH:
                raise bad_parameter(name, f"{name} has 1 to {MAX_FILTER_LENGTH} characters")
            values[field] = value
    for name, field in TIMES.items():
        value = request.args.get(name)
        if value is not None:
            values[field] = _time(name, value)
    limit = _limit(request.args.get("limit"))
    after = None
    if (cursor := request.args.get("cursor")) is not None:
        try:
            after = Cursor.decode(cursor)
        except ValueError:
            raise bad_parameter("cursor", "cursor is not one this API gave") from None
    session = db_session()
    events, following = query_events(session, token().brand, EventQuery(**values), limit, after)
    serialized = trace.serialize(session, events)
    next_cursor = following.encode() if following is not None else None
    if request.accept_mimetypes.best_match(("application/json", LD_JSON)) != LD_JSON:
        return jsonify(events=serialized, next_cursor=next_cursor)
    # EPCIS 2.0 REST clients: a query document, the next page in a Link header
    response = jsonify(epcis.query_document(serialized, utcnow()))
    response.mimetype = LD_JSON
    if next_cursor is not None:
        args = request.args.to_dict() | {"cursor": next_cursor}
        response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    return response


@bp.get("/brands/<slug>/batches/<path:lot>/events")
@rate_limited("api", key=budget_key)
@requires("read")
def batch_events(slug: str, lot: str):
    """Every event about the batch as an EPCIS 2.0 document, by event time."""
    session = db_session()
    batch = batch_of(lot, request.args.get("gtin"))
    return jsonify(trace.export_batch(session, batch))


def _time(name: str, value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise bad_parameter(name, f"{name} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise bad_parameter(name, f"{name} must carry its offset (Z or ±hh:mm)")
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:
        raise bad_parameter(name, f"{name} is out of range") from None


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit() and len(value) <= 5):
        raise bad_parameter("limit", f"limit is 1 to {MAX_LIMIT}")
    limit = int(value)
    if not 0 < limit <= MAX_LIMIT:
        raise bad_parameter("limit", f"limit is 1 to {MAX_LIMIT}")
    return limit
