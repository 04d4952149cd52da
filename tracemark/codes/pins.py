"""Scratch-off PINs: a second factor printed apart from the QR code, and claiming a unit.

A PIN is derived, not stored: the first 8 decimal digits of HMAC-SHA256 over the serial
under the brand's PIN key, itself an HMAC of the brand id under the deployment's PIN
secret (``TRACEMARK_PIN_SECRET``, kept apart from the signing-key passphrase so that the
portal, which checks PINs, never holds what decrypts signing keys). So nothing PIN-like
sits in the database, labels can be re-rendered at any time, and checking a PIN is a
keyed hash comparison. Changing the PIN secret invalidates every printed PIN. Wrong PINs
are counted per unit and lock it for a while; per-client
limits are the web layer's.
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
from tracemark.models import UnitScanState
from tracemark.models.base import as_utc, utcnow

PIN_DIGITS = 8
MAX_FAILURES = 5
LOCK_TIME = dt.timedelta(hours=1)


class ClaimStatus(enum.StrEnum):
    CLAIMED = "claimed"
    ALREADY_CLAIMED = "already_claimed"
    WRONG_PIN = "wrong_pin"
    LOCKED = "locked"
    NO_PIN = "no_pin"


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    claimed_at: dt.datetime | None = None
    attempts_left: int | None = None


def brand_pin_key(pin_secret: str, brand_id: int) -> bytes:
    """The brand's PIN key, derived from the deployment's PIN secret."""
    if not pin_secret:
        raise ValueError("a PIN secret is required")
    message = f"tracemark-brand-pin-key|{brand_id}".encode()
    return hmac.new(pin_secret.encode(), message, hashlib.sha256).digest()


def pin_for(key: bytes, serial: str) -> str:
    digest = hmac.new(key, b"tracemark-pin|" + serial.encode("ascii"), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**PIN_DIGITS).zfill(PIN_DIGITS)


def claim(
    session: Session,
    unit: UnitFacts,
    pin: str,
    device_hash: str,
    key: bytes | None,
    *,
    now: dt.datetime | None = None,
) -> ClaimResult:
    """Claim ``unit`` with ``pin`` for the device ``device_hash``. The caller commits."""
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
    if state.claimed_at is not None:
        return ClaimResult(ClaimStatus.ALREADY_CLAIMED, claimed_at=state.claimed_at)
    locked_until = as_utc(state.pin_locked_until)
    if locked_until is not None and locked_until > now:
        return ClaimResult(ClaimStatus.LOCKED)
    candidate = "".join(ch for ch in pin if not ch.isspace())
    if not hmac.compare_digest(candidate.encode(), pin_for(key, unit.serial).encode()):
        state.pin_failures += 1
        if state.pin_failures >= MAX_FAILURES:
            state.pin_failures, state.pin_locked_until = 0, now + LOCK_TIME
            session.flush()
            return ClaimResult(ClaimStatus.LOCKED)
        session.flush()
        return ClaimResult(ClaimStatus.WRONG_PIN, attempts_left=MAX_FAILURES - state.pin_failures)
    state.claimed_at, state.claim_device_hash, state.pin_failures = now, device_hash, 0
    session.flush()
    return ClaimResult(ClaimStatus.CLAIMED, claimed_at=now)
