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
    #: ``scan`` (a consumer device's first open of the unit that day), ``view`` (the same
    #: device again: reloads, language switches) or ``staff`` (a signed-in brand member).
    #: Consumer figures and rollups count ``scan`` only.
    kind: Mapped[str] = mapped_column(String(8), default="scan", server_default="scan")


class UnitScanState(Base):
    """Per-unit counters, updated atomically by one upsert per scan
    (:mod:`tracemark.scanning.counting` says how each is counted).

    ``scan_count`` counts consumer scans (new device/day events), ``views`` the other
    opens. ``places``/``countries`` count the distinct places and countries seen in the
    sliding window starting ``window_start`` (each from a device not counted before);
    ``places_next``/``countries_next`` the same for the next window, already counting
    what this window saw. ``owner_devices`` holds the claiming devices' hashes,
    space-separated. ``pin_failures``/``pin_locked_until`` are the unit's wrong-PIN
    budget (:mod:`tracemark.codes.pins`).
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
    views: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_scan_at: Mapped[dt.datetime]
    first_country: Mapped[str | None] = mapped_column(String(2))
    last_scan_at: Mapped[dt.datetime]
    window_start: Mapped[dt.date | None]
    places: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    places_next: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    countries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    countries_next: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[dt.datetime | None]
    owner_devices: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked_until: Mapped[dt.datetime | None]


class PinAttempts(Base):
    """Wrong PINs for one unit from one client network (IPv4 /24, IPv6 /48) and the place
    it is in (/16, /32); both hashed under the deployment secret and the unit, without a
    daily salt, since budgets outlive a day (see :mod:`tracemark.codes.pins`)."""

    __tablename__ = "pin_attempts"

    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    network: Mapped[str] = mapped_column(String(32), primary_key=True)
    place: Mapped[str] = mapped_column(String(32))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[dt.datetime | None]
    last_failure_at: Mapped[dt.datetime | None]


class UnitScanMark(Base):
    """One row per distinct (unit, kind, day, value): exact distinct counts under races.

    ``kind`` is ``device`` or ``agent`` (per day: is this open a new scan?), or
    ``origin``, ``place`` or ``country`` (per window: see
    :mod:`tracemark.scanning.counting`); ``seen_at`` is the first time.
    """

    __tablename__ = "unit_scan_mark"

    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(32), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
