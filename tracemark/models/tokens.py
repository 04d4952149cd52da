"""Tokens with which a brand's own systems (ERP, MES) call the integration API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, utcnow
from tracemark.models.brand import Brand


class ApiToken(Base):
    """One named token of one brand. The secret is never stored: only its SHA-256, so a
    copy of the database lets no one call the API (see ``tracemark.accounts.tokens``).

    ``prefix`` is the token's public part (shown in lists, named to revoke it); ``scopes``
    is a space-separated set of ``capture``, ``read`` and ``issue``.
    """

    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_brand_id_name", "brand_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Updated at most once a minute, so a busy integration does not write on every call.
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    brand: Mapped[Brand] = relationship()

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
