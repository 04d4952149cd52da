"""Signing keys as stored: public key in the clear, private key encrypted at rest.

A key signs unit codes or provenance statements (``purpose``), never both: code keys are
encrypted under the key passphrase that only issuance holds, statement keys under the
statement passphrase that the web servers hold.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
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
