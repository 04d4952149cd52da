"""Signing keys as stored: public key in the clear, private key encrypted at rest.

A key signs unit codes or provenance statements (``purpose``), never both: code keys are
encrypted under the key passphrase that only issuance holds, statement keys under the
statement passphrase that the web servers hold.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from signing.keyring import KeyPurpose, KeyStatus
from tracemark.models.base import Base, str_enum, utcnow
from tracemark.models.brand import Brand


class SigningKey(Base):
    __tablename__ = "signing_key"
    __table_args__ = (UniqueConstraint("id", "brand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    kid: Mapped[str] = mapped_column(String(16), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    purpose: Mapped[KeyPurpose] = mapped_column(
        str_enum(KeyPurpose, "key_purpose"),
        default=KeyPurpose.CODE,
        server_default=KeyPurpose.CODE.value,
    )
    #: PKCS#8 PEM encrypted with the passphrase of the key's purpose.
    private_key_pem: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[KeyStatus] = mapped_column(
        str_enum(KeyStatus, "key_status"), default=KeyStatus.ACTIVE
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)

    brand: Mapped[Brand] = relationship()


class KeyRequestStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class KeyRequest(Base):
    """An owner's request for a new code key, fulfilled by the worker.

    The web servers never hold the passphrase that encrypts code keys; the worker, which
    signs codes, does. So the admin page queues a request and the worker makes the key.
    A brand has at most one pending request (a double click asks once).
    """

    __tablename__ = "key_request"
    __table_args__ = (
        Index(
            "uq_key_request_pending",
            "brand_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[KeyRequestStatus] = mapped_column(
        str_enum(KeyRequestStatus, "key_request_status"), default=KeyRequestStatus.PENDING
    )
    #: The key made for the request, once done.
    key_id: Mapped[int | None] = mapped_column(ForeignKey("signing_key.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None]

    key: Mapped[SigningKey | None] = relationship()
