"""Operations on what consumers read about a batch: stories and test reports. Each change
writes its own audit entry for the actor."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.content import pdf
from tracemark.models import Batch, BatchStory, Document, DocumentContent, PublishState

#: Largest document accepted.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class ContentError(ValueError):
    """The content cannot be stored as given; ``reason`` says why in a word a caller can
    act on: ``empty``, ``too_large``, ``too_many_pixels``, ``type``, ``unreadable`` or
    ``active``."""

    def __init__(self, message: str, reason: str = "type") -> None:
        super().__init__(message)
        self.reason = reason


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


def story(session: Session, batch: Batch, locale: str) -> BatchStory | None:
    return session.scalar(
        select(BatchStory).where(BatchStory.batch_id == batch.id, BatchStory.locale == locale)
    )


def stories(session: Session, batch: Batch) -> dict[str, BatchStory]:
    """The batch's stories (drafts too) by locale."""
    rows = session.scalars(select(BatchStory).where(BatchStory.batch_id == batch.id))
    return {row.locale: row for row in rows}


def save_story(
    session: Session,
    batch: Batch,
    locale: str,
    title: str,
    body: str,
    *,
    actor: Actor = SYSTEM,
) -> tuple[BatchStory, dict]:
    """Write the batch's story in ``locale`` (a new one is a draft; a published one stays
    published). Returns the story and what changed (empty when nothing did); audited as
    ``story.save`` when something did."""
    found = story(session, batch, locale)
    if found is None:
        found, changed = (
            add_story(session, batch, locale, title, body),
            {"title": title, "body": body},
        )
    else:
        changed = {
            name: value
            for name, value in (("title", title), ("body", body))
            if getattr(found, name) != value
        }
        for name, value in changed.items():
            setattr(found, name, value)
        session.flush()
    if changed:
        audit.log(
            session,
            actor,
            "story.save",
            "batch_story",
            found.id,
            _story_change(locale, changed),
            brand_id=batch.brand_id,
        )
    return found, changed


def _story_change(locale: str, changed: dict[str, str]) -> dict:
    """What the audit log keeps of a story edit: the title, and the body's length and
    hash (the whole text would crowd the log; the hash tells which version was live)."""
    details: dict = {"locale": locale}
    if "title" in changed:
        details["title"] = changed["title"]
    if "body" in changed:
        body = changed["body"].encode()
        details.update(body_length=len(body), body_sha256=hashlib.sha256(body).hexdigest())
    return details


def set_state(row: BatchStory | Document, state: PublishState, *, actor: Actor = SYSTEM) -> bool:
    """Publish or withdraw a story or a document (in its session); True when that changed
    something, audited then as ``story.state`` or ``document.state``."""
    changed = row.state is not state
    row.state = state
    if changed:
        if isinstance(row, BatchStory):
            action, kind, details = "story.state", "batch_story", {"locale": row.locale}
        else:
            action, kind, details = "document.state", "document", {"title": row.title}
        details["state"] = state.value
        audit.log(object_session(row), actor, action, kind, row.id, details, brand_id=row.brand_id)
    return changed


def documents(session: Session, batch: Batch) -> list[Document]:
    """The batch's documents (drafts too), newest first."""
    query = select(Document).where(Document.batch_id == batch.id)
    return list(session.scalars(query.order_by(Document.id.desc())))


def get_document(session: Session, brand_id: int, document_id: int) -> Document | None:
    """The brand's document ``document_id``; None for an unknown one or another brand's."""
    document = session.get(Document, document_id)
    return document if document is not None and document.brand_id == brand_id else None


def document_data(session: Session, document: Document) -> bytes:
    return bytes(session.get_one(DocumentContent, document.id).data)


def check_pdf(data: bytes, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """The PDF as it may be published: parsed and rewritten by :func:`pdf.clean_pdf`,
    whatever the upload's name or declared type says. Store and hash what this returns.

    :raises ContentError: ``empty``, ``too_large`` (over ``limit`` bytes), ``type`` (not
        a PDF, or a PDF with HTML or SVG markup), ``unreadable`` (does not parse) or
        ``active`` (scripts, embedded files and other active content).
    """
    if not data:
        raise ContentError("the document is empty", "empty")
    if len(data) > limit:
        raise ContentError(f"a document can be at most {limit // (1024 * 1024)} MB", "too_large")
    try:
        return pdf.clean_pdf(data)
    except pdf.PdfRefused as error:
        raise ContentError(str(error), error.reason) from None


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
    actor: Actor = SYSTEM,
) -> Document:
    """Store a PDF test report for ``batch``, cleaned by :func:`check_pdf`, with the
    SHA-256 and size of the cleaned file (the one served); audited as ``document.add``.

    :raises ContentError: as :func:`check_pdf`.
    """
    data = check_pdf(data)
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
    details = {"batch": batch.id, "title": document.title, "sha256": document.sha256,
               "size": document.size}  # fmt: skip
    audit.log(session, actor, "document.add", "document", document.id, details,
              brand_id=batch.brand_id)  # fmt: skip
    return document
