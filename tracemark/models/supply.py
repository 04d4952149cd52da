"""Where materials come from: suppliers and the material lots a brand receives from them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, str_enum, utcnow
from tracemark.models.trace import ID_LENGTH


class LotStatus(enum.StrEnum):
    RELEASED = "released"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    RECALLED = "recalled"


class Supplier(Base):
    __tablename__ = "supplier"
    __table_args__ = (UniqueConstraint("brand_id", "name"), UniqueConstraint("id", "brand_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    #: The supplier's party identifier (e.g. a GLN as ``urn:epc:id:pgln:...``).
    party_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: ISO 3166-1 alpha-2.
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MaterialLot(Base):
    """A lot of material received from a supplier, named in events by ``epc_class``."""

    __tablename__ = "material_lot"
    __table_args__ = (
        UniqueConstraint("brand_id", "epc_class"),
        UniqueConstraint("id", "brand_id"),
        ForeignKeyConstraint(["supplier_id", "brand_id"], ["supplier.id", "supplier.brand_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    supplier_id: Mapped[int] = mapped_column(index=True)
    material: Mapped[str] = mapped_column(String(200))
    #: The material's GTIN when it has one.
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_number: Mapped[str] = mapped_column(String(20))
    #: Canonical class identifier (see :func:`tracemark.epcis.identifiers.canonical`).
    epc_class: Mapped[str] = mapped_column(String(ID_LENGTH))
    received_on: Mapped[dt.date | None]
    status: Mapped[LotStatus] = mapped_column(
        str_enum(LotStatus, "lot_status"), default=LotStatus.RELEASED
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    supplier: Mapped[Supplier] = relationship(
        primaryjoin="MaterialLot.supplier_id == Supplier.id",
        foreign_keys=[supplier_id],
        viewonly=True,
    )
