"""A brand's signing keys: every member sees them (they are public); owners retire or
revoke them, and ask for new code keys, which the worker makes (see
:mod:`tracemark.codes.key_requests`): the passphrase that encrypts code keys never reaches the web
servers."""

from __future__ import annotations

import contextlib

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from admin import forms
from admin.access import Member, member_of, owner_of
from admin.views import bp
from tracemark.codes import key_requests, keystore
from tracemark.models import Role, SigningKey
from tracemark.web import error_response


def _owners_only():
    return error_response(403, "forbidden", gettext("Only the brand's owners manage its keys."))


def _owner_key(slug: str, kid: str) -> tuple[Member, SigningKey]:
    """The owner and their brand's key ``kid`` (a 403 for another role, then a 404 for an
    unknown key or another brand's)."""
    member = owner_of(slug, _owners_only)
    try:
        return member, keystore.get_key(member.session, kid, member.brand)
    except keystore.KeyStateError:
        abort(404)


def _page(member, form, status: int = 200, request_form=None):
    owner = member.role is Role.OWNER
    return render_template(
        "admin/keys.html",
        member=member,
        keys=keystore.brand_keys(member.session, member.brand),
        form=form,
        request_form=request_form or (forms.KeyRequestForm() if owner else None),
        requests=key_requests.recent_requests(member.session, member.brand),
    ), status


@bp.get("/brands/<slug>/keys")
@login_required
def keys(slug: str):
    member = member_of(slug)
    return _page(member, forms.RevokeKeyForm() if member.role is Role.OWNER else None)


@bp.post("/brands/<slug>/keys/requests")
@login_required
def request_key(slug: str):
    member = owner_of(slug, _owners_only)
    form = forms.KeyRequestForm()
    if not form.validate_on_submit():
        return _page(member, forms.RevokeKeyForm(formdata=None), 400, request_form=form)
    # a double submit, or another owner asking too: one key is on its way
    with contextlib.suppress(key_requests.AlreadyRequested):
        key_requests.request_key(member.session, member.brand, member.user, actor=member.actor)
    return _done(member)


@bp.post("/brands/<slug>/keys/<kid>/retire")
@login_required
def retire_key(slug: str, kid: str):
    member, key = _owner_key(slug, kid)
    try:
        keystore.retire_key(member.session, key, actor=member.actor)
    except keystore.KeyStateError:
        return error_response(400, "key_state", gettext("A revoked key cannot be retired."))
    return _done(member)


@bp.post("/brands/<slug>/keys/<kid>/revoke")
@login_required
def revoke_key(slug: str, kid: str):
    member, key = _owner_key(slug, kid)
    form = forms.RevokeKeyForm()
    if form.validate_on_submit():
        keystore.revoke_key(member.session, key, form.reason.data.strip(), actor=member.actor)
        return _done(member)
    return _page(member, form, 400)


def _done(member: Member):
    """Commit what the view changed (the operation audited itself) and go back to the keys
    page."""
    member.session.commit()
    return redirect(url_for("admin.keys", slug=member.brand.slug), code=303)
