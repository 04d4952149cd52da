"""The signed-in user's own account: password, TOTP second factor, recovery codes.

Changing the password or turning the second factor on or off ends the user's other
sessions (``accounts.end_sessions``) and starts this one afresh. Each change is audited
(without a brand). Sending a password or a code here draws on the sign-in budget.
"""

from __future__ import annotations

import functools

import segno
from flask import current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from admin import auth
from admin.intent import RestorableForm
from admin.views import bp
from tracemark.accounts import second_factor
from tracemark.accounts import users as accounts
from tracemark.accounts.users import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from tracemark.models import User
from tracemark.web import db_session, rate_limited

#: Session key of the secret offered for enrolment (encrypted like a stored one).
ENROLMENT = "tm_totp_enrolment"


def _password_field(label, message, autocomplete: str = "current-password"):
    return PasswordField(
        label,
        validators=[DataRequired(message), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": autocomplete},
    )


def _code_field():
    return StringField(
        _l("Code"),
        validators=[DataRequired(_l("Enter the code.")), Length(max=64)],
        render_kw={"autocomplete": "one-time-code"},
    )


class PasswordForm(RestorableForm):
    current_password = _password_field(_l("Current password"), _l("Enter your password."))
    new_password = _password_field(_l("New password"), _l("Enter a new password."), "new-password")
    new_password_again = _password_field(
        _l("New password, again"), _l("Enter the new password again."), "new-password"
    )

    def validate_new_password(self, field) -> None:
        if len(field.data) < MIN_PASSWORD_LENGTH:
            raise ValidationError(
                _l("A password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH)
            )

    def validate_new_password_again(self, field) -> None:
        EqualTo("new_password", _l("The two new passwords differ."))(self, field)


class EnableForm(RestorableForm):
    code = _code_field()


class DisableForm(RestorableForm):
    password = _password_field(_l("Password"), _l("Enter your password."))
    code = _code_field()


def _page(user: User, *, password=None, enable=None, disable=None, codes=None, status=200):
    enabled = second_factor.is_enabled(user)
    enrolment = None if enabled else _enrolment(user)
    return render_template(
        "admin/account.html",
        user=user,
        enabled=enabled,
        password_form=password or PasswordForm(),
        enable_form=enable or (None if enabled else EnableForm()),
        disable_form=disable or (DisableForm() if enabled else None),
        secret=enrolment,
        qr=segno.make(second_factor.uri(user, enrolment), error="m").svg_data_uri(scale=4)
        if enrolment
        else None,
        left=second_factor.recovery_codes_left(db_session(), user) if enabled else None,
        recovery_codes=codes,
    ), status


def _enrolment(user: User) -> str:
    """The secret offered to ``user`` in this session (a new one the first time)."""
    key = current_app.secret_key
    stored = session.get(ENROLMENT)
    if isinstance(stored, str):
        try:
            return second_factor.decrypt_secret(stored, key, user.id)
        except second_factor.SecretUnreadable:
            pass
    secret = second_factor.new_enrolment(user).secret
    session[ENROLMENT] = second_factor.encrypt_secret(secret, key, user.id)
    return secret


def _restart(user: User) -> None:
    """End the user's other sessions, commit (the change audited itself), and renew this
    one."""
    db = db_session()
    accounts.end_sessions(db, user)
    db.commit()
    auth.sign_in(user)


@bp.get("/account")
@login_required
def account():
    return _page(auth.signed_in_user())


def _back():
    return redirect(url_for("admin.account"), code=303)


def _sends_secret(rule: str, *, second_factor_on: bool | None = None):
    """Register ``view(user)`` as the account page's POST ``rule``, which sends a password or
    a code: for the signed-in user only, and drawing on the sign-in budget. With
    ``second_factor_on``, the change makes sense only while the second factor is on (True)
    or off (False); otherwise (a stale page, a second submit) the user is sent back to the
    page."""

    def register(view):
        @functools.wraps(view)
        def post():
            user = auth.signed_in_user()
            if second_factor_on not in (None, second_factor.is_enabled(user)):
                return _back()
            return view(user)

        return bp.post(rule)(login_required(rate_limited("login")(post)))

    return register


@_sends_secret("/account/password")
def change_password(user: User):
    form = PasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(user, form.current_password.data):
            form.current_password.errors.append(_l("This is not your current password."))
        else:
            accounts.set_password(db_session(), user, form.new_password.data)
            _restart(user)
            flash(gettext("Your password is changed. Your other sessions have ended."))
            return _back()
    return _page(user, password=form, status=400)


@_sends_secret("/account/second-factor", second_factor_on=False)
def enable_second_factor(user: User):
    form = EnableForm()
    if form.validate_on_submit():
        secret = _enrolment(user)
        codes = second_factor.enable(
            db_session(), user, secret, form.code.data, current_app.secret_key
        )
        if codes is not None:
            _restart(user)
            return _page(user, codes=codes)
        form.code.errors.append(_l("This code is not right. Check your device's clock."))
    return _page(user, enable=form, status=400)


@_sends_secret("/account/second-factor/disable", second_factor_on=True)
def disable_second_factor(user: User):
    form = DisableForm()
    if form.validate_on_submit():
        db = db_session()
        if not accounts.check_password(user, form.password.data):
            form.password.errors.append(_l("This is not your current password."))
        elif second_factor.verify(db, user, form.code.data, current_app.secret_key) is None:
            form.code.errors.append(_l("The code is not correct, or was used already."))
        else:
            second_factor.disable(db, user)
            _restart(user)
            flash(gettext("Two-step sign-in is off. Your other sessions have ended."))
            return _back()
    form.code.data = ""
    return _page(user, disable=form, status=400)
