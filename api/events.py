"""EPCIS events: capture (all or nothing, idempotent by eventID) and queries."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request

from api.access import (
    ApiError,
    bp,
    budget_key,
    json_body,
    query_parameter_exception,
    raw_body,
    requires,
    token,
)
from api.production import batch_of
from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.epcis import xml as epcis_xml
from tracemark.epcis.schema import EVENT_SCHEMAS
from tracemark.models.base import utcnow
from tracemark.trace import capture
from tracemark.trace import events as trace
from tracemark.trace.event_query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ORDER_COLUMNS,
    QUANTITY_OPS,
    Cursor,
    EventQuery,
    query_events,
)
from tracemark.web import db_session, rate_limited

#: SimpleEventQuery parameters of ``GET events`` → :class:`EventQuery` fields. A value
#: may list several, separated by ``|`` (or the parameter repeated): any matches.
#: ``WD_`` (with descendants) equals ``EQ_``: the brand's locations have no hierarchy.
FILTERS = {
    "eventType": "event_type",
    "EQ_action": "action",
    "EQ_bizStep": "biz_step",
    "EQ_disposition": "disposition",
    "EQ_readPoint": "read_point",
    "WD_readPoint": "read_point",
    "EQ_bizLocation": "biz_location",
    "WD_bizLocation": "biz_location",
    "EQ_eventID": "event_id",
}
#: ``MATCH_`` parameters → the roles of :data:`tracemark.trace.event_query.MATCH_ROLES`.
MATCHES = {
    "MATCH_epc": "epc",
    "MATCH_parentID": "parent",
    "MATCH_inputEPC": "input",
    "MATCH_outputEPC": "output",
    "MATCH_anyEPC": "any",
    "MATCH_epcClass": "epc_class",
    "MATCH_inputEPCClass": "input_class",
    "MATCH_outputEPCClass": "output_class",
    "MATCH_anyEPCClass": "any_class",
}
TIMES = {
    "GE_eventTime": "since",
    "LT_eventTime": "until",
    "GE_recordTime": "recorded_since",
    "LT_recordTime": "recorded_until",
}
#: ``EQ_``/``GT_``/``GE_``/``LT_``/``LE_quantity``: a quantity element's quantity.
QUANTITIES = {f"{op}_quantity": op for op in QUANTITY_OPS}
#: How an answer is laid out, not which events match: page size and continuation (this
#: API's names and the EPCIS REST binding's), order, and a cap on the events answered
#: (``eventCountLimit``: the first N, in one page). A saved query takes none of them.
PAGING = {
    "limit": "limit",
    "perPage": "limit",
    "cursor": "cursor",
    "nextPageToken": "cursor",
    "orderBy": "order_by",
    "orderDirection": "order_direction",
    "eventCountLimit": "count_limit",
}
ORDER_DIRECTIONS = ("ASC", "DESC")
#: Identifier filters are EPC URNs or Digital Links: checked as capture checks them.
IDENTIFIERS = {"read_point", "biz_location"}
CHOICES = {
    "event_type": set(EVENT_SCHEMAS),
    "action": {"ADD", "OBSERVE", "DELETE"},
}
MAX_FILTER_LENGTH = 300
MAX_VALUES = 100
#: ``GS1-CBV-Format`` values and how a bare CBV term is spelt for each.
CBV_FORMATS = ("No_Preference", "Always_Web_URI", "Always_URN", "Never_Translates")
_CBV_SPELLINGS = {
    "Always_URN": {
        "bizStep": "urn:epcglobal:cbv:bizstep:",
        "disposition": "urn:epcglobal:cbv:disp:",
    },
    "Always_Web_URI": {
        "bizStep": "https://ref.gs1.org/cbv/BizStep-",
        "disposition": "https://ref.gs1.org/cbv/Disp-",
    },
}
LD_JSON = "application/ld+json"


@bp.post("/brands/<slug>/events")
@rate_limited("api", key=budget_key)
@requires("capture")
def capture_events(slug: str):
    """An event, a list of events or an EPCISDocument (JSON, or EPCIS XML); all stored or
    none (422 with the failing path). Events the brand holds already (same eventID) are
    skipped."""
    session = db_session()
    brand = token().brand
    try:
        if request.mimetype in epcis_xml.XML_TYPES:  # EPCIS 2.0 (or 1.2) XML
            body: Any = epcis_xml.document_from_xml(raw_body())
        else:
            body = json_body()
        if isinstance(body, dict) and body.get("type") == "EPCISDocument":
            result = capture.capture_document(session, brand, body)
        elif isinstance(body, list):
            result = capture.capture_events(session, brand, body)
        else:
            result = capture.capture_event(session, brand, body)
    except capture.EpcisError as exc:
        session.rollback()
        status = {"event_id_conflict": 409, "malformed_xml": 400}.get(exc.code, 422)
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
    """The brand's events matching EPCIS SimpleEventQuery parameters, by event time, a
    page at a time; a parameter it does not take is a ``QueryParameterException``."""
    query, layout = query_of(request.args)
    return answer(query, layout)


@dataclass(frozen=True)
class Layout:
    """How an answer is laid out (the :data:`PAGING` parameters): page size, the cursor
    continued from and the name the client gives cursors (``cursor`` or
    ``nextPageToken``), order, and whether the answer is one page only
    (``eventCountLimit``)."""

    limit: int = DEFAULT_LIMIT
    after: Cursor | None = None
    paging: str = "cursor"
    order_by: str = "eventTime"
    descending: bool = False
    one_page: bool = False


def answer(query: EventQuery, layout: Layout):
    """One page of the events matching ``query``: this API's JSON, or an EPCIS query
    document with the next page in a ``Link`` header (``Accept: application/ld+json``)."""
    epc_format, cbv_format = _formats()
    session = db_session()
    events, following = query_events(
        session, token().brand, query, layout.limit, layout.after,
        order_by=layout.order_by, descending=layout.descending,
    )  # fmt: skip
    if layout.one_page:
        following = None
    paging = layout.paging
    serialized = _spell_terms(trace.serialize(session, events, epc_format), cbv_format)
    next_cursor = following.encode() if following is not None else None
    if request.accept_mimetypes.best_match(("application/json", LD_JSON)) != LD_JSON:
        response = jsonify(events=serialized, next_cursor=next_cursor)
    else:  # EPCIS 2.0 REST clients: a query document, the next page in a Link header
        response = jsonify(epcis.query_document(serialized, utcnow()))
        response.mimetype = LD_JSON
        if next_cursor is not None:
            args = request.args.to_dict() | {paging: next_cursor}
            response.headers["Link"] = f'<{request.path}?{urlencode(args)}>; rel="next"'
    response.headers["GS1-EPC-Format"] = epc_format
    if cbv_format is not None:
        response.headers["GS1-CBV-Format"] = cbv_format
    return response


def query_of(args) -> tuple[EventQuery, Layout]:
    """The query and the answer's layout from the query string.

    :raises ApiError: a ``QueryParameterException`` for a parameter unknown or unsupported
        (``unknown_parameter``) or a value it does not take (``bad_parameter``).
    """
    values: dict[str, Any] = {}
    matches: list[tuple[str, tuple[str, ...]]] = []
    quantities: list[tuple[str, float]] = []
    layout: dict[str, Any] = {}
    # the next page's address names the cursor as the client names its paging
    paging = "nextPageToken" if "perPage" in args or "nextPageToken" in args else "cursor"
    for name in args:
        given = args.getlist(name)
        if name in FILTERS or name in MATCHES:
            items = tuple(item for value in given for item in value.split("|"))
            if (
                not items
                or len(items) > MAX_VALUES
                or any(not item or len(item) > MAX_FILTER_LENGTH for item in items)
            ):
                raise query_parameter_exception(
                    name,
                    f"{name} has 1 to {MAX_VALUES} values of 1 to {MAX_FILTER_LENGTH}"
                    " characters, separated by |",
                )
            if name in MATCHES or FILTERS[name] in IDENTIFIERS:
                for item in items:
                    try:
                        epcs.parse(item)
                    except epcs.MalformedEpc as exc:
                        raise query_parameter_exception(name, f"{name}: {exc}") from None
            if name in MATCHES:
                matches.append((MATCHES[name], items))
                continue
            field = FILTERS[name]
            allowed = CHOICES.get(field)
            if allowed is not None and not allowed.issuperset(items):
                raise query_parameter_exception(
                    name, f"{name} is one of {', '.join(sorted(allowed))}"
                )
            # EQ_ and WD_ of one field together: both must hold
            values[field] = (
                tuple(v for v in items if v in values[field]) if field in values else items
            )
        elif name in TIMES:
            if len(given) != 1:
                raise query_parameter_exception(name, f"{name} is given once")
            values[TIMES[name]] = _time(name, given[0])
        elif name in QUANTITIES:
            if len(given) != 1:
                raise query_parameter_exception(name, f"{name} is given once")
            quantities.append((QUANTITIES[name], _number(name, given[0])))
        elif name in PAGING:
            if len(given) != 1:
                raise query_parameter_exception(name, f"{name} is given once")
            _lay_out(layout, name, given[0])
        else:
            raise query_parameter_exception(
                name,
                f"{name} is not a query parameter this API takes; it takes "
                + ", ".join([*FILTERS, *MATCHES, *TIMES, *QUANTITIES, *PAGING]),
                code="unknown_parameter",
            )
    if "count_limit" in layout:
        if "limit" in layout:
            raise query_parameter_exception(
                "eventCountLimit", "eventCountLimit answers one page: it takes no page size"
            )
        layout["limit"], layout["one_page"] = layout.pop("count_limit"), True
    query = EventQuery(**values, matches=tuple(matches), quantities=tuple(quantities))
    return query, Layout(paging=paging, **layout)


def _lay_out(layout: dict[str, Any], name: str, value: str) -> None:
    """One :data:`PAGING` parameter into ``layout``'s :class:`Layout` fields."""
    field = PAGING[name]
    if field in ("limit", "count_limit"):
        layout[field] = _limit(name, value)
    elif field == "cursor":
        try:
            layout["after"] = Cursor.decode(value)
        except ValueError:
            raise query_parameter_exception(name, f"{name} is not one this API gave") from None
    elif field == "order_by":
        if value not in ORDER_COLUMNS:
            raise query_parameter_exception(name, "orderBy is eventTime or recordTime")
        layout["order_by"] = value
    elif value not in ORDER_DIRECTIONS:
        raise query_parameter_exception(name, "orderDirection is ASC or DESC")
    else:
        layout["descending"] = value == "DESC"


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise query_parameter_exception(name, f"{name} is a number") from None
    if not math.isfinite(number):
        raise query_parameter_exception(name, f"{name} is a number")
    return number


