"""Checkpoint templates (key control points a brand records from a phone) and the files
attached to recorded checkpoints.

A template is data: a CBV business step, a default disposition, what the event is about
and an ordered list of typed fields (see :mod:`tracemark.quality.checkpoints`). Editing makes a
new version row with the same key; events keep the key and version they were recorded
with in their ``tm:checkpoint`` extension, so an old event always reads against the
fields it was filled in with.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, utcnow


class CheckpointTemplate(Base):
    __tablename__ = "checkpoint_template"
    __table_args__ = (
        UniqueConstraint("brand_id", "key", "version"),
        UniqueConstraint("id", "brand_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    #: A slug, stable across versions (``qc-inspection``).
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column()
    #: The template's name by locale.
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: CBV business step in its bare form (``inspecting``).
    biz_step: Mapped[str] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    #: What an event is about: ``unit``, ``batch`` or ``material_lot``.
    subject: Mapped[str] = mapped_column(String(16))
    #: The ordered field definitions (see ``tracemark.quality.checkpoints.check_field``).
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: A retired template is kept (its events name it) but offered for no new recording.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CheckpointFile(Base):
    """A file given in a checkpoint's file field (a PDF, or a picture re-encoded without
    metadata); events name it by id and SHA-256. One row per brand and content."""

    __tablename__ = "checkpoint_file"
    __table_args__ = (UniqueConstraint("brand_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column()
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
