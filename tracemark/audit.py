"""The audit log: who did what, when. Entries are only ever added, never changed.

Actions are stable dotted codes (``user.login``, ``user.login_failed``, ``user.create``,
``key.revoke``…); ``object_type``/``object_id`` name what was acted on.

Entries are written by the operations that make the change (:func:`log`, in the spirit of
pretix's ``log_action``), never by a web face: whichever door an action comes through —
the admin app, the integration API, the CLI, a rule — it leaves the same entry, told
apart only by its :class:`Actor`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracemark.db import newest_of_brand
from tracemark.models import AuditLog, User

if TYPE_CHECKING:
    from tracemark.models import ApiToken

#: Rows fetched at a time when streaming an export.
EXPORT_CHUNK = 500

MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a signed-in user, an API token, a rule, the CLI, or the system.

    ``kind`` and ``label`` make the entry's ``actor`` column (``user``, ``token:<prefix>``,
    ``rule:<id>``, ``cli``, ``system``, ``anonymous``); ``user`` fills its ``user_id``.
    ``brand_id`` is the brand the actor acts in, used when an operation names none.
    """

    kind: str
    label: str | None = None
    user: User | None = None
    brand_id: int | None = None

    @classmethod
    def of_user(cls, user: User | None, brand_id: int | None = None) -> Actor:
        """A person signed in to the admin app (no user: :data:`ANONYMOUS`)."""
        if user is None:
            return ANONYMOUS
        return cls("user", user=user, brand_id=brand_id)

    @classmethod
    def of_token(cls, token: ApiToken) -> Actor:
        """An integration API call made with ``token`` (named by its public prefix)."""
        return cls("token", label=token.prefix, brand_id=token.brand_id)

    @classmethod
    def of_rule(cls, rule_id: int, brand_id: int | None = None) -> Actor:
        """A brand's rule acting when an event matches it."""
        return cls("rule", label=str(rule_id), brand_id=brand_id)

    @property
    def name(self) -> str:
        """What the entry's ``actor`` column holds."""
        return self.kind if self.label is None else f"{self.kind}:{self.label}"

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


#: The command line (an operator on the server, with no account of the app).
CLI = Actor("cli")
#: The system itself: the worker, scheduled jobs, migrations.
SYSTEM = Actor("system")
#: Someone not signed in (a failed sign-in).
ANONYMOUS = Actor("anonymous")


def log(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
    *,
    brand_id: int | None = None,
) -> AuditLog:
    """Append the entry saying that ``actor`` did ``action`` to the object (flushed,
    committed with the caller's transaction). ``brand_id`` defaults to the actor's.

    :raises ValueError: if ``action`` is empty or longer than 64 characters.
    """
    return record(
        session,
        action,
        user=actor.user,
        brand_id=brand_id if brand_id is not None else actor.brand_id,
        object_type=object_type,
        object_id=object_id,
        details=details,
        actor=actor.name,
    )


def record(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    brand_id: int | None = None,
    object_type: str | None = None,
    object_id: object = None,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
) -> AuditLog:
    """Append one entry (flushed, committed with the caller's transaction); operations
    call :func:`log` instead.

    ``object_id`` is stored as a string; ``details`` must be JSON-serialisable.

    :raises ValueError: if ``action`` is empty or longer than 64 characters.
    """
    if not action or len(action) > 64:
        raise ValueError("an audit action is 1 to 64 characters")
    entry = AuditLog(
        action=action,
        user_id=user.id if user is not None else None,
        actor=actor if actor is not None else ("user" if user is not None else None),
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
    query = newest_of_brand(AuditLog, brand_id, max(1, min(limit, MAX_PAGE)))
    query = query.options(selectinload(AuditLog.user))
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
