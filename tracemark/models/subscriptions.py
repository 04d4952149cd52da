"""A brand's named EPCIS queries and their subscriptions (EPCIS 2.0 ``subscribe``): events
a capture stores that match a subscribed query are sent to its webhook through the outbox
(see :mod:`tracemark.trace.subscriptions`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, utcnow


class SavedQuery(Base):
    """A SimpleEventQuery saved under a name: ``params`` as the client gave them (EPCIS
    query parameter → values), ``filters`` the :class:`EventQuery` they parse to."""

    __tablename__ = "saved_query"
    __table_args__ = (UniqueConstraint("brand_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    subscriptions: Mapped[list[QuerySubscription]] = relationship(
        back_populates="query", cascade="all, delete-orphan", passive_deletes=True,
        order_by="QuerySubscription.id",
    )  # fmt: skip


class QuerySubscription(Base):
    """New events matching ``query`` go to ``dest`` (a webhook URL), signed with
    ``secret`` (the HMAC key, as a rule's webhook secret)."""

    __tablename__ = "query_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    query_id: Mapped[int] = mapped_column(
        ForeignKey("saved_query.id", ondelete="CASCADE"), index=True
    )
    dest: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    query: Mapped[SavedQuery] = relationship(back_populates="subscriptions")
