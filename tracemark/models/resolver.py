"""Links a brand publishes for its identifiers, served by the GS1 Digital Link resolver."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, str_enum, utcnow


class Audience(enum.StrEnum):
    """Who may see a link: everyone, the brand's regulators (and the brand), or only the
    brand's own members. Each tier sees its own links and those of the tiers before it."""

    PUBLIC = "public"
    REGULATOR = "regulator"
    BRAND = "brand"


class ResolverLink(Base):
    """One link of a product (GTIN), or of one of its qualified levels (a lot, a serial).

    ``qualifiers`` is the Digital Link path after the GTIN in canonical form (``""`` for
    the GTIN itself, ``"/10/L2401A"`` for a lot, ``"/10/L2401A/21/ABC"`` for a unit), so
    the links of every level up to the GTIN are one ``IN`` over the request's prefixes.
    """

    __tablename__ = "resolver_link"
    __table_args__ = (
        ForeignKeyConstraint(["product_id", "brand_id"], ["product.id", "product.brand_id"]),
        Index("ix_resolver_link_level", "product_id", "qualifiers"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(index=True)
    product_id: Mapped[int] = mapped_column()
    qualifiers: Mapped[str] = mapped_column(String(200), default="")
    #: A GS1 Web vocabulary term in compact form (``gs1:pip``) or another namespace's URI.
    link_type: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(String(1000))
    #: Human-readable titles by locale: ``{"en": "Product information", "fr": "…"}``.
    titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: The language of the target (BCP 47), when it has one.
    hreflang: Mapped[str | None] = mapped_column(String(35))
    media_type: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(default=False)
    audience: Mapped[Audience] = mapped_column(
        str_enum(Audience, "link_audience"), default=Audience.PUBLIC
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
