"""New code keys asked for from the admin and made by the worker.

Code keys are encrypted under the key passphrase, which only the processes that sign codes
hold (the worker and the CLI), never the web servers. So an owner's "create a new key" is
queued as a :class:`~tracemark.models.KeyRequest` and the worker fulfils it: it makes the
key and marks the request done in one transaction, so a worker killed half-way leaves the
request pending for the next one and never a key without its request, or two keys.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracemark import audit
from tracemark.codes import keystore
from tracemark.db import lock_oldest, newest_of_brand
from tracemark.models import Brand, KeyRequest, KeyRequestStatus, User
from tracemark.models.base import utcnow

#: Requests listed on the key page.
RECENT = 5


class AlreadyRequested(ValueError):
    """The brand already has a request waiting for the worker."""


def request_key(
    session: Session, brand: Brand, user: User | None, *, actor: audit.Actor | None = None
) -> KeyRequest:
    """Queue a new code key for ``brand`` (flushed, committed with the caller), asked for
    by ``user``; audited as ``key.request`` (by ``actor``, the user by default).

    :raises AlreadyRequested: a request of the brand is still pending — a double submit
        or a second owner asking at the same time asks once.
    """
    request = KeyRequest(
        brand_id=brand.id,
        requested_by=user.id if user is not None else None,
        status=KeyRequestStatus.PENDING,
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        raise AlreadyRequested(brand.slug) from None
    actor = actor if actor is not None else audit.Actor.of_user(user, brand.id)
    if actor is audit.ANONYMOUS:
        actor = audit.SYSTEM
    audit.log(session, actor, "key.request", "key_request", request.id, brand_id=brand.id)
    return request


def recent_requests(session: Session, brand: Brand, limit: int = RECENT) -> list[KeyRequest]:
    """The brand's latest requests, newest first."""
    return list(session.scalars(newest_of_brand(KeyRequest, brand.id, limit)))


def pending(session: Session, brand: Brand) -> KeyRequest | None:
    query = select(KeyRequest).where(
        KeyRequest.brand_id == brand.id, KeyRequest.status == KeyRequestStatus.PENDING
    )
    return session.scalar(query)


def fulfil_next(sessions: sessionmaker[Session], passphrase: str) -> KeyRequest | None:
    """Make the key of the oldest pending request; None when there is none.

    The request row is locked for the transaction (``SKIP LOCKED``: two workers make two
    different keys, never one twice). A request whose key cannot be made fails with the
    reason, rather than blocking the queue behind it.
    """
    with sessions.begin() as session:
        request = lock_oldest(session, KeyRequest, KeyRequest.status == KeyRequestStatus.PENDING)
        if request is None:
            return None
        brand = session.get_one(Brand, request.brand_id)
        try:
            with session.begin_nested():
                key = keystore.create_key(
                    session, brand, passphrase, context={"request": request.id}
                )
        except Exception as error:  # the request records why; the worker goes on
            request.status, request.error = KeyRequestStatus.FAILED, str(error)[:500]
        else:
            request.status, request.key_id = KeyRequestStatus.DONE, key.id
        request.done_at = utcnow()
        session.flush()
        session.expunge(request)
        return request


def fulfil_all(sessions: sessionmaker[Session], passphrase: str) -> int:
    """Fulfil every pending request; the number handled."""
    handled = 0
    while fulfil_next(sessions, passphrase) is not None:
        handled += 1
    return handled
