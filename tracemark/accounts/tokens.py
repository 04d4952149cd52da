"""API tokens: create one (its secret shown once), authenticate a presented one, revoke.

A token reads ``tm_<prefix>_<secret>``: the prefix is public (lists show it, revocation
names it) and finds the row in one indexed lookup; only the SHA-256 of the whole token is
stored, and it is compared in constant time. The secret has 256 random bits, so a fast
hash is enough (a password needs a slow one because people choose them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import audit
from tracemark.models import ApiToken, Brand
from tracemark.models.base import as_utc, utcnow

#: What a token may do: capture EPCIS events, read (events, stats, traces, jobs), and
#: create batches and queue code issuance.
SCOPES = ("capture", "read", "issue")
MAX_NAME_LENGTH = 100
#: A presented token longer than this is not ours (checked before hashing).
MAX_TOKEN_LENGTH = 100
_FORMAT = re.compile(r"^tm_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")
_TOUCH_EVERY = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be created or found (``code`` is stable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_scopes(scopes: Iterable[str]) -> str:
    """The scopes as stored (known ones, sorted, space-separated).

    :raises TokenError: none given, or an unknown one (``bad_scope``).
    """
    chosen = set(scopes)
    unknown = chosen - set(SCOPES)
    if unknown or not chosen:
        raise TokenError("bad_scope", f"scopes are one or more of {', '.join(SCOPES)}")
    return " ".join(scope for scope in SCOPES if scope in chosen)


def create_token(
    session: Session,
    brand: Brand,
    name: str,
    scopes: Iterable[str],
    *,
    actor: audit.Actor = audit.SYSTEM,
) -> tuple[ApiToken, str]:
    """A new token of ``brand``; returns the row and the token, whose secret exists only
    in this return value. Audited as ``token.create`` (prefix, name, scopes).

    :raises TokenError: empty or too long name (``bad_name``), bad scopes (``bad_scope``).
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise TokenError("bad_name", f"a token's name has 1 to {MAX_NAME_LENGTH} characters")
    stored_scopes = normalize_scopes(scopes)
    prefix = secrets.token_hex(6)
    token = f"tm_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(
        brand_id=brand.id,
        name=name,
        prefix=prefix,
        secret_hash=digest(token),
        scopes=stored_scopes,
    )
    session.add(row)
    session.flush()
    details = {"prefix": prefix, "name": name, "scopes": stored_scopes}
    audit.log(session, actor, "token.create", "api_token", row.id, details, brand_id=brand.id)
    return row, token


def authenticate(session: Session, token: str) -> ApiToken | None:
    """The live token ``token`` is, or None (malformed, unknown, wrong secret, revoked).

    Records when the token was last used (at most once a minute; the caller commits).
    """
    match = _FORMAT.match(token) if len(token) <= MAX_TOKEN_LENGTH else None
    if match is None:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.prefix == match.group(1)))
    presented = digest(token)
    expected = row.secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(presented, expected) or row is None or row.is_revoked:
        return None
    now = utcnow()
    last = as_utc(row.last_used_at)
    if last is None or now - last >= _TOUCH_EVERY:
        row.last_used_at = now
    return row


def tokens(session: Session, brand: Brand | None = None) -> list[ApiToken]:
    """Tokens (of ``brand``, or all), newest first, revoked ones included."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if brand is not None:
        query = query.where(ApiToken.brand_id == brand.id)
    return list(session.scalars(query))


def get_token(session: Session, prefix: str, brand: Brand | None = None) -> ApiToken:
    """:raises TokenError: no token with ``prefix`` (in ``brand``, when given)
    (``not_found``)."""
    query = select(ApiToken).where(ApiToken.prefix == prefix)
    if brand is not None:
        query = query.where(ApiToken.brand_id == brand.id)
    row = session.scalar(query)
    if row is None:
        raise TokenError("not_found", f"no token {prefix!r}")
    return row


def revoke_token(session: Session, token: ApiToken, *, actor: audit.Actor = audit.SYSTEM) -> bool:
    """Revoke ``token`` from now on, audited as ``token.revoke``; False when it was
    revoked already (nothing audited)."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    session.flush()
    details = {"prefix": token.prefix, "name": token.name}
    audit.log(session, actor, "token.revoke", "api_token", token.id, details,
              brand_id=token.brand_id)  # fmt: skip
    return True