def _formats() -> tuple[str, str | None]:
    """The ``GS1-EPC-Format`` (default ``No_Preference``) and ``GS1-CBV-Format`` asked."""
    epc_format = request.headers.get("GS1-EPC-Format", "No_Preference")
    if epc_format not in epcs.EPC_FORMATS:
        raise query_parameter_exception(
            "GS1-EPC-Format", "GS1-EPC-Format is one of " + ", ".join(epcs.EPC_FORMATS)
        )
    cbv_format = request.headers.get("GS1-CBV-Format")
    if cbv_format is not None and cbv_format not in CBV_FORMATS:
        raise query_parameter_exception(
            "GS1-CBV-Format", "GS1-CBV-Format is one of " + ", ".join(CBV_FORMATS)
        )
    return epc_format, cbv_format


def _spell_terms(events: list[dict[str, Any]], cbv_format: str | None) -> list[dict[str, Any]]:
    """Bare CBV terms (``shipping``) as the URN or Web URI ``GS1-CBV-Format`` asks for."""
    spellings = _CBV_SPELLINGS.get(cbv_format or "")
    if spellings:
        for event in events:
            for key, prefix in spellings.items():
                value = event.get(key)
                if isinstance(value, str) and ":" not in value:
                    event[key] = prefix + value
    return events


@bp.get("/brands/<slug>/batches/<path:lot>/events")
@rate_limited("api", key=budget_key)
@requires("read")
def batch_events(slug: str, lot: str):
    """Every event about the batch as an EPCIS 2.0 document, by event time."""
    session = db_session()
    batch = batch_of(lot, request.args.get("gtin"))
    epc_format, _cbv = _formats()
    response = jsonify(trace.export_batch(session, batch, epc_format))
    response.headers["GS1-EPC-Format"] = epc_format
    return response


def _time(name: str, value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise query_parameter_exception(name, f"{name} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise query_parameter_exception(name, f"{name} must carry its offset (Z or ±hh:mm)")
    try:
        return when.astimezone(dt.UTC)
    except OverflowError:
        raise query_parameter_exception(name, f"{name} is out of range") from None


def _limit(name: str, value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 5):
        raise query_parameter_exception(name, f"{name} is 1 to {MAX_LIMIT}")
    limit = int(value)
    if not 0 < limit <= MAX_LIMIT:
        raise query_parameter_exception(name, f"{name} is 1 to {MAX_LIMIT}")
    return limit
