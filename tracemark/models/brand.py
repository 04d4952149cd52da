"""The tenant: every other row belongs to exactly one brand."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, utcnow


class Brand(Base):
    __tablename__ = "brand"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Origin printed in this brand's label URLs (``https://host``); None = the default.
    resolver_base_url: Mapped[str | None] = mapped_column(String(200))
    #: Where consumers report a suspect product (a mailto: or https: URL).
    contact_url: Mapped[str | None] = mapped_column(String(300))
    #: Overrides of the clone-risk thresholds (see ``tracemark.scanning.risk.RiskPolicy``).
    risk_policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The language of the brand's notifications (e-mails from its rules); None = English.
    locale: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BrandPrefix(Base):
    """A GS1 company prefix the brand holds: its GTINs start with it (after the GTIN-14
    indicator digit). A prefix is held by one brand only."""

    __tablename__ = "brand_prefix"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    #: 4 to 12 digits.
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
