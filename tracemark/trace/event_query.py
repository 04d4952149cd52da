"""Querying a brand's EPCIS events by their fields, a page at a time.

Pages are ordered by ``(event_time, id)`` and continued from a cursor naming the last
event given (keyset pagination): a page costs the same however deep it is, and events
captured meanwhile with a later time are still found, never given twice.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.models import Brand, TraceEvent, TraceEventObject
from tracemark.models.base import as_utc

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class EventQuery:
    """Filters, all optional and combined with AND (EPCIS query parameter names in
    brackets): event type (``eventType``), business step (``EQ_bizStep``, any CBV
    spelling), disposition (``EQ_disposition``), an identifier named by the event in any
    role (``MATCH_epc``, any spelling of an EPC or class), and an event time range
    (``GE_eventTime`` inclusive, ``LT_eventTime`` exclusive)."""

    event_type: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    epc: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Cursor:
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


def query_events(
    session: Session,
    brand: Brand,
    query: EventQuery,
    limit: int = DEFAULT_LIMIT,
    after: Cursor | None = None,
) -> tuple[list[TraceEvent], Cursor | None]:
    """One page of the brand's events matching ``query``, by event time, and the cursor
    of the next page (None when this is the last).

    :raises ValueError: ``limit`` outside 1 to :data:`MAX_LIMIT`.
    """
    if not 0 < limit <= MAX_LIMIT:
        raise ValueError(f"limit is 1 to {MAX_LIMIT}")
    statement = select(TraceEvent).where(TraceEvent.brand_id == brand.id)
    if query.event_type is not None:
        statement = statement.where(TraceEvent.event_type == query.event_type)
    if query.biz_step is not None:
        statement = statement.where(TraceEvent.biz_step == epcis.term(query.biz_step))
    if query.disposition is not None:
        statement = statement.where(TraceEvent.disposition == epcis.term(query.disposition))
    if query.epc is not None:
        naming = select(TraceEventObject.event_id).where(
            TraceEventObject.brand_id == brand.id,
            TraceEventObject.epc == epcs.canonical(query.epc).uri,
        )
        statement = statement.where(TraceEvent.id.in_(naming))
    if query.since is not None:
        statement = statement.where(TraceEvent.event_time >= query.since.astimezone(dt.UTC))
    if query.until is not None:
        statement = statement.where(TraceEvent.event_time < query.until.astimezone(dt.UTC))
    if after is not None:
        at = after.event_time.astimezone(dt.UTC)
        statement = statement.where(
            or_(
                TraceEvent.event_time > at,
                and_(TraceEvent.event_time == at, TraceEvent.id > after.id),
            )
        )
    statement = statement.order_by(TraceEvent.event_time, TraceEvent.id).limit(limit + 1)
    events = list(session.scalars(statement))
    if len(events) <= limit:
        return events, None
    events = events[:limit]
    last = events[-1]
    return events, Cursor(as_utc(last.event_time), last.id)
