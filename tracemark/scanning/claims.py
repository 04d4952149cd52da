"""Claiming a unit from the portal: identity first, then the PIN (see ``tracemark.codes.pins``)."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.orm import Session, sessionmaker

from tracemark.codes.pins import Claimant, ClaimResult, ClaimStatus, brand_pin_key, claim
from tracemark.codes.verify import Identity, check_url
from tracemark.models.base import utcnow
from tracemark.scanning.counting import network_of, new_device_id, owner_hash, place_of
from tracemark.scanning.scans import Client


def _unit_hash(secret: bytes, unit_id: int, value: str) -> str:
    message = f"tracemark-pin-budget|{unit_id}|{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def claim_unit(
    sessions: sessionmaker[Session],
    uri: str,
    pin: str,
    client: Client,
    *,
    secret: bytes,
    pin_secret: str,
) -> ClaimResult:
    """Claim the unit of code ``uri`` for the client's device cookie (or, once claimed,
    add the device to the owner's); a code that is not genuine cannot be claimed."""
    with sessions.begin() as session:
        check = check_url(session, uri)
        if check.identity is not Identity.GENUINE or check.facts is None:
            return ClaimResult(ClaimStatus.NO_PIN)
        unit = check.facts
        claimant = Claimant(
            owner=owner_hash(secret, unit.serial, client.device_id or new_device_id()),
            network=_unit_hash(secret, unit.unit_id, "n|" + network_of(client.ip)),
            place=_unit_hash(secret, unit.unit_id, "p|" + place_of(client.ip)),
        )
        key = brand_pin_key(pin_secret, unit.brand_id)
        return claim(session, unit, pin, claimant, key, now=utcnow())
