"""Admin pages: signing in and out (with a second factor when set), the dashboard of one's
brands, a brand's audit log."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from admin import auth, intent
from tracemark import audit, catalog, errors
from tracemark.accounts import login_throttle, second_factor, signin
from tracemark.accounts import users as accounts
from tracemark.i18n import LOCALES, text_direction
from tracemark.models import Role
from tracemark.models.base import as_utc
from tracemark.reporting import dashboard as dashboard_figures
from tracemark.web import csrf_error, db_session, error_response, rate_limited

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

#: Audit entries per page.
PAGE_SIZE = 50
ROLE_NAMES = {
    Role.OWNER: _l("Owner"),
    Role.STAFF: _l("Staff"),
    Role.MARKETING: _l("Marketing"),
    Role.REGULATOR: _l("Regulator"),
}


@bp.context_processor
def layout() -> dict:
    locale = str(get_locale())
    return {
        "locale": locale,
        "direction": text_direction(locale),
        "locales": LOCALES,
        "role_name": role_name,
        "form_restored": intent.restored(),
        "utc": as_utc,  # SQLite hands back naive datetimes; they are UTC
    }


@bp.before_request
def restore_kept_form() -> None:
    intent.restore()


#: flask-wtf's reason for a token that is well formed and signed, only too old.
CSRF_EXPIRED = "The CSRF token has expired."


@bp.errorhandler(CSRFError)
def form_expired(error: CSRFError):
    """A signed-in user's form whose token expired comes back filled in, to send again;
    any other CSRF failure is the common 400."""
    if request.method == "POST" and error.description == CSRF_EXPIRED:
        if current_user.is_authenticated:
            if intent.keep(current_user.user.id):
                return redirect(request.path, code=303)
        elif (user_id := intent.stale_user_id()) is not None and intent.keep(user_id):
            return redirect(url_for("admin.login_form", next=request.path), code=303)
    return csrf_error(error)


def role_name(role: Role) -> str:
    return str(ROLE_NAMES[role])


@bp.get("/login")
def login_form():
    target = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(auth.safe_next(target))
    form = auth.LoginForm(next=auth.safe_next(target))
    return render_template(
        "admin/login.html",
        form=form,
        error=None,
        ended=intent.stale_user_id() is not None,
        kept=intent.waiting(),
    )


@bp.post("/login")
@rate_limited("login")
def login():
    """Check the password; the answer never tells whether the email exists, nor whether
    the attempt was throttled (``tracemark.accounts.login_throttle``): each costs one
    password hash. Past the account-wide ceiling only a known device, or an account with
    a second factor going on to its code, gets further."""
    form = auth.LoginForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        email = accounts.normalize_email(form.email.data)
        attempt = auth.login_attempt(email)
        gate = login_throttle.gate(session, attempt)
        if gate is login_throttle.Gate.BACKOFF:
            accounts.spend_password_check(form.password.data)
            user = None
        else:
            user = accounts.authenticate(session, email, form.password.data)
        if user is not None and second_factor.is_enabled(user):
            session.commit()
            auth.begin_second_factor(user, form.next.data)
            return redirect(url_for("admin.login_code_form"))
        if user is not None and gate is login_throttle.Gate.OPEN:
            login_throttle.succeeded(session, attempt)
            signin.signed_in(session, user)
            session.commit()
            auth.sign_in(user)
            auth.remember_device(email)
            return redirect(auth.safe_next(form.next.data))
        locked = gate is login_throttle.Gate.BACKOFF
        # the right password, from an unknown device, past the ceiling
        ceiling = not locked and user is not None
        if ceiling:
            session.rollback()  # not signed in: nothing of a sign-in is kept
        elif not locked and accounts.is_email(email):
            login_throttle.record_failure(session, attempt, auth.throttle_policy())
        signin.sign_in_failed(session, email, locked=locked, ceiling=ceiling)
        session.commit()
        error = gettext("The email address or the password is not correct.")
    form.password.data = ""
    return render_template("admin/login.html", form=form, error=error, ended=False, kept=False)


@bp.get("/login/code")
def login_code_form():
    if auth.pending_user() is None:
        return redirect(url_for("admin.login_form"))
    return render_template("admin/login_code.html", form=auth.CodeForm(), error=None)


@bp.post("/login/code")
@rate_limited("login")
def login_code():
    """The second step: a code from the authenticator, or an unused recovery code. Wrong
    codes count against the throttle as wrong passwords do; a correct code passes the
    account-wide ceiling, not a source's backoff."""
    user = auth.pending_user()
    if user is None:
        return redirect(url_for("admin.login_form"))
    form = auth.CodeForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        attempt = auth.login_attempt(user.email)
        kind = None
        if login_throttle.gate(session, attempt) is not login_throttle.Gate.BACKOFF:
            kind = second_factor.verify(session, user, form.code.data, current_app.secret_key)
        if kind is not None:
            login_throttle.succeeded(session, attempt)
            signin.signed_in(session, user, second_factor_kind=kind)
            session.commit()
            target = auth.pending_target()
            auth.sign_in(user)
            auth.remember_device(user.email)
            return redirect(target)
        login_throttle.record_failure(session, attempt, auth.throttle_policy())
        signin.sign_in_failed(session, user.email, user=user, stage="second_factor")
        session.commit()
        error = gettext("The code is not correct, or was used already.")
    form.code.data = ""
    return render_template("admin/login_code.html", form=form, error=error)


@bp.post("/logout")
def logout():
    """Sign out here and everywhere: the session version is raised, so a copy of this
    session's cookie (or any other session of the user) opens nothing any more."""
    if current_user.is_authenticated:
        session = db_session()
        signin.signed_out(session, auth.signed_in_user())
        session.commit()
    auth.sign_out()
    return redirect(url_for("admin.login_form"))


@bp.get("/")
@login_required
def dashboard():
    session = db_session()
    memberships = accounts.memberships(session, auth.signed_in_user())
    figures = dashboard_figures.brand_figures(
        session, [brand.id for brand, _role in memberships], dt.datetime.now(dt.UTC).date()
    )
    return render_template(
        "admin/dashboard.html",
        memberships=memberships,
        figures=figures,
        tiles=DASHBOARD_TILES,
        Role=Role,
    )


#: The figures each role sees first on the dashboard, most wanted first.
DASHBOARD_TILES = {
    Role.OWNER: ("scans", "suspected", "on_hold", "first_pass", "outbox_failures"),
    Role.STAFF: ("on_hold", "first_pass", "suspected", "scans"),
    Role.MARKETING: ("scans", "suspected", "not_genuine"),
    Role.REGULATOR: ("recalled", "on_hold", "suspected"),
}


@bp.get("/brands/<slug>/audit")
@login_required
def audit_log(slug: str):
    """The brand's audit log, newest first, for its owners.

    A brand the user has no role in is answered as if it did not exist.
    """
    session = db_session()
    try:
        brand = catalog.get_brand(session, slug)
    except errors.NotFound:
        abort(404)
    role = accounts.role_in(session, auth.signed_in_user(), brand.id)
    if role is None:
        abort(404)
    if role is not Role.OWNER:
        return error_response(
            403, "forbidden", gettext("Only the brand's owners can see its audit log.")
        )
    before = request.args.get("before", type=int)
    page = audit.entries(session, brand.id, PAGE_SIZE + 1, before_id=before)
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return render_template(
        "admin/audit.html",
        brand=brand,
        entries=page,
        older=page[-1].id if more else None,
        as_json=_as_json,
    )


def _as_json(details: dict) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""
