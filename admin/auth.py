"""Signing in to the admin app: the login form, Flask-Login wiring and session rules.

A session names the user *and* the ``session_version`` it was made under, and records
when the password was checked: raising the version (``accounts.end_sessions``),
deactivating the user, or the session growing older than
``TRACEMARK_ADMIN_SESSION_MAX_AGE`` seconds ends it.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from tracemark.accounts import MAX_EMAIL_LENGTH, MAX_PASSWORD_LENGTH
from tracemark.models import User
from tracemark.web import db_session

#: Session key holding the Unix time the password was checked.
SIGNED_IN_AT = "tm_signed_in_at"
DEFAULT_MAX_AGE = 12 * 3600
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
    (session fixation), not even the CSRF token."""
    session.clear()
    login_user(SignedIn(user))
    session[SIGNED_IN_AT] = int(time.time())


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
    """Not signed in (or the session ended): to the login form, coming back here after."""
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        target = url_for("admin.dashboard")
    return redirect(url_for("admin.login_form", next=target))


class _SessionCookies(SecureCookieSessionInterface):
    """Session cookies are Secure when configured so, or when the request came over TLS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def init_app(app: Flask) -> LoginManager:
    """Give ``app`` its own login manager and session cookie rules."""
    app.config.setdefault("TRACEMARK_ADMIN_SESSION_MAX_AGE", DEFAULT_MAX_AGE)
    app.session_interface = _SessionCookies()
    manager = LoginManager()
    manager.login_view = "admin.login_form"
    manager.user_loader(_load_user)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)
    return manager
