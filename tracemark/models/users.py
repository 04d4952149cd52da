"""People who sign in to the admin app, their roles per brand, and the audit log."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, BigId, str_enum, utcnow
from tracemark.models.brand import Brand


class Role(enum.StrEnum):
    """What a member may do within one brand."""

    OWNER = "owner"
    STAFF = "staff"
    MARKETING = "marketing"
    REGULATOR = "regulator"


class User(Base):
    """An account; what it may see comes only from its memberships.

    ``email`` is stored lower-cased (see ``tracemark.accounts.users``), so the unique constraint
    makes it unique case-insensitively. ``session_version`` is part of every signed-in
    session: raising it ends them all.
    """

    # "user" is a reserved word in PostgreSQL
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: argon2id, in the PHC string format (parameters included).
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The TOTP secret, encrypted (``tracemark.accounts.second_factor``); null when not enrolled.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    #: The last TOTP time step accepted: a code is good once (RFC 6238 section 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]
    session_version: Mapped[int] = mapped_column(Integer, default=1)


class Membership(Base):
    """One user's role in one brand (at most one role per brand)."""

    __tablename__ = "membership"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    brand_id: Mapped[int] = mapped_column(
        ForeignKey("brand.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "member_role"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    brand: Mapped[Brand] = relationship()


class AuditLog(Base):
    """Who did what, when: append-only (``tracemark.audit`` has no update or delete).

    ``brand_id`` is null for events outside any brand (signing in); ``user_id`` is null
    for events without a signed-in user (the CLI, failed sign-ins). ``actor`` says which
    door the action came through (``user``, ``token:<prefix>``, ``rule:<id>``, ``cli``,
    ``system``, ``anonymous``; see :class:`tracemark.audit.Actor`).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_brand_id_id", "brand_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int | None] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(64))
    #: A stable dotted code: ``user.login``, ``user.create``, ``key.revoke``…
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
