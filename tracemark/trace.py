"""Recording supply-chain events (EPCIS-shaped); genealogy and recall build on these."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from tracemark.models import Batch, Site, TraceEvent


def record_event(
    session: Session,
    batch: Batch,
    biz_step: str,
    event_time: dt.datetime,
    *,
    site: Site | None = None,
    place: str | None = None,
    country: str | None = None,
    event_type: str = "ObjectEvent",
    disposition: str | None = None,
    data: dict[str, Any] | None = None,
) -> TraceEvent:
    """:raises ValueError: for a naive ``event_time`` (EPCIS times carry their offset)."""
    offset = event_time.utcoffset()
    if offset is None:
        raise ValueError("event_time must carry its time zone")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    event = TraceEvent(
        brand_id=batch.brand_id,
        batch_id=batch.id,
        event_type=event_type,
        event_time=event_time.astimezone(dt.UTC),
        event_timezone=f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        biz_step=biz_step,
        disposition=disposition,
        site_id=site.id if site else None,
        place=place,
        country=country,
        data=data or {},
    )
    session.add(event)
    session.flush()
    return event
