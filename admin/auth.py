"""Signing in to the admin app: the login form, Flask-Login wiring and session rules.

A session names the user *and* the ``session_version`` it was made under, and records
when the password was checked: raising the version (``accounts.end_sessions``),
deactivating the user, or the session growing older than
``TRACEMARK_ADMIN_SESSION_MAX_AGE`` seconds ends it.

With a second factor, a correct password only starts a *pending* state: the session then
holds the user's id, version and the time, but no Flask-Login user, so no page behind
``login_required`` opens; the code must follow within
``TRACEMARK_ADMIN_SECOND_FACTOR_TIMEOUT`` seconds.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, after_this_request, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from admin import intent
from tracemark.accounts import login_throttle, second_factor
from tracemark.accounts.users import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from tracemark.models import User
from tracemark.web import db_session

#: Session key holding the Unix time the password was checked.
SIGNED_IN_AT = "tm_signed_in_at"
#: Session key of the pending (password checked, code awaited) state.
PENDING = "tm_second_factor"
DEFAULT_MAX_AGE = 12 * 3600
#: The known-device cookie (``login_throttle``): signed, HttpOnly, for the admin app only.
DEVICE_COOKIE = "tm_staff_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
#: Addresses one known-device cookie remembers.
DEVICE_ACCOUNTS = 5
DEFAULT_SECOND_FACTOR_TIMEOUT = 300
_USER_ID = re.compile(r"([0-9]{1,18}):([0-9]{1,18})")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=MAX_EMAIL_LENGTH),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=64)],
    )


class SignedIn(UserMixin):
    """The signed-in user as Flask-Login sees it (the core model stays free of Flask)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_version}"

    @property
    def is_active(self) -> bool:
        return self.user.is_active


def signed_in_user() -> User:
    """The current user's model (only under ``login_required``)."""
    return current_user.user


def sign_in(user: User) -> None:
    """Start a fresh session for ``user``: nothing from before signing in survives it
    (session fixation), not even the CSRF token — only a form kept for this very user
    (``admin.intent``)."""
    kept = intent.carry(user.id)
    session.clear()
    login_user(SignedIn(user))
    session[SIGNED_IN_AT] = int(time.time())
    intent.put_back(kept)


def begin_second_factor(user: User, target: str | None) -> None:
    """The password was right and ``user`` has a second factor: a fresh session that only
    awaits the code (then :func:`sign_in`), and where to go after."""
    kept = intent.carry(user.id)
    session.clear()
    session[PENDING] = {
        "uid": user.id,
        "v": user.session_version,
        "at": int(time.time()),
        "next": safe_next(target),
    }
    intent.put_back(kept)


def pending_user() -> User | None:
    """The user whose code is awaited, while the pending state is young and still valid."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int):
        return None
    timeout = current_app.config["TRACEMARK_ADMIN_SECOND_FACTOR_TIMEOUT"]
    if not 0 <= time.time() - pending["at"] <= timeout:
        session.pop(PENDING, None)
        return None
    user = db_session().get(User, pending.get("uid"))
    valid = (
        user is not None
        and user.is_active
        and user.session_version == pending.get("v")
        and second_factor.is_enabled(user)
    )
    return user if valid else None


def pending_target() -> str:
    pending = session.get(PENDING)
    return safe_next(pending.get("next") if isinstance(pending, dict) else None)


def throttle_policy() -> login_throttle.Policy:
    config = current_app.config

    def seconds(name: str) -> dt.timedelta:
        return dt.timedelta(seconds=config[name])

    return login_throttle.Policy(
        free=config["TRACEMARK_LOGIN_FREE_FAILURES"],
        backoff=seconds("TRACEMARK_LOGIN_BACKOFF_SECONDS"),
        max_lock=seconds("TRACEMARK_LOGIN_BACKOFF_MAX_SECONDS"),
        forget=seconds("TRACEMARK_LOGIN_FORGET_SECONDS"),
        ceiling=config["TRACEMARK_ACCOUNT_CEILING_FAILURES"],
        ceiling_window=seconds("TRACEMARK_ACCOUNT_CEILING_WINDOW"),
        ceiling_lock=seconds("TRACEMARK_ACCOUNT_CEILING_SECONDS"),
    )


def login_attempt(email: str) -> login_throttle.Attempt:
    """This request's attempt at ``email``: counted under this known device, if the
    browser signed in to ``email`` before, else under the client's network."""
    return login_throttle.Attempt.of(email, request.remote_addr, known_device())


