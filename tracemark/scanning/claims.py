"""Claiming a unit from the portal: identity first, then the PIN (see ``tracemark.codes.pins``)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tracemark.codes.pins import ClaimResult, ClaimStatus, brand_pin_key, claim
from tracemark.codes.verify import Identity, check_url
from tracemark.models.base import utcnow
from tracemark.scanning.scans import Client, day_hash, device_value


def claim_unit(
    sessions: sessionmaker[Session],
    uri: str,
    pin: str,
    client: Client,
    *,
    secret: bytes,
    pin_secret: str,
) -> ClaimResult:
    """Claim the unit of code ``uri``; a code that is not genuine cannot be claimed."""
    with sessions.begin() as session:
        check = check_url(session, uri)
        if check.identity is not Identity.GENUINE or check.facts is None:
            return ClaimResult(ClaimStatus.NO_PIN)
        now = utcnow()
        device = day_hash(secret, now.date(), device_value(client))
        key = brand_pin_key(pin_secret, check.facts.brand_id)
        return claim(session, check.facts, pin, device, key, now=now)
