"""Reports from shoppers who scanned a label the portal found not genuine (or a copy)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, BigId, utcnow


class ForgeryReport(Base):
    """Where a shopper bought a product whose label failed the check.

    ``brand_id`` is the brand the code *claims* (by its key id, else its GTIN or the GS1
    company prefix the GTIN falls under), so the brand whose name is being abused sees
    the report; None when the code names no brand we know. The photo is stored only
    re-encoded without metadata (:func:`tracemark.content.images.reencode`).
    """

    __tablename__ = "forgery_report"
    __table_args__ = (Index("ix_forgery_report_brand_time", "brand_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The verdict of the scan the report follows (``not_genuine``, ``suspicious_copy``…).
    verdict: Mapped[str] = mapped_column(String(32))
    #: What the label claims: its GTIN, lot, serial and key id (any may be missing).
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot: Mapped[str | None] = mapped_column(String(20))
    serial: Mapped[str | None] = mapped_column(String(40))
    kid: Mapped[str | None] = mapped_column(String(16))
    #: The code's address as scanned (path and query).
    code: Mapped[str] = mapped_column(String(2000))
    shop: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    #: ISO 3166 alpha-2, from the deployment's country header, when it gives one.
    country: Mapped[str | None] = mapped_column(String(2))
    online_url: Mapped[str] = mapped_column(String(500), default="")
    #: How the shopper agreed to be contacted, if at all.
    contact: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    photo_width: Mapped[int | None] = mapped_column(Integer)
    photo_height: Mapped[int | None] = mapped_column(Integer)
