"""Scan rollups: what the analytics boards read instead of the raw scan events.

One row counts a brand's scans of one UTC day, one product, and one value of one
dimension (``dimension``/``value``): ``total`` (value ``""``), ``country`` (ISO code),
``locale``, ``device`` (device class) or ``batch`` (the batch id in decimal). Every
count is kept per product and again for all the brand's products together
(``product_id`` :data:`ALL_PRODUCTS`), so that a board without a product filter reads one
row where it would sum one per product (countries x products is the widest key). Unknown
values are ``""`` and "no product" is ``product_id`` 0, so that every key column is
non-null and one primary key serves the upsert on both databases. ``claims`` is kept on
``total`` rows only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, BigId

#: ``product_id`` of the rows that count all of a brand's products together.
ALL_PRODUCTS = -1
#: The dimensions a rollup row can count by.
DIMENSIONS = ("total", "country", "locale", "device", "batch")


class ScanRollup(Base):
    __tablename__ = "scan_rollup"

    # key order = the boards' access path: one brand, one dimension, a range of days
    brand_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[str] = mapped_column(String(16), primary_key=True)
    scans: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: ``genuine_first_scan`` verdicts.
    first_scans: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: ``genuine_scanned_before`` verdicts.
    repeat_scans: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: ``suspicious_copy`` verdicts: a genuine code scanned in a pattern that suggests copies.
    suspicious: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    not_genuine: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: ``revoked_key``, ``batch_on_hold`` and ``batch_recalled`` verdicts.
    withheld: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    #: Units claimed that day (``total`` rows only; recounted, never added).
    claims: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RollupWatermark(Base):
    """How far a rollup has gone. Its row is locked while a runner works, so two runners
    take turns and never count an event twice."""

    __tablename__ = "rollup_watermark"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: The last scan event id counted.
    last_event_id: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    #: Claims were last recounted from this day on (null: never).
    claims_from: Mapped[dt.date | None]
    updated_at: Mapped[dt.datetime | None]
