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
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
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
    return login_throttle.Policy(
        failures=config["TRACEMARK_ACCOUNT_LOCK_FAILURES"],
        window=dt.timedelta(seconds=config["TRACEMARK_ACCOUNT_LOCK_WINDOW"]),
        lock=dt.timedelta(seconds=config["TRACEMARK_ACCOUNT_LOCK_SECONDS"]),
    )


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
    # per attempted address, whatever the client: 5 failures in 15 minutes lock it for 15
    app.config.setdefault("TRACEMARK_ACCOUNT_LOCK_FAILURES", 5)
    app.config.setdefault("TRACEMARK_ACCOUNT_LOCK_WINDOW", 15 * 60)
    app.config.setdefault("TRACEMARK_ACCOUNT_LOCK_SECONDS", 15 * 60)
    app.session_interface = _SessionCookies()
    manager = LoginManager()
    manager.login_view = "admin.login_form"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)
    return manager
