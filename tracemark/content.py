"""Operations on what consumers read about a batch: stories and test reports."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from tracemark.models import Batch, BatchStory, Document, DocumentContent, PublishState

#: Largest document accepted.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class ContentError(ValueError):
    """The content cannot be stored as given (wrong type, too large, empty)."""


def add_story(
    session: Session, batch: Batch, locale: str, title: str, body: str, *, publish: bool = False
) -> BatchStory:
    story = BatchStory(
        brand_id=batch.brand_id,
        batch_id=batch.id,
        locale=locale,
        title=title,
        body=body,
        state=PublishState.PUBLISHED if publish else PublishState.DRAFT,
    )
    session.add(story)
    session.flush()
    return story


def attach_document(
    session: Session,
    batch: Batch,
    title: str,
    data: bytes,
    *,
    filename: str,
    issuer: str | None = None,
    issued_on: dt.date | None = None,
    publish: bool = False,
) -> Document:
    """Store a PDF test report for ``batch`` with its SHA-256.

    :raises ContentError: empty, larger than :data:`MAX_DOCUMENT_BYTES`, or not a PDF by
        its content (whatever its name says).
    """
    if not data or len(data) > MAX_DOCUMENT_BYTES:
        raise ContentError("a document must be between 1 byte and 10 MB")
    if not data.startswith(b"%PDF-"):
        raise ContentError("only PDF documents are accepted")
    document = Document(
        brand_id=batch.brand_id,
        batch_id=batch.id,
        title=title,
        issuer=issuer,
        issued_on=issued_on,
        filename=filename[:200],
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        state=PublishState.PUBLISHED if publish else PublishState.DRAFT,
    )
    session.add(document)
    session.flush()
    session.add(DocumentContent(document_id=document.id, data=data))
    session.flush()
    return document
