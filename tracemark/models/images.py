"""Pictures of products and of batch stories, stored re-encoded and without metadata."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, str_enum, utcnow
from tracemark.models.content import PublishState


class Image(Base):
    """A product's picture (``product_id``) or one for its batch's stories (``batch_id``).

    Exactly one owner, in the image's brand (composite foreign keys). ``state`` governs
    product pictures; a story picture is public while a published story of its batch shows
    it (see :func:`tracemark.content.images.public_image`).
    """

    __tablename__ = "image"
    __table_args__ = (
        ForeignKeyConstraint(["product_id", "brand_id"], ["product.id", "product.brand_id"]),
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
        CheckConstraint("(product_id IS NULL) <> (batch_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    product_id: Mapped[int | None] = mapped_column(index=True)
    batch_id: Mapped[int | None] = mapped_column(index=True)
    content_type: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    alt: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[PublishState] = mapped_column(
        str_enum(PublishState, "publish_state"), default=PublishState.DRAFT
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: The re-encoded bytes; loaded only when served.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
