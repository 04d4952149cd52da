"""TOTP second factors (RFC 6238) with single-use recovery codes.

The secret is stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the
app's secret key, with the user's id as associated data, so a copied database alone does
not yield anyone's codes and a ciphertext moved to another account does not decrypt. The
secret key is used rather than the signing-key passphrase because every web server has
the former and, by design, none has the latter. Changing ``TRACEMARK_SECRET_KEY`` makes
the stored secrets unreadable: users then sign in with a recovery code, or an operator
runs ``tracemark users reset-2fa``.

A code is accepted for the current 30-second step or the one either side (clock drift),
and only for a step later than the last one accepted for that user, so an observed code
cannot be replayed. Recovery codes are hashed with ``accounts.hasher`` (argon2id); each
works once.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import time
from dataclasses import dataclass

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tracemark import audit
from tracemark.accounts import users as accounts
from tracemark.models import RecoveryCode, User
from tracemark.models.base import utcnow

ISSUER = "Tracemark"
STEP = 30
#: Steps accepted either side of the current one.
DRIFT = 1
RECOVERY_CODES = 8
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10
_VERSION = "v1"


class SecretUnreadable(ValueError):
    """A stored secret does not decrypt under this secret key (it changed, or was moved)."""


@dataclass(frozen=True)
class Enrolment:
    """A secret offered to a user, not yet confirmed by a code from their authenticator."""

    secret: str
    uri: str


def new_enrolment(user: User) -> Enrolment:
    """A fresh random secret (160 bits, base32) and its ``otpauth://`` URI for a QR code."""
    secret = pyotp.random_base32()
    return Enrolment(secret, uri(user, secret))


def uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def is_enabled(user: User) -> bool:
    return user.totp_secret is not None


def encrypt_secret(secret: str, secret_key: str, user_id: int) -> str:
    """The stored form of ``secret``: ``v1:`` and base64url of nonce and ciphertext."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, secret.encode(), _aad(user_id))
    return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(stored: str, secret_key: str, user_id: int) -> str:
    """Inverse of :func:`encrypt_secret`.

    :raises SecretUnreadable: wrong secret key, another user's secret, or damaged data.
    """
    version, _, body = stored.partition(":")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
        if version != _VERSION or len(raw) < 12 + 16:
            raise ValueError(version)
        return AESGCM(_key(secret_key)).decrypt(raw[:12], raw[12:], _aad(user_id)).decode()
    except (ValueError, InvalidTag) as exc:
        raise SecretUnreadable("the second-factor secret cannot be decrypted") from exc


def matching_step(
    secret: str, code: str, after: int | None, now: float | None = None
) -> int | None:
    """The time step ``code`` belongs to (within :data:`DRIFT`), if later than ``after``."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP)
    found = None
    for step in range(current - DRIFT, current + DRIFT + 1):
        good = hmac.compare_digest(totp.generate_otp(step), code)
        if good and (after is None or step > after) and found is None:
            found = step
    return found


def enable(
    session: Session, user: User, secret: str, code: str, secret_key: str
) -> list[str] | None:
    """Turn on the second factor with ``secret`` if ``code`` proves the authenticator has it.

    Returns the recovery codes in clear (to be shown once; only their hashes are kept), or
    None when the code is wrong. Any earlier recovery codes are replaced. Audited as
    ``user.totp_enable`` by the user.
    """
    step = matching_step(secret, code, None)
    if step is None:
        return None
    user.totp_secret = encrypt_secret(secret, secret_key, user.id)
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    audit.log(session, audit.Actor.of_user(user), "user.totp_enable", "user", user.id,
              {"recovery_codes": len(codes)})  # fmt: skip
    return codes


def disable(session: Session, user: User) -> None:
    """Turn the second factor off and forget its secret and recovery codes; audited as
    ``user.totp_disable`` by the user."""
    _forget(session, user)
    audit.log(session, audit.Actor.of_user(user), "user.totp_disable", "user", user.id)


def reset(session: Session, user: User, *, actor: audit.Actor = audit.SYSTEM) -> None:
    """Turn off the second factor of a user who lost their device, and end their
    sessions; audited as ``user.totp_reset`` by ``actor`` (an operator)."""
    _forget(session, user)
    accounts.end_sessions(session, user)
    audit.log(session, actor, "user.totp_reset", "user", user.id)


def _forget(session: Session, user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.flush()


def verify(session: Session, user: User, code: str, secret_key: str) -> str | None:
    """Check a sign-in code: ``"totp"`` or ``"recovery_code"`` for the kind that was good
    (and is now spent), None for a wrong, replayed or already used one.

    Spending is one conditional update, so two requests racing with the same code cannot
    both succeed.
    """
    if not is_enabled(user) or len(code) > 64:
        return None
    try:
        secret = decrypt_secret(user.totp_secret, secret_key, user.id)
    except SecretUnreadable:
        secret = None
    if secret is not None:
        step = matching_step(secret, code, user.totp_last_step)
        if step is not None:
            spent = session.execute(
                update(User)
                .where(User.id == user.id)
                .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            session.refresh(user)
            return "totp" if spent.rowcount == 1 else None
    return "recovery_code" if _spend_recovery_code(session, user, code) else None


def recovery_codes_left(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=user.id, code_hash=accounts.hasher.hash(raw)))
    session.flush()
    return codes


def _spend_recovery_code(session: Session, user: User, code: str) -> bool:
    raw = code.strip().lower().replace("-", "").replace(" ", "")
    if len(raw) != _RECOVERY_LENGTH or any(c not in _RECOVERY_ALPHABET for c in raw):
        return False
    unused = session.execute(
        select(RecoveryCode.id, RecoveryCode.code_hash).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for code_id, code_hash in unused:
        try:
            accounts.hasher.verify(code_hash, raw)
        except (VerificationError, InvalidHashError):
            continue
        spent = session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == code_id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return spent.rowcount == 1
    return False


def _key(secret_key: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"tracemark totp secret v1"
    ).derive(secret_key.encode())


def _aad(user_id: int) -> bytes:
    return f"app_user:{user_id}".encode()
