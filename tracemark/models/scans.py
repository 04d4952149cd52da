"""Scans of codes, and per unit the little state that clone detection needs.

No raw IP address or user agent is stored: devices and networks appear only as salted
hashes whose salt rotates daily (see ``tracemark.scanning.scans``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, BigId, utcnow


class ScanEvent(Base):
    __tablename__ = "scan_event"
    __table_args__ = (
        Index("ix_scan_event_unit", "unit_id", "scanned_at"),
        Index("ix_scan_event_brand_time", "brand_id", "scanned_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: Null when the code named no known brand or unit (forgeries, garbage).
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    unit_id: Mapped[int | None] = mapped_column(BigId)
    scanned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(2))
    locale: Mapped[str | None] = mapped_column(String(16))
    device_hash: Mapped[str | None] = mapped_column(String(32))
    network_hash: Mapped[str | None] = mapped_column(String(32))
    #: Coarse class of the scanning device (``tracemark.scanning.devices``); null for older scans.
    device_class: Mapped[str | None] = mapped_column(String(8))


class UnitScanState(Base):
    """Per-unit counters, updated atomically by one upsert per scan.

    ``devices_today``/``networks_today`` count distinct marks of ``day``; ``countries``
    counts distinct countries ever. ``prev_country``/``prev_country_at`` keep the last
    known country before this scan's (for impossible travel).
    """

    __tablename__ = "unit_scan_state"
    __table_args__ = (
        # claims by time, for the analytics rollup; partial, so scans never write to it
        Index(
            "ix_unit_scan_state_claimed_at",
            "claimed_at",
            postgresql_where=text("claimed_at IS NOT NULL"),
            sqlite_where=text("claimed_at IS NOT NULL"),
        ),
    )

    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scan_count: Mapped[int] = mapped_column(Integer, default=0)
    first_scan_at: Mapped[dt.datetime]
    first_country: Mapped[str | None] = mapped_column(String(2))
    last_scan_at: Mapped[dt.datetime]
    last_country: Mapped[str | None] = mapped_column(String(2))
    last_country_at: Mapped[dt.datetime | None]
    prev_country: Mapped[str | None] = mapped_column(String(2))
    prev_country_at: Mapped[dt.datetime | None]
    day: Mapped[dt.date | None]
    devices_today: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    networks_today: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    countries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[dt.datetime | None]
    claim_device_hash: Mapped[str | None] = mapped_column(String(32))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[dt.datetime | None]


class UnitScanMark(Base):
    """One row per distinct (unit, kind, day, value): exact distinct counts under races.

    ``kind`` is ``device``, ``network`` or ``country``; ``seen_at`` is the first time.
    """

    __tablename__ = "unit_scan_mark"

    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
