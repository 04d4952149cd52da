"""Querying a brand's EPCIS events by their fields, a page at a time.

Pages are ordered by ``(event_time, id)`` and continued from a cursor naming the last
event given (keyset pagination): a page costs the same however deep it is, and events
captured meanwhile with a later time are still found, never given twice.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import operator
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.models import Brand, TraceEvent, TraceEventObject
from tracemark.models.base import as_utc

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


#: Object roles each identifier filter looks in (EPCIS 2.0 §8.2.7.1, SimpleEventQuery).
MATCH_ROLES = {
    "epc": ("epc", "child"),
    "parent": (),  # the event's parentID
    "input": ("input",),
    "output": ("output",),
    "any": ("epc", "child", "input", "output"),
    "epc_class": ("epc_quantity", "child_quantity"),
    "input_class": ("input_quantity",),
    "output_class": ("output_quantity",),
    "any_class": ("epc_quantity", "child_quantity", "input_quantity", "output_quantity"),
}


@dataclass(frozen=True)
class EventQuery:
    """Filters, all optional and combined with AND; a tuple matches any of its values
    (EPCIS query parameter names in brackets): event type (``eventType``), action
    (``EQ_action``), business step (``EQ_bizStep``, any CBV spelling), disposition
    (``EQ_disposition``), read point and business location (``EQ_readPoint``,
    ``EQ_bizLocation``, any spelling of the GLN), eventID (``EQ_eventID``), identifiers by
    role (``matches``: a key of :data:`MATCH_ROLES` → identifiers in any spelling; a
    pattern such as ``urn:epc:idpat:sgtin:…*`` matches every serial or lot of its GTIN),
    event and record time ranges (``GE_`` inclusive, ``LT_`` exclusive) and quantities."""

    event_type: tuple[str, ...] = ()
    action: tuple[str, ...] = ()
    biz_step: tuple[str, ...] = ()
    disposition: tuple[str, ...] = ()
    read_point: tuple[str, ...] = ()
    biz_location: tuple[str, ...] = ()
    event_id: tuple[str, ...] = ()
    matches: tuple[tuple[str, tuple[str, ...]], ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    recorded_since: dt.datetime | None = None
    recorded_until: dt.datetime | None = None
    #: ``EQ_``/``GT_``/``GE_``/``LT_``/``LE_quantity``: ``(op, value)`` pairs, each held by
    #: one of the event's quantity elements (any list), all together.
    quantities: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        for name in ("event_type", "action", "biz_step", "disposition", "read_point",
                     "biz_location", "event_id"):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, str):  # one value given as such
                object.__setattr__(self, name, (value,))


#: Comparison operators of the quantity filters.
_COMPARE = {"EQ": operator.eq, "GT": operator.gt, "GE": operator.ge, "LT": operator.lt,
            "LE": operator.le}  # fmt: skip
QUANTITY_OPS = tuple(_COMPARE)
#: ``orderBy`` values → the column a page is ordered by.
ORDER_COLUMNS = {"eventTime": TraceEvent.event_time, "recordTime": TraceEvent.recorded_at}


@dataclass(frozen=True)
class Cursor:
    """The last event of a page: its time in the page's order (event or record time)
    and its id."""

    event_time: dt.datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.event_time.astimezone(dt.UTC).isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        """:raises ValueError: not a cursor this module made."""
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            when, _, event_id = raw.partition("|")
            cursor = cls(dt.datetime.fromisoformat(when), int(event_id))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValueError("not a cursor") from None
        if cursor.event_time.tzinfo is None or not 0 < cursor.id < 2**63:
            raise ValueError("not a cursor")
        return cursor


def _naming(brand: Brand, role: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """Events naming one of ``values`` in ``role`` (any spelling; a GTIN pattern matches
    its instances or lots)."""
    exact, patterns = set(), []
    for value in values:
        parsed = epcs.canonical(value)
        exact.add(parsed.uri)
        if parsed.scheme == "gtin":  # urn:epc:idpat:sgtin:CP.IR.* or /01/{gtin}
            patterns.append(parsed.uri + "/%")
    if role == "parent":
        column = TraceEvent.parent_id
        return or_(column.in_(exact), *(column.like(p) for p in patterns))
    epc = TraceEventObject.epc
    naming = select(TraceEventObject.event_id).where(
        TraceEventObject.brand_id == brand.id,
        TraceEventObject.role.in_(MATCH_ROLES[role]),
        or_(epc.in_(exact), *(epc.like(p) for p in patterns)),
    )
    if role == "any":  # MATCH_anyEPC also looks at the parentID
        return or_(
            TraceEvent.id.in_(naming),
            TraceEvent.parent_id.in_(exact),
            *(TraceEvent.parent_id.like(p) for p in patterns),
        )
    return TraceEvent.id.in_(naming)


def query_events(
    session: Session,
    brand: Brand,
    query: EventQuery,
    limit: int = DEFAULT_LIMIT,
    after: Cursor | None = None,
    *,
    order_by: str = "eventTime",
    descending: bool = False,
) -> tuple[list[TraceEvent], Cursor | None]:
    """One page of the brand's events matching ``query``, by event time (or record
    time, ``order_by`` a key of :data:`ORDER_COLUMNS`), oldest first unless
    ``descending``, and the cursor of the next page (None when this is the last).

    :raises ValueError: ``limit`` outside 1 to :data:`MAX_LIMIT`.
    """
    if not 0 < limit <= MAX_LIMIT:
        raise ValueError(f"limit is 1 to {MAX_LIMIT}")
    column = ORDER_COLUMNS[order_by]
    statement = matching(brand, query)
    if after is not None:
        at = after.event_time.astimezone(dt.UTC)
        beyond = (column < at, TraceEvent.id < after.id) if descending else (
            column > at, TraceEvent.id > after.id
        )  # fmt: skip
        statement = statement.where(or_(beyond[0], and_(column == at, beyond[1])))
    keys = (column.desc(), TraceEvent.id.desc()) if descending else (column, TraceEvent.id)
    statement = statement.order_by(*keys).limit(limit + 1)
    events = list(session.scalars(statement))
    if len(events) <= limit:
        return events, None
    events = events[:limit]
    last = events[-1]
    return events, Cursor(as_utc(getattr(last, column.key)), last.id)


def matching(brand: Brand, query: EventQuery) -> Select[tuple[TraceEvent]]:
    """The brand's events matching ``query``, unordered: the one predicate of the query
    API and of subscriptions (:mod:`tracemark.trace.subscriptions`)."""
    statement = select(TraceEvent).where(TraceEvent.brand_id == brand.id)
    for column, values in (
        (TraceEvent.event_type, query.event_type),
        (TraceEvent.action, query.action),
        (TraceEvent.biz_step, [epcis.term(v) for v in query.biz_step]),
        (TraceEvent.disposition, [epcis.term(v) for v in query.disposition]),
        (TraceEvent.read_point, [epcs.canonical(v).uri for v in query.read_point]),
        (TraceEvent.biz_location, [epcs.canonical(v).uri for v in query.biz_location]),
        (TraceEvent.event_id, query.event_id),
    ):
        if values:
            statement = statement.where(column.in_(values))
    for role, values in query.matches:
        statement = statement.where(_naming(brand, role, values))
    for column, bound, op in (
        (TraceEvent.event_time, query.since, "ge"),
        (TraceEvent.event_time, query.until, "lt"),
        (TraceEvent.recorded_at, query.recorded_since, "ge"),
        (TraceEvent.recorded_at, query.recorded_until, "lt"),
    ):
        if bound is not None:
            at = bound.astimezone(dt.UTC)
            statement = statement.where(column >= at if op == "ge" else column < at)
    for op, value in query.quantities:
        held = _COMPARE[op](TraceEventObject.quantity, value)
        statement = statement.where(
            TraceEvent.id.in_(
                select(TraceEventObject.event_id).where(TraceEventObject.brand_id == brand.id, held)
            )
        )
    return statement