def _device_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="tracemark.known-device")


def known_device() -> login_throttle.KnownDevice | None:
    """The browser's known-device cookie, when it is ours, unchanged and young enough."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value or len(value) > 2000:
        return None
    try:
        payload = _device_signer().loads(value, max_age=DEVICE_MAX_AGE)
    except BadSignature:  # tampered, another app's or expired
        return None
    if not isinstance(payload, dict):
        return None
    device, accounts = payload.get("d"), payload.get("a")
    if not isinstance(device, str) or not isinstance(accounts, list):
        return None
    return login_throttle.KnownDevice(device, frozenset(a for a in accounts if isinstance(a, str)))


def remember_device(email: str) -> None:
    """After a successful sign-in: this browser becomes (or stays) a known device of
    ``email`` for :data:`DEVICE_MAX_AGE`, keeping the last few addresses it signed in to."""
    device = known_device()
    device_id = device.id if device is not None else secrets.token_urlsafe(16)
    tag = login_throttle.account_tag(email)
    kept = [a for a in (device.accounts if device is not None else ()) if a != tag]
    value = _device_signer().dumps({"d": device_id, "a": [tag, *sorted(kept)][:DEVICE_ACCOUNTS]})

    @after_this_request
    def set_cookie(response):
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_MAX_AGE,
            path=url_for("admin.dashboard"),
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False) or request.is_secure,
            httponly=True,
            samesite="Lax",
        )
        return response


def sign_out() -> None:
    logout_user()
    session.clear()


def safe_next(target: str | None) -> str:
    """``target`` if it is a path inside the admin app, else the dashboard."""
    home = url_for("admin.dashboard")
    if not target or not target.isprintable() or "\\" in target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(home):
        return home
    return target


def _load_user(user_id: str) -> SignedIn | None:
    match = _USER_ID.fullmatch(user_id)
    signed_in_at = session.get(SIGNED_IN_AT)
    if match is None or not isinstance(signed_in_at, int):
        return None
    max_age = current_app.config["TRACEMARK_ADMIN_SESSION_MAX_AGE"]
    if not 0 <= time.time() - signed_in_at <= max_age:
        return None
    user = db_session().get(User, int(match.group(1)))
    if user is None or not user.is_active or user.session_version != int(match.group(2)):
        return None
    return SignedIn(user)


def _unauthorized():
    """Not signed in (or the session ended): to the login form, coming back here after —
    with the form that was being sent, when the session had a user (``admin.intent``)."""
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        user_id = intent.stale_user_id()
        if user_id is None or not intent.has_page(request.path):
            target = url_for("admin.dashboard")
        else:
            intent.keep(user_id)
    return redirect(url_for("admin.login_form", next=target))


class _SessionCookies(SecureCookieSessionInterface):
    """Session cookies are Secure when configured so, or when the request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def init_app(app: Flask) -> LoginManager:
    """Give ``app`` its own login manager and session cookie rules."""
    app.config.setdefault("TRACEMARK_ADMIN_SESSION_MAX_AGE", DEFAULT_MAX_AGE)
    app.config.setdefault("TRACEMARK_ADMIN_SECOND_FACTOR_TIMEOUT", DEFAULT_SECOND_FACTOR_TIMEOUT)
    # per attempted address and source (network or known device): 5 free failures, then
    # a lock of 30 s doubling per failure up to an hour; forgotten a day after it began
    app.config.setdefault("TRACEMARK_LOGIN_FREE_FAILURES", 5)
    app.config.setdefault("TRACEMARK_LOGIN_BACKOFF_SECONDS", 30)
    app.config.setdefault("TRACEMARK_LOGIN_BACKOFF_MAX_SECONDS", 3600)
    app.config.setdefault("TRACEMARK_LOGIN_FORGET_SECONDS", 24 * 3600)
    # per attempted address from anywhere: 50 failures in an hour close it for an hour to
    # all but known devices and correct second factors
    app.config.setdefault("TRACEMARK_ACCOUNT_CEILING_FAILURES", 50)
    app.config.setdefault("TRACEMARK_ACCOUNT_CEILING_WINDOW", 3600)
    app.config.setdefault("TRACEMARK_ACCOUNT_CEILING_SECONDS", 3600)
    app.session_interface = _SessionCookies()
    manager = LoginManager()
    manager.login_view = "admin.login_form"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)
    return manager
