"""Brand signing keys: creation, rotation and revocation, and the key ring they form.

Each key has a purpose (:class:`~signing.KeyPurpose`): ``code`` keys sign unit codes and
are decrypted only by issuance; ``statement`` keys sign provenance statements and are
decrypted by the web servers under their own passphrase. Rotation, retirement and
revocation work alike for both; every lookup of "the active key" names its purpose, and
codes default to ``code``, so issuance can never pick a statement key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from signing.keyring import KeyEntry, KeyPurpose, KeyRing, KeyStatus
from signing.keys import (
    KeyLoadError,
    encrypt_private_key,
    generate_private_key,
    load_private_key,
    new_kid,
    public_key_bytes,
    public_key_from_bytes,
)
from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.models import Brand, SigningKey
from tracemark.models.base import as_utc, utcnow


class KeyStateError(ValueError):
    """The key cannot make this transition (e.g. sign with a retired key)."""


def create_key(
    session: Session,
    brand: Brand,
    passphrase: str,
    purpose: KeyPurpose = KeyPurpose.CODE,
    *,
    actor: Actor = SYSTEM,
    context: dict | None = None,
) -> SigningKey:
    """Generate a ``purpose`` key for ``brand``, stored encrypted under ``passphrase``, and
    make it the brand's active key for that purpose; audited as ``key.create`` (with
    ``context``, such as the request it answers).

    The previously active key of that purpose is retired: it signs nothing more, what it
    signed stays genuine.
    """
    private_key = generate_private_key()
    for _attempt in range(10):
        key = SigningKey(
            brand_id=brand.id,
            kid=new_kid(),
            public_key=public_key_bytes(private_key),
            private_key_pem=encrypt_private_key(private_key, passphrase),
            status=KeyStatus.ACTIVE,
            purpose=KeyPurpose(purpose),
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
    for other in active_keys(session, brand, key.purpose):
        if other.id != key.id:
            other.status, other.retired_at = KeyStatus.RETIRED, utcnow()
    session.flush()
    details = {"kid": key.kid, "purpose": KeyPurpose(purpose).value, **(context or {})}
    audit.log(session, actor, "key.create", "signing_key", key.id, details, brand_id=brand.id)
    return key


def brand_keys(session: Session, brand: Brand) -> list[SigningKey]:
    """Every key of ``brand``, oldest first."""
    query = select(SigningKey).where(SigningKey.brand_id == brand.id).order_by(SigningKey.id)
    return list(session.scalars(query))


def active_keys(
    session: Session, brand: Brand, purpose: KeyPurpose = KeyPurpose.CODE
) -> list[SigningKey]:
    return list(
        session.scalars(
            select(SigningKey).where(
                SigningKey.brand_id == brand.id,
                SigningKey.status == KeyStatus.ACTIVE,
                SigningKey.purpose == purpose,
            )
        )
    )


def active_key(session: Session, brand: Brand, purpose: KeyPurpose = KeyPurpose.CODE) -> SigningKey:
    """The brand's newest active key for ``purpose`` (by default the one signing codes).

    :raises KeyStateError: when the brand has none.
    """
    keys = active_keys(session, brand, purpose)
    if not keys:
        raise KeyStateError(f"brand {brand.slug!r} has no active signing key for {purpose}s")
    return max(keys, key=lambda key: key.id)


def statement_key(
    session: Session, brand: Brand, passphrase: str, *, actor: Actor = SYSTEM
) -> tuple[SigningKey, bool]:
    """The brand's active statement key, created on first need (by ``actor``); and whether
    it was created.

    The brand row is locked first (PostgreSQL), so two first statements at once make one key.
    """
    session.execute(select(Brand.id).where(Brand.id == brand.id).with_for_update())
    try:
        return active_key(session, brand, KeyPurpose.STATEMENT), False
    except KeyStateError:
        return create_key(session, brand, passphrase, KeyPurpose.STATEMENT, actor=actor), True


def get_key(session: Session, kid: str, brand: Brand | None = None) -> SigningKey:
    query = select(SigningKey).where(SigningKey.kid == kid)
    if brand is not None:
        query = query.where(SigningKey.brand_id == brand.id)
    key = session.scalar(query)
    if key is None:
        raise KeyStateError(f"no key {kid!r}")
    return key


def retire_key(session: Session, key: SigningKey, *, actor: Actor = SYSTEM) -> None:
    """Retire ``key``: it signs nothing more, what it signed stays genuine. Audited as
    ``key.retire``.

    :raises KeyStateError: the key is revoked.
    """
    if key.status is KeyStatus.REVOKED:
        raise KeyStateError("a revoked key cannot be retired")
    key.status, key.retired_at = KeyStatus.RETIRED, key.retired_at or utcnow()
    session.flush()
    audit.log(session, actor, "key.retire", "signing_key", key.id, {"kid": key.kid},
              brand_id=key.brand_id)  # fmt: skip


def revoke_key(session: Session, key: SigningKey, reason: str, *, actor: Actor = SYSTEM) -> None:
    """Revoke ``key``: its codes now verify as ``revoked_key`` everywhere. Audited as
    ``key.revoke`` with the reason.

    :raises KeyStateError: no reason given.
    """
    if not reason.strip():
        raise KeyStateError("a revocation needs a reason")
    key.status, key.revoked_at, key.revocation_reason = KeyStatus.REVOKED, utcnow(), reason
    session.flush()
    details = {"kid": key.kid, "reason": reason}
    audit.log(session, actor, "key.revoke", "signing_key", key.id, details, brand_id=key.brand_id)


def private_key_of(key: SigningKey, passphrase: str, purpose: KeyPurpose = KeyPurpose.CODE):
    """Decrypt ``key`` to sign for ``purpose`` (by default unit codes).

    :raises KeyStateError: unless it is active and a key for ``purpose``.
    """
    if key.purpose is not purpose:
        raise KeyStateError(f"key {key.kid} signs {key.purpose.value}s, not {purpose.value}s")
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
        purpose=key.purpose,
    )


def load_keyring(session: Session, brand: Brand | None = None) -> KeyRing:
    """Every stored public key (or one brand's) as a :class:`~signing.KeyRing`."""
    query = select(SigningKey, Brand.slug).join(Brand)
    if brand is not None:
        query = query.where(SigningKey.brand_id == brand.id)
    return KeyRing(
        entry_of(key, slug) for key, slug in session.execute(query.order_by(SigningKey.id))
    )


def rewrap(
    session: Session, old_passphrase: str, new_passphrase: str, *, actor: Actor = SYSTEM
) -> int:
    """Re-encrypt every code-signing private key under ``new_passphrase``; returns how
    many, audited per brand as ``key.rewrap`` (the key ids). Statement keys live under
    their own passphrase and are left as they are.

    All or nothing: a key that does not open with ``old_passphrase`` stops the change
    before anything is written (the caller commits). Public keys, and so every issued
    code, are untouched.

    :raises KeyStateError: a key does not open with ``old_passphrase``.
    """
    if not new_passphrase:
        raise KeyStateError("the new passphrase is empty")
    keys = session.scalars(
        select(SigningKey)
        .where(SigningKey.private_key_pem.is_not(None), SigningKey.purpose == KeyPurpose.CODE)
        .order_by(SigningKey.id)
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
    by_brand: dict[int, list[str]] = {}
    for key, pem in rewrapped:
        key.private_key_pem = pem
        by_brand.setdefault(key.brand_id, []).append(key.kid)
    session.flush()
    for brand_id, kids in by_brand.items():
        audit.log(session, actor, "key.rewrap", "brand", brand_id, {"kids": kids},
                  brand_id=brand_id)  # fmt: skip
    return len(rewrapped)
