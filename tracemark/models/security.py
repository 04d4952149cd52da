"""Second factors and sign-in throttling: recovery codes and per-account failure counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, utcnow


class RecoveryCode(Base):
    """One single-use recovery code of a user's second factor, hashed with argon2id."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Set when the code is used; a used code never works again.
    used_at: Mapped[dt.datetime | None]


class LoginThrottle(Base):
    """Failed sign-ins for one attempted email address, whether an account has it or not.

    ``key`` is the SHA-256 of the normalised address, so the table names no one; rows exist
    for unknown addresses too, which is what keeps a lock from telling that an account exists.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]
