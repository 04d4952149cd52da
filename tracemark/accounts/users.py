"""Accounts: creating users, granting roles in brands, and checking passwords.

Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106's low-memory
profile). Emails are stored lower-cased, which is what makes them unique regardless of
case.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import audit
from tracemark.models import Brand, Membership, Role, User
from tracemark.models.base import utcnow

MIN_PASSWORD_LENGTH = 12
#: Long enough for any passphrase, short enough that hashing one is no denial of service.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
#: A deliberately loose shape: one @, a dot in the domain, no spaces or control characters.
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

#: The one hasher; replace it (tests use cheap parameters) and stored hashes made with other
#: parameters are rehashed at the next successful sign-in.
hasher = PasswordHasher()
_dummy: tuple[PasswordHasher, str] | None = None


class AccountError(ValueError):
    """An account operation was refused; ``code`` is stable, the message is for people.

    Codes: ``invalid_email``, ``password_too_short``, ``password_too_long``,
    ``email_taken``, ``invalid_role``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(session: Session, email: str, password: str, display_name: str) -> User:
    """Create an active user with no memberships.

    :raises AccountError: ``invalid_email``, ``password_too_short`` (fewer than
        :data:`MIN_PASSWORD_LENGTH` characters), ``password_too_long`` or ``email_taken``.
    """
    email = normalize_email(email)
    if not is_email(email):
        raise AccountError("invalid_email", "not an email address")
    _check_password(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("email_taken", f"a user with email {email} exists")
    user = User(
        email=email,
        password_hash=hasher.hash(password),
        display_name=display_name.strip() or email.split("@")[0],
        is_active=True,
        session_version=1,
    )
    session.add(user)
    session.flush()
    return user


def is_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL_LENGTH and email.isprintable() and bool(_EMAIL.fullmatch(email))


def create_member(
    session: Session,
    email: str,
    password: str,
    display_name: str,
    brand: Brand,
    role: Role | str,
    *,
    actor: audit.Actor = audit.SYSTEM,
) -> User:
    """A new user with ``role`` in ``brand`` (:func:`create_user`, :func:`grant`); audited
    as ``user.create``.

    :raises AccountError: as :func:`create_user`, or ``invalid_role``.
    """
    user = create_user(session, email, password, display_name)
    membership = grant(session, user, brand, role)
    details = {"email": user.email, "role": Role(membership.role).value}
    audit.log(session, actor, "user.create", "user", user.id, details, brand_id=brand.id)
    return user


def set_password(
    session: Session, user: User, password: str, *, actor: audit.Actor | None = None
) -> None:
    """Replace the user's password and end every session they have; audited as
    ``user.password_change`` (by ``actor``, the user by default).

    :raises AccountError: ``password_too_short`` or ``password_too_long``.
    """
    _check_password(password)
    user.password_hash = hasher.hash(password)
    end_sessions(session, user)
    actor = actor if actor is not None else audit.Actor.of_user(user)
    audit.log(session, actor, "user.password_change", "user", user.id)


def end_sessions(session: Session, user: User) -> None:
    """Sign the user out everywhere: sessions carry the version they were made under."""
    user.session_version += 1
    session.flush()


def grant(session: Session, user: User, brand: Brand, role: Role | str) -> Membership:
    """Give ``user`` ``role`` in ``brand``, replacing the role they had there.

    :raises AccountError: ``invalid_role``.
    """
    try:
        role = Role(role)
    except ValueError:
        raise AccountError("invalid_role", f"unknown role {role!r}") from None
    membership = session.get(Membership, (user.id, brand.id))
    if membership is None:
        membership = Membership(user_id=user.id, brand_id=brand.id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return membership


def revoke(
    session: Session, user: User, brand: Brand, *, actor: audit.Actor | User | None = None
) -> bool:
    """Take away ``user``'s role in ``brand`` and end every session they have (a session
    opened under the role must not outlive it). Audited as ``membership.revoke``.

    Returns False, changing nothing, when the user had no role there.
    """
    membership = session.get(Membership, (user.id, brand.id))
    if membership is None:
        return False
    role = membership.role
    session.delete(membership)
    end_sessions(session, user)
    if not isinstance(actor, audit.Actor):
        actor = audit.Actor.of_user(actor, brand.id) if actor is not None else audit.SYSTEM
    details = {"email": user.email, "role": Role(role).value}
    audit.log(session, actor, "membership.revoke", "user", user.id, details, brand_id=brand.id)
    return True


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None (never saying which was wrong).

    An unknown email costs the same hash as a known one. On success the hash is renewed
    if :data:`hasher`'s parameters changed, and ``last_login_at`` is set.
    """
    email = normalize_email(email)
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    user = session.scalar(select(User).where(User.email == email)) if is_email(email) else None
    if user is None:
        _verify(_dummy_hash(), password)
        return None
    if not _verify(user.password_hash, password) or not user.is_active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def check_password(user: User, password: str) -> bool:
    """Whether ``password`` is the user's (for confirming a change while signed in)."""
    return len(password) <= MAX_PASSWORD_LENGTH and _verify(user.password_hash, password)


def spend_password_check(password: str) -> None:
    """Cost what checking a password costs, and check nothing (a refusal that must take as
    long as a wrong password)."""
    if len(password) <= MAX_PASSWORD_LENGTH:
        _verify(_dummy_hash(), password)


def memberships(session: Session, user: User) -> list[tuple[Brand, Role]]:
    """The user's brands with their role in each, by brand name."""
    rows = session.execute(
        select(Brand, Membership.role)
        .join(Membership, Membership.brand_id == Brand.id)
        .where(Membership.user_id == user.id)
        .order_by(Brand.name, Brand.id)
    )
    return [(brand, role) for brand, role in rows]


def brands_for(session: Session, user: User, roles: Iterable[Role] | None = None) -> list[Brand]:
    """The brands where ``user`` has a role (one of ``roles``, when given), by name."""
    query = (
        select(Brand)
        .join(Membership, Membership.brand_id == Brand.id)
        .where(Membership.user_id == user.id)
        .order_by(Brand.name, Brand.id)
    )
    if roles is not None:
        query = query.where(Membership.role.in_([Role(role) for role in roles]))
    return list(session.scalars(query))


def role_in(session: Session, user: User, brand_id: int) -> Role | None:
    """The user's role in the brand, or None when they are no member of it."""
    membership = session.get(Membership, (user.id, brand_id))
    return membership.role if membership is not None else None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password_too_short", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            "password_too_long", f"a password has at most {MAX_PASSWORD_LENGTH} characters"
        )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    """A hash of a random password under the current parameters (for unknown emails)."""
    global _dummy
    if _dummy is None or _dummy[0] is not hasher:
        _dummy = (hasher, hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[1]
