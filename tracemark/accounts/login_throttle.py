"""Per-account sign-in throttling, whatever the client's address.

After :attr:`Policy.failures` failed attempts for one email address within
:attr:`Policy.window`, attempts for it are refused for :attr:`Policy.lock` — with the same
answer, and the same password-hashing cost, as a wrong password. Addresses are counted
whether an account has them or not, so a lock tells nothing about existence. A lock is
never extended by attempts made while it holds: a stranger can delay an owner, not shut
them out for good.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracemark.accounts.users import normalize_email
from tracemark.models import LoginThrottle
from tracemark.models.base import as_utc, utcnow


@dataclass(frozen=True)
class Policy:
    failures: int = 5
    window: dt.timedelta = dt.timedelta(minutes=15)
    lock: dt.timedelta = dt.timedelta(minutes=15)


def is_locked(session: Session, email: str, now: dt.datetime | None = None) -> bool:
    row = session.get(LoginThrottle, _key(email))
    return row is not None and _locked(row, now or utcnow())


def record_failure(
    session: Session, email: str, policy: Policy, now: dt.datetime | None = None
) -> bool:
    """Count one failed attempt; True when the address is (now) locked.

    Attempts during a lock are not counted (the lock ends when it said it would).
    """
    now = now or utcnow()
    key = _key(email)
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                row = LoginThrottle(key=key, failures=0, window_start=now)
                session.add(row)
        except IntegrityError:  # a concurrent first failure inserted it
            row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    if _locked(row, now):
        return True
    if now - as_utc(row.window_start) > policy.window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= policy.failures:
        row.locked_until = now + policy.lock
        row.failures, row.window_start = 0, now
    session.flush()
    return row.locked_until is not None and _locked(row, now)


def clear(session: Session, email: str) -> None:
    """Forget the failures of an address (after a successful sign-in)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _key(email)))


def _locked(row: LoginThrottle, now: dt.datetime) -> bool:
    return row.locked_until is not None and as_utc(row.locked_until) > now


def _key(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()
