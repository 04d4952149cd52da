"""From a scanned URL to a code's identity: signature first, then the unit it claims to be.

The signature alone proves that the brand's key signed this identity; only the database
knows whether the brand really issued that serial in that batch and whether the key is
still trusted. Both must hold for ``genuine``. Public keys never change for a key id, so
they are remembered per process; a key's *status* is read fresh with the unit, so a
revocation counts from the next scan.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from signing import KeyEntry, KeyRing, KeyStatus, Status, UnitCode
from signing.codes import MalformedCode, parse, parse_and_verify, verify_code
from tracemark.codes.keycache import KeyCache
from tracemark.codes.keystore import entry_of
from tracemark.models import Batch, BatchStatus, Brand, IssuanceJob, Product, SigningKey, Unit


class Identity(enum.StrEnum):
    """Whether the code is one the brand issued (before any scan history is weighed)."""

    GENUINE = "genuine"
    NOT_GENUINE = "not_genuine"
    REVOKED_KEY = "revoked_key"


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What a scan needs to know about the unit, its batch and its brand (one query)."""

    unit_id: int
    serial: str
    with_pin: bool
    batch_id: int
    lot: str
    batch_status: BatchStatus
    notice: dict[str, str]
    gtin: str
    brand_id: int
    brand_name: str
    brand_contact: str | None
    risk_policy: dict[str, Any]
    key_status: KeyStatus


@dataclass(frozen=True)
class CodeCheck:
    """What a code says about itself. ``reason`` is a stable machine code for its cause."""

    identity: Identity
    reason: str
    code: UnitCode | None = None
    facts: UnitFacts | None = None


_FACTS = (
    select(
        Unit.id,
        Unit.serial,
        IssuanceJob.with_pin,
        Batch.id,
        Batch.lot,
        Batch.status,
        Batch.notice,
        Product.gtin,
        Brand.id,
        Brand.name,
        Brand.contact_url,
        Brand.risk_policy,
        SigningKey.status,
    )
    .select_from(SigningKey)
    .join(Unit, Unit.brand_id == SigningKey.brand_id)
    .join(
        IssuanceJob, (Unit.job_id == IssuanceJob.id) & (IssuanceJob.signing_key_id == SigningKey.id)
    )
    .join(Batch, Unit.batch_id == Batch.id)
    .join(Product, Batch.product_id == Product.id)
    .join(Brand, Unit.brand_id == Brand.id)
    .where(
        SigningKey.kid == bindparam("kid"),
        Unit.serial == bindparam("serial"),
        Batch.lot == bindparam("lot"),
        Product.gtin == bindparam("gtin"),
    )
)


def check_url(session: Session, url: str, cache: KeyCache | None = None) -> CodeCheck:
    """Verify ``url`` and find its unit. Never raises for bad input.

    Keys found are remembered in ``cache``, for the next scans and for
    :func:`check_offline`.
    """
    code = verified_code(url, cache, lambda kid: load_key(session, kid))
    if isinstance(code, CodeCheck):
        return code
    parameters = {"kid": code.kid, "serial": code.serial, "lot": code.lot, "gtin": code.gtin}
    row = session.connection().execute(_FACTS, parameters).first()
    if row is None:
        # Signed by the brand's key but never stored: a leaked key, or a lost database.
        return CodeCheck(Identity.NOT_GENUINE, "unknown_serial", code)
    facts = UnitFacts(*row)
    if facts.key_status is KeyStatus.REVOKED:
        return CodeCheck(Identity.REVOKED_KEY, "revoked_key", code, facts)
    return CodeCheck(Identity.GENUINE, "genuine", code, facts)


def verified_code(
    url: str, cache: KeyCache | None, load_key: Callable[[str], KeyEntry | None]
) -> UnitCode | CodeCheck:
    """The code ``url`` holds when its signature verifies under its key (from ``cache``,
    else ``load_key(kid)``, then remembered); otherwise the not-genuine check saying why.
    The first half of :func:`check_url`, before any unit is looked up."""
    try:
        code = parse(url)
    except MalformedCode as exc:
        return CodeCheck(Identity.NOT_GENUINE, f"malformed:{exc.reason}")
    entry = cache.get(code.kid) if cache is not None else None
    if entry is None:
        entry = load_key(code.kid)
        if entry is not None and cache is not None:
            cache.remember(entry)
    verification = verify_code(code, KeyRing([entry] if entry else []))
    if verification.status in (Status.UNKNOWN_KEY, Status.WRONG_KEY_PURPOSE, Status.BAD_SIGNATURE):
        return CodeCheck(Identity.NOT_GENUINE, verification.status.value, code)
    return code


def load_key(session: Session, kid: str) -> KeyEntry | None:
    """The key ``kid`` as a key-ring entry (its status as stored now), or None."""
    key = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    return entry_of(key) if key is not None else None


def check_offline(url: str, cache: KeyCache) -> CodeCheck:
    """The signature alone, against the last-known keys: for when the database is down."""
    result = parse_and_verify(url, cache.ring())
    if result.status is Status.MALFORMED:
        return CodeCheck(Identity.NOT_GENUINE, f"malformed:{result.reason}")
    if result.status is Status.REVOKED_KEY:
        return CodeCheck(Identity.REVOKED_KEY, "revoked_key", result.code)
    if result.status is Status.VALID:
        return CodeCheck(Identity.GENUINE, "signature_only", result.code)
    return CodeCheck(Identity.NOT_GENUINE, result.status.value, result.code)
