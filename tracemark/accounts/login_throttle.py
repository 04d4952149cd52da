"""Sign-in throttling that slows a guesser without letting a stranger lock the owner out.

Two counts are kept for every attempted email address, whether an account has it or not
(so a refusal tells nothing about existence), each answered like a wrong password and at
the same password-hashing cost:

* **per source** — the address together with where the attempt comes from: the client's
  network (IPv4 /24, IPv6 /64) or, when the browser carries a known-device cookie for that
  address (it signed in to it before), that device. After :attr:`Policy.free` failures
  each further failure locks this source for :attr:`Policy.backoff`, doubled per failure
  up to :attr:`Policy.max_lock`; the streak is forgotten :attr:`Policy.forget` after it
  began, or on a successful sign-in from the source. A guesser elsewhere does not slow
  the owner's own network or device.
* **per account** — a slower ceiling of :attr:`Policy.ceiling` failures within
  :attr:`Policy.ceiling_window` from anywhere, which locks the address for
  :attr:`Policy.ceiling_lock` against a guesser spread over many networks. A known device
  passes the ceiling, and so does a correct second factor (the password step goes on to
  the code for an account that has one); a password alone from an unknown device does not.

Attempts made while a lock holds are not counted, so no lock is extended by them.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import ipaddress
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracemark.accounts.users import normalize_email
from tracemark.models import LoginThrottle
from tracemark.models.base import as_utc, utcnow


@dataclass(frozen=True)
class Policy:
    free: int = 5
    backoff: dt.timedelta = dt.timedelta(seconds=30)
    max_lock: dt.timedelta = dt.timedelta(hours=1)
    forget: dt.timedelta = dt.timedelta(hours=24)
    ceiling: int = 50
    ceiling_window: dt.timedelta = dt.timedelta(hours=1)
    ceiling_lock: dt.timedelta = dt.timedelta(hours=1)


class Gate(enum.Enum):
    OPEN = "open"
    #: This source is backing off: not even the right password is checked.
    BACKOFF = "backoff"
    #: The account-wide ceiling holds and this is not a known device: only a correct
    #: second factor signs in.
    CEILING = "ceiling"


@dataclass(frozen=True)
class KnownDevice:
    """What a browser's known-device cookie says: its random id and the tags
    (:func:`account_tag`) of the addresses it signed in to."""

    id: str
    accounts: frozenset[str]


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the address tried and the source it is counted under."""

    email: str
    source: str
    known_device: bool

    @classmethod
    def of(cls, email: str, client_address: str | None, device: KnownDevice | None) -> Attempt:
        if device is not None and account_tag(email) in device.accounts:
            return cls(email, f"device:{device.id}", True)
        return cls(email, f"net:{network_of(client_address)}", False)


def account_tag(email: str) -> str:
    """A short, stable tag of an address (what a known-device cookie lists)."""
    return _key(email)[:32]


def network_of(client_address: str | None) -> str:
    """The client's network: the /24 of an IPv4 address (mapped ones too), the /64 of an
    IPv6 one; ``unknown`` when there is no readable address."""
    try:
        address = ipaddress.ip_address((client_address or "").split("%")[0])
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def gate(session: Session, attempt: Attempt, now: dt.datetime | None = None) -> Gate:
    """Whether the attempt may have its password checked."""
    now = now or utcnow()
    source = session.get(LoginThrottle, _source_key(attempt))
    if source is not None and _locked(source, now):
        return Gate.BACKOFF
    if not attempt.known_device:
        account = session.get(LoginThrottle, _key(attempt.email))
        if account is not None and _locked(account, now):
            return Gate.CEILING
    return Gate.OPEN


def record_failure(
    session: Session, attempt: Attempt, policy: Policy, now: dt.datetime | None = None
) -> Gate:
    """Count one failed attempt against its source and its account; the gate after it."""
    now = now or utcnow()
    source = _row(session, _source_key(attempt), now)
    if not _locked(source, now):
        if now - as_utc(source.window_start) > policy.forget:
            source.failures, source.window_start = 0, now
        source.failures += 1
        if source.failures >= policy.free:
            doublings = min(source.failures - policy.free, 20)
            source.locked_until = now + min(policy.backoff * 2**doublings, policy.max_lock)
    account = _row(session, _key(attempt.email), now)
    if not _locked(account, now):
        if now - as_utc(account.window_start) > policy.ceiling_window:
            account.failures, account.window_start = 0, now
        account.failures += 1
        if account.failures >= policy.ceiling:
            account.locked_until = now + policy.ceiling_lock
            account.failures, account.window_start = 0, now
    session.flush()
    return gate(session, attempt, now)


def succeeded(session: Session, attempt: Attempt) -> None:
    """Forget the failures of the attempt's source (after a successful sign-in). The
    account-wide count stays: the owner signing in does not stop a guesser elsewhere."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _source_key(attempt)))


def _row(session: Session, key: str, now: dt.datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                row = LoginThrottle(key=key, failures=0, window_start=now)
                session.add(row)
        except IntegrityError:  # a concurrent first failure inserted it
            row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    return row


def _locked(row: LoginThrottle, now: dt.datetime) -> bool:
    return row.locked_until is not None and as_utc(row.locked_until) > now


def _key(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


def _source_key(attempt: Attempt) -> str:
    material = f"{normalize_email(attempt.email)}\n{attempt.source}"
    return hashlib.sha256(material.encode()).hexdigest()
