"""What a brand makes and where: sites, products (GTINs) and production batches (lots)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, str_enum, utcnow
from tracemark.models.brand import Brand


class BatchStatus(enum.StrEnum):
    RELEASED = "released"
    ON_HOLD = "on_hold"
    RECALLED = "recalled"


class Site(Base):
    """A place where a brand makes, checks or stores goods."""

    __tablename__ = "site"
    __table_args__ = (
        UniqueConstraint("brand_id", "name"),
        UniqueConstraint("id", "brand_id"),
        UniqueConstraint("brand_id", "location_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    #: How EPCIS events name the place (readPoint, bizLocation, destination), in canonical
    #: form (see ``tracemark.epcis.identifiers.canonical``): e.g. a GLN as ``https://id.gs1.org/414/...``.
    location_id: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(200))
    #: ISO 3166-1 alpha-2.
    country: Mapped[str | None] = mapped_column(String(2))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        UniqueConstraint("brand_id", "gtin"),
        # target of composite foreign keys that keep dependent rows in the product's brand
        UniqueConstraint("id", "brand_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    gtin: Mapped[str] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    #: Per-locale texts: ``{"fr": {"name": "...", "description": "..."}}``.
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    brand: Mapped[Brand] = relationship()


class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("product_id", "lot"),
        # target of composite foreign keys that keep dependent rows in the batch's brand
        UniqueConstraint("id", "brand_id"),
        ForeignKeyConstraint(["site_id", "brand_id"], ["site.id", "site.brand_id"]),
        # the quality board's batches on hold or recalled
        Index("ix_batch_brand_status", "brand_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"))
    lot: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[dt.date | None]
    expiry_date: Mapped[dt.date | None]
    site_id: Mapped[int | None] = mapped_column()
    line: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[BatchStatus] = mapped_column(
        str_enum(BatchStatus, "batch_status"), default=BatchStatus.RELEASED
    )
    #: The brand's notice to consumers while on hold or recalled, per locale.
    notice: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: When the status last changed (None: released since creation, or set before this
    #: was kept).
    status_since: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()
    site: Mapped[Site | None] = relationship(
        primaryjoin="Batch.site_id == Site.id", foreign_keys=[site_id], viewonly=True
    )
