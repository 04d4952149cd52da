"""A brand's declarative rules, the record of each firing, and the outbox of messages a
firing sends (see :mod:`tracemark.quality.rules` and :mod:`tracemark.notify.outbox`)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, BigId, str_enum, utcnow
from tracemark.models.trace import TraceEvent, event_fk


class Operator(enum.StrEnum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    CONTAINS = "contains"
    #: A pass/fail field that failed, or (without a field) any failing QC test.
    FAILED = "failed"
    #: A sensor reading out of range or with an exception (of the field's type if given).
    EXCURSION = "excursion"
    PRESENT = "present"


class MessageKind(enum.StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class Rule(Base):
    """When an event matches the condition, the actions run in its capture transaction.

    ``actions`` is a list of ``{"type": "hold_batch", "notice": str}``, ``{"type":
    "lock_lot"}``, ``{"type": "notify", "roles": [...], "emails": [...]}`` and
    ``{"type": "webhook", "url": str}``; webhooks are signed with ``secret``.
    """

    __tablename__ = "rule"
    __table_args__ = (UniqueConstraint("brand_id", "name"), UniqueConstraint("id", "brand_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Only events recorded from this checkpoint template (``tm:checkpoint`` key).
    template_key: Mapped[str | None] = mapped_column(String(100))
    #: A checkpoint field, QC test, extension field or sensor type, by name.
    field: Mapped[str | None] = mapped_column(String(100))
    operator: Mapped[Operator] = mapped_column(str_enum(Operator, "rule_operator"))
    #: Compared as a number when both sides are numbers; ``in`` takes a comma-separated list.
    value: Mapped[str | None] = mapped_column(String(500))
    biz_step: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Key of the HMAC-SHA256 signature of this rule's webhooks (hex).
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RuleFiring(Base):
    """One rule matching one newly captured event, and what it did (``actions``: one
    entry per action, e.g. ``{"type": "hold_batch", "batches": [3]}``)."""

    __tablename__ = "rule_firing"
    __table_args__ = (
        event_fk(),
        UniqueConstraint("rule_id", "event_id"),
        Index("ix_rule_firing_brand_id_id", "brand_id", "id"),
        Index("ix_rule_firing_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    #: None once the rule was deleted (its name stays in ``rule_name``).
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rule.id", ondelete="SET NULL"))
    rule_name: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[int] = mapped_column()
    fired_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    event: Mapped[TraceEvent] = relationship(
        primaryjoin="RuleFiring.event_id == TraceEvent.id", foreign_keys=[event_id], viewonly=True
    )


class OutboxMessage(Base):
    """An email or webhook to deliver, written in the transaction that decided to send it.

    Claimable while pending, due (``next_attempt_at``) and not under a live lease; the
    ``dedupe_key`` travels with every attempt (Message-ID, ``Idempotency-Key``) so a
    receiver can drop a repeat.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_brand_id_id", "brand_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    firing_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("rule_firing.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind, "message_kind"))
    #: SHA-256 (hex) of the firing and the recipient.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: An email address or a webhook URL.
    recipient: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[MessageStatus] = mapped_column(
        str_enum(MessageStatus, "message_status"), default=MessageStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None]
    worker: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
