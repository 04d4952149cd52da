"""The audit log: who did what, when. Entries are only ever added, never changed.

Actions are stable dotted codes (``user.login``, ``user.login_failed``, ``user.create``,
``key.revoke``…); ``object_type``/``object_id`` name what was acted on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracemark.models import AuditLog, User

#: Rows fetched at a time when streaming an export.
EXPORT_CHUNK = 500

MAX_PAGE = 500


def record(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    brand_id: int | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one entry (flushed, committed with the caller's transaction).

    ``object_id`` is stored as a string; ``details`` must be JSON-serialisable.

    :raises ValueError: if ``action`` is empty or longer than 64 characters.
    """
    if not action or len(action) > 64:
        raise ValueError("an audit action is 1 to 64 characters")
    entry = AuditLog(
        action=action,
        user_id=user.id if user is not None else None,
        brand_id=brand_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=dict(details or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session, brand_id: int, limit: int, before_id: int | None = None
) -> list[AuditLog]:
    """The brand's entries, newest first: at most ``limit`` (capped at :data:`MAX_PAGE`),
    only those older than ``before_id`` when given (the last id of the previous page).

    Each entry's ``user`` is loaded.
    """
    query = (
        select(AuditLog)
        .where(AuditLog.brand_id == brand_id)
        .options(selectinload(AuditLog.user))
        .order_by(AuditLog.id.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    return list(session.scalars(query))


def export_rows(
    session: Session,
    brand_id: int,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    below_id: int | None = None,
) -> Iterator[tuple[AuditLog, str | None]]:
    """The brand's entries with their user's email, oldest first, fetched in chunks.

    ``since`` is inclusive and ``until`` exclusive; ``below_id`` bounds the result to
    entries older than one (the export's own entry, so an export is a fixed snapshot).
    """
    query = (
        select(AuditLog, User.email)
        .outerjoin(User, User.id == AuditLog.user_id)
        .where(AuditLog.brand_id == brand_id)
        .order_by(AuditLog.id)
        .execution_options(yield_per=EXPORT_CHUNK)
    )
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    if below_id is not None:
        query = query.where(AuditLog.id < below_id)
    yield from session.execute(query)
