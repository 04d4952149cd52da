"""Brand signing keys: creation, rotation and revocation, and the key ring they form."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.keyring import KeyEntry, KeyRing, KeyStatus
from signing.keys import (
    KeyLoadError,
    encrypt_private_key,
    generate_private_key,
    load_private_key,
    new_kid,
    public_key_bytes,
    public_key_from_bytes,
)
from tracemark.models import Brand, SigningKey
from tracemark.models.base import as_utc, utcnow


class KeyStateError(ValueError):
    """The key cannot make this transition (e.g. sign with a retired key)."""


def create_key(session: Session, brand: Brand, passphrase: str) -> SigningKey:
    """Generate a key for ``brand``, stored encrypted, and make it the active one.

    The previously active key is retired: it signs nothing more, its codes stay genuine.
    """
    private_key = generate_private_key()
    for _attempt in range(10):
        key = SigningKey(
            brand_id=brand.id,
            kid=new_kid(),
            public_key=public_key_bytes(private_key),
            private_key_pem=encrypt_private_key(private_key, passphrase),
            status=KeyStatus.ACTIVE,
        )
        try:
            with session.begin_nested():
                session.add(key)
                session.flush()
        except IntegrityError:  # key id already taken: draw another
            continue
        break
    else:  # pragma: no cover - 10 collisions in 2**25 ids
        raise RuntimeError("could not allocate a key id")
    for other in active_keys(session, brand):
        if other.id != key.id:
            other.status, other.retired_at = KeyStatus.RETIRED, utcnow()
    session.flush()
    return key


def brand_keys(session: Session, brand: Brand) -> list[SigningKey]:
    """Every key of ``brand``, oldest first."""
    query = select(SigningKey).where(SigningKey.brand_id == brand.id).order_by(SigningKey.id)
    return list(session.scalars(query))


def active_keys(session: Session, brand: Brand) -> list[SigningKey]:
    return list(
        session.scalars(
            select(SigningKey).where(
                SigningKey.brand_id == brand.id, SigningKey.status == KeyStatus.ACTIVE
            )
        )
    )


def active_key(session: Session, brand: Brand) -> SigningKey:
    """:raises KeyStateError: when the brand has no active key."""
    keys = active_keys(session, brand)
    if not keys:
        raise KeyStateError(f"brand {brand.slug!r} has no active signing key")
    return max(keys, key=lambda key: key.id)


def get_key(session: Session, kid: str, brand: Brand | None = None) -> SigningKey:
    query = select(SigningKey).where(SigningKey.kid == kid)
    if brand is not None:
        query = query.where(SigningKey.brand_id == brand.id)
    key = session.scalar(query)
    if key is None:
        raise KeyStateError(f"no key {kid!r}")
    return key


def retire_key(session: Session, key: SigningKey) -> None:
    if key.status is KeyStatus.REVOKED:
        raise KeyStateError("a revoked key cannot be retired")
    key.status, key.retired_at = KeyStatus.RETIRED, key.retired_at or utcnow()
    session.flush()


def revoke_key(session: Session, key: SigningKey, reason: str) -> None:
    """Revoke ``key``: its codes now verify as ``revoked_key`` everywhere."""
    if not reason.strip():
        raise KeyStateError("a revocation needs a reason")
    key.status, key.revoked_at, key.revocation_reason = KeyStatus.REVOKED, utcnow(), reason
    session.flush()


def private_key_of(key: SigningKey, passphrase: str):
    """Decrypt ``key`` for signing; :raises KeyStateError: unless it is active."""
    if key.status is not KeyStatus.ACTIVE or key.private_key_pem is None:
        raise KeyStateError(f"key {key.kid} is {key.status.value}: it cannot sign")
    return load_private_key(key.private_key_pem, passphrase)


def entry_of(key: SigningKey, brand_slug: str | None = None) -> KeyEntry:
    return KeyEntry(
        kid=key.kid,
        public_key=public_key_from_bytes(key.public_key),
        status=key.status,
        brand=brand_slug,
        revoked_at=as_utc(key.revoked_at).isoformat() if key.revoked_at else None,
    )


def load_keyring(session: Session, brand: Brand | None = None) -> KeyRing:
    """Every stored public key (or one brand's) as a :class:`~signing.KeyRing`."""
    query = select(SigningKey, Brand.slug).join(Brand)
    if brand is not None:
        query = query.where(SigningKey.brand_id == brand.id)
    return KeyRing(
        entry_of(key, slug) for key, slug in session.execute(query.order_by(SigningKey.id))
    )


def rewrap(session: Session, old_passphrase: str, new_passphrase: str) -> int:
    """Re-encrypt every stored private key under ``new_passphrase``; returns how many.

    All or nothing: a key that does not open with ``old_passphrase`` stops the change
    before anything is written (the caller commits). Public keys, and so every issued
    code, are untouched.

    :raises KeyStateError: a key does not open with ``old_passphrase``.
    """
    if not new_passphrase:
        raise KeyStateError("the new passphrase is empty")
    keys = session.scalars(
        select(SigningKey).where(SigningKey.private_key_pem.is_not(None)).order_by(SigningKey.id)
    ).all()
    rewrapped = []
    for key in keys:
        try:
            private = load_private_key(key.private_key_pem, old_passphrase)
        except KeyLoadError as exc:
            raise KeyStateError(
                f"key {key.kid} does not open with the current passphrase; nothing changed"
            ) from exc
        rewrapped.append((key, encrypt_private_key(private, new_passphrase)))
    for key, pem in rewrapped:
        key.private_key_pem = pem
    session.flush()
    return len(rewrapped)
