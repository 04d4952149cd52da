"""What a brand makes: products (GTINs) and their production batches (lots)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, str_enum, utcnow
from tracemark.models.brand import Brand


class BatchStatus(enum.StrEnum):
    RELEASED = "released"
    ON_HOLD = "on_hold"
    RECALLED = "recalled"


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("brand_id", "gtin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    gtin: Mapped[str] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    brand: Mapped[Brand] = relationship()


class Batch(Base):
    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("product_id", "lot"),
        # target of composite foreign keys that keep dependent rows in the batch's brand
        UniqueConstraint("id", "brand_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"))
    lot: Mapped[str] = mapped_column(String(20))
    production_date: Mapped[dt.date | None]
    expiry_date: Mapped[dt.date | None]
    site: Mapped[str | None] = mapped_column(String(200))
    line: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[BatchStatus] = mapped_column(
        str_enum(BatchStatus, "batch_status"), default=BatchStatus.RELEASED
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    product: Mapped[Product] = relationship()
