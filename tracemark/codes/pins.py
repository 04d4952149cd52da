"""Scratch-off PINs: a second factor printed apart from the QR code, and claiming a unit.

A PIN is derived, not stored: the first 8 decimal digits of HMAC-SHA256 over the serial
under the brand's PIN key, itself an HMAC of the brand id under the deployment's PIN
secret (``TRACEMARK_PIN_SECRET``, kept apart from the signing-key passphrase so that the
portal, which checks PINs, never holds what decrypts signing keys). So nothing PIN-like
sits in the database, labels can be re-rendered at any time, and checking a PIN is a
keyed hash comparison. Changing the PIN secret invalidates every printed PIN.

Wrong PINs are budgeted per unit *and* per client network, so that guessing stays
infeasible while strangers cannot lock the buyer out (docs/verdicts.md gives the
arithmetic):

* each network (IPv4 /24, IPv6 /48) has :data:`NETWORK_FREE` wrong PINs for a unit, then
  waits :data:`NETWORK_BACKOFF` doubling with each further failure, up to a day;
* the unit, after :data:`UNIT_FREE` wrong PINs from anywhere, makes every network that
  already failed on it wait :data:`UNIT_BACKOFF` doubling, up to an hour;
* but a place (IPv4 /16, IPv6 /32) from which nobody has failed on the unit is never
  held by the unit's wait: the buyer typing the right PIN at home gets through whatever
  others tried elsewhere.

A right PIN claims an unclaimed unit for the device (its cookie), and on a claimed unit
adds the device to the owner's: re-entering the PIN is how an owner adds a phone. The
first claim clears the unit's clone-risk counts: the places seen until then are the
shop's and the buyer's, explained by the claim.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark.codes.verify import UnitFacts
from tracemark.models import PinAttempts, UnitScanState
from tracemark.models.base import as_utc, utcnow
from tracemark.scanning.counting import add_owner

PIN_DIGITS = 8
#: Wrong PINs a network has for a unit before it must wait.
NETWORK_FREE = 3
NETWORK_BACKOFF = dt.timedelta(minutes=1)
NETWORK_MAX_WAIT = dt.timedelta(days=1)
#: Wrong PINs a unit takes from anywhere before failing networks must wait.
UNIT_FREE = 10
UNIT_BACKOFF = dt.timedelta(seconds=30)
UNIT_MAX_WAIT = dt.timedelta(hours=1)


class ClaimStatus(enum.StrEnum):
    CLAIMED = "claimed"
    #: The unit was claimed already and the PIN was right: the device is now an owner's.
    DEVICE_ADDED = "device_added"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"
    NO_PIN = "no_pin"


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    claimed_at: dt.datetime | None = None
    attempts_left: int | None = None
    #: When a locked-out client may try again.
    retry_at: dt.datetime | None = None


def brand_pin_key(pin_secret: str, brand_id: int) -> bytes:
    """The brand's PIN key, derived from the deployment's PIN secret."""
    if not pin_secret:
        raise ValueError("a PIN secret is required")
    message = f"tracemark-brand-pin-key|{brand_id}".encode()
    return hmac.new(pin_secret.encode(), message, hashlib.sha256).digest()


def pin_for(key: bytes, serial: str) -> str:
    digest = hmac.new(key, b"tracemark-pin|" + serial.encode("ascii"), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**PIN_DIGITS).zfill(PIN_DIGITS)


def backoff(failures: int, free: int, base: dt.timedelta, cap: dt.timedelta) -> dt.timedelta:
    """The wait after ``failures`` wrong PINs: none within ``free``, then ``base``
    doubling with each failure, never more than ``cap``."""
    if failures < free:
        return dt.timedelta(0)
    exponent = min(failures - free, 40)
    return min(base * 2**exponent, cap)


@dataclass(frozen=True)
class Claimant:
    """Who enters a PIN, hashed: the device as an owner (``tracemark.scanning.counting.
    owner_hash``), its network (/24, /48) and its place (/16, /32)."""

    owner: str
    network: str
    place: str


def claim(
    session: Session,
    unit: UnitFacts,
    pin: str,
    claimant: Claimant,
    key: bytes | None,
    *,
    now: dt.datetime | None = None,
) -> ClaimResult:
    """Check ``pin`` for ``unit`` within the budgets, and on a right PIN make the
    claimant's device an owner's (claiming the unit if nobody has). The caller commits."""
    now = now or utcnow()
    if key is None or not unit.with_pin:
        return ClaimResult(ClaimStatus.NO_PIN)
    state = session.scalar(
        select(UnitScanState).where(UnitScanState.unit_id == unit.unit_id).with_for_update()
    )
    if state is None:  # claimed before any recorded scan: start its history here
        state = UnitScanState(
            unit_id=unit.unit_id, scan_count=0, first_scan_at=now, last_scan_at=now, pin_failures=0
        )
        session.add(state)
    attempts = session.get(PinAttempts, (unit.unit_id, claimant.network), with_for_update=True)
    blocked = as_utc(attempts.blocked_until) if attempts is not None else None
    if blocked is not None and blocked > now:
        return ClaimResult(ClaimStatus.LOCKED, retry_at=blocked)
    unit_wait = as_utc(state.pin_locked_until)
    if unit_wait is not None and unit_wait > now and _failed_here(session, unit, claimant):
        return ClaimResult(ClaimStatus.LOCKED, retry_at=unit_wait)
    candidate = "".join(ch for ch in pin if not ch.isspace())
    if not hmac.compare_digest(candidate.encode(), pin_for(key, unit.serial).encode()):
        return _wrong(session, state, attempts, unit, claimant, now)
    if attempts is not None:
        session.delete(attempts)
    state.owner_devices = add_owner(state.owner_devices, claimant.owner)
    if state.claimed_at is None:
        state.claimed_at = now
        # the PIN proved who holds it: the places seen so far (the shop's, the buyer's
        # way home) are explained, and only those seen from now on can suggest a copy
        state.places = state.places_next = state.countries = state.countries_next = 0
        session.flush()
        return ClaimResult(ClaimStatus.CLAIMED, claimed_at=now)
    session.flush()
    return ClaimResult(ClaimStatus.DEVICE_ADDED, claimed_at=as_utc(state.claimed_at))


def _failed_here(session: Session, unit: UnitFacts, claimant: Claimant) -> bool:
    """Whether a wrong PIN for ``unit`` ever came from the claimant's place."""
    found = session.scalar(
        select(PinAttempts.network)
        .where(PinAttempts.unit_id == unit.unit_id, PinAttempts.place == claimant.place)
        .limit(1)
    )
    return found is not None


def _wrong(session, state, attempts, unit, claimant, now) -> ClaimResult:
    """Count a wrong PIN against the network and the unit."""
    if attempts is None:
        attempts = PinAttempts(
            unit_id=unit.unit_id, network=claimant.network, place=claimant.place, failures=0
        )
        session.add(attempts)
    attempts.failures += 1
    attempts.last_failure_at = now
    wait = backoff(attempts.failures, NETWORK_FREE, NETWORK_BACKOFF, NETWORK_MAX_WAIT)
    attempts.blocked_until = now + wait if wait else None
    state.pin_failures += 1
    unit_wait = backoff(state.pin_failures, UNIT_FREE, UNIT_BACKOFF, UNIT_MAX_WAIT)
    state.pin_locked_until = now + unit_wait if unit_wait else None
    session.flush()
    if wait:
        return ClaimResult(ClaimStatus.LOCKED, retry_at=attempts.blocked_until)
    return ClaimResult(ClaimStatus.WRONG_PIN, attempts_left=NETWORK_FREE - attempts.failures)
