"""From a scanned URL to a verdict: signature first, then the unit it claims to be.

The signature alone proves that the brand's key signed this identity; only the database
knows whether the brand really issued that serial in that batch. Both must hold for
``genuine``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import KeyRing, Status, UnitCode, Verification
from signing.codes import MalformedCode, parse, parse_and_verify, verify_code
from tracemark.keycache import KeyCache
from tracemark.keystore import entry_of
from tracemark.models import Batch, Brand, IssuanceJob, Product, SigningKey, Unit


class Identity(enum.StrEnum):
    """Whether the code is one the brand issued (before any scan history is weighed)."""

    GENUINE = "genuine"
    NOT_GENUINE = "not_genuine"
    REVOKED_KEY = "revoked_key"


@dataclass(frozen=True)
class CodeCheck:
    """What a code says about itself. ``reason`` is a stable machine code for its cause."""

    identity: Identity
    reason: str
    code: UnitCode | None = None
    unit: Unit | None = None
    batch: Batch | None = None
    product: Product | None = None
    brand: Brand | None = None


def check_url(session: Session, url: str, cache: KeyCache | None = None) -> CodeCheck:
    """Verify ``url`` and find its unit. Never raises for bad input.

    Keys found are remembered in ``cache`` for :func:`check_offline`.
    """
    try:
        code = parse(url)
    except MalformedCode as exc:
        return CodeCheck(Identity.NOT_GENUINE, f"malformed:{exc.reason}")
    key = session.scalar(select(SigningKey).where(SigningKey.kid == code.kid))
    ring = KeyRing([entry_of(key)] if key is not None else [])
    if cache is not None and key is not None:
        cache.remember(ring.get(key.kid))
    verification = verify_code(code, ring)
    if not verification.signature_ok:
        return CodeCheck(Identity.NOT_GENUINE, verification.status.value, code)
    assert key is not None
    return _with_unit(session, code, key, verification)


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


def _with_unit(
    session: Session, code: UnitCode, key: SigningKey, verification: Verification
) -> CodeCheck:
    row = session.execute(
        select(Unit, Batch, Product, Brand)
        .join(IssuanceJob, Unit.job_id == IssuanceJob.id)
        .join(Batch, Unit.batch_id == Batch.id)
        .join(Product, Batch.product_id == Product.id)
        .join(Brand, Unit.brand_id == Brand.id)
        .where(
            Unit.brand_id == key.brand_id,
            Unit.serial == code.serial,
            IssuanceJob.signing_key_id == key.id,
            Batch.lot == code.lot,
            Product.gtin == code.gtin,
        )
    ).first()
    if row is None:
        # Signed by the brand's key but never stored: a leaked key, or a lost database.
        return CodeCheck(Identity.NOT_GENUINE, "unknown_serial", code)
    unit, batch, product, brand = row
    if verification.status is Status.REVOKED_KEY:
        return CodeCheck(Identity.REVOKED_KEY, "revoked_key", code, unit, batch, product, brand)
    return CodeCheck(Identity.GENUINE, "genuine", code, unit, batch, product, brand)
