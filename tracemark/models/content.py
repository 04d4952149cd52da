"""What consumers read about a batch: stories per locale and test reports."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, str_enum, utcnow


class PublishState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class BatchStory(Base):
    __tablename__ = "batch_story"
    __table_args__ = (
        UniqueConstraint("batch_id", "locale"),
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    batch_id: Mapped[int] = mapped_column()
    locale: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[PublishState] = mapped_column(
        str_enum(PublishState, "publish_state"), default=PublishState.DRAFT
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Document(Base):
    """A test report or certificate; its bytes live in :class:`DocumentContent`."""

    __tablename__ = "document"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    batch_id: Mapped[int] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str | None] = mapped_column(String(200))
    issued_on: Mapped[dt.date | None]
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[PublishState] = mapped_column(
        str_enum(PublishState, "publish_state"), default=PublishState.DRAFT
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DocumentContent(Base):
    __tablename__ = "document_content"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("document.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
