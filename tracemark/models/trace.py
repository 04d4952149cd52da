"""Supply-chain events, modelled on GS1 EPCIS 2.0 (the full capture interface comes later)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, utcnow
from tracemark.models.catalog import Site


class TraceEvent(Base):
    __tablename__ = "trace_event"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
        ForeignKeyConstraint(["site_id", "brand_id"], ["site.id", "site.brand_id"]),
        Index("ix_trace_event_batch_time", "batch_id", "event_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    batch_id: Mapped[int] = mapped_column()
    #: EPCIS event type: ObjectEvent, AggregationEvent, TransformationEvent, ...
    event_type: Mapped[str] = mapped_column(String(32), default="ObjectEvent")
    event_time: Mapped[dt.datetime]
    #: The offset the event happened in, e.g. ``+02:00`` (EPCIS eventTimeZoneOffset).
    event_timezone: Mapped[str] = mapped_column(String(6), default="+00:00")
    #: CBV business step, e.g. ``commissioning``, ``inspecting``, ``shipping``.
    biz_step: Mapped[str] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[int | None] = mapped_column()
    #: Free-text place when the event happened outside the brand's sites.
    place: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship(
        primaryjoin="TraceEvent.site_id == Site.id", foreign_keys=[site_id], viewonly=True
    )
