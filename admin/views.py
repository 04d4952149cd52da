"""Admin pages: signing in and out, the dashboard of one's brands, a brand's audit log."""

from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from admin import auth
from tracemark import accounts, audit, catalog
from tracemark.i18n import LOCALES, text_direction
from tracemark.models import Role
from tracemark.models.base import as_utc
from tracemark.web import db_session, error_response, rate_limited

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
    }


def role_name(role: Role) -> str:
    return str(ROLE_NAMES[role])


@bp.get("/login")
def login_form():
    target = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(auth.safe_next(target))
    form = auth.LoginForm(next=auth.safe_next(target))
    return render_template("admin/login.html", form=form, error=None)


@bp.post("/login")
@rate_limited("login")
def login():
    """Check the password; the answer never tells whether the email exists."""
    form = auth.LoginForm()
    error = None
    if form.validate_on_submit():
        session = db_session()
        user = accounts.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            audit.record(session, "user.login", user=user, object_type="user", object_id=user.id)
            session.commit()
            auth.sign_in(user)
            return redirect(auth.safe_next(form.next.data))
        # the attempted email only when it looks like one (never a password typed there)
        email = accounts.normalize_email(form.email.data)
        details = {"email": email} if accounts.is_email(email) else {}
        audit.record(session, "user.login_failed", details=details)
        session.commit()
        error = gettext("The email address or the password is not correct.")
    form.password.data = ""
    return render_template("admin/login.html", form=form, error=error)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        session = db_session()
        user = auth.signed_in_user()
        audit.record(session, "user.logout", user=user, object_type="user", object_id=user.id)
        session.commit()
    auth.sign_out()
    return redirect(url_for("admin.login_form"))


@bp.get("/")
@login_required
def dashboard():
    memberships = accounts.memberships(db_session(), auth.signed_in_user())
    return render_template("admin/dashboard.html", memberships=memberships, Role=Role)


@bp.get("/brands/<slug>/audit")
@login_required
def audit_log(slug: str):
    """The brand's audit log, newest first, for its owners.

    A brand the user has no role in is answered as if it did not exist.
    """
    session = db_session()
    try:
        brand = catalog.get_brand(session, slug)
    except catalog.NotFound:
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
        utc=as_utc,
    )


def _as_json(details: dict) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""
