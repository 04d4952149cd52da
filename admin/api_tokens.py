"""A brand's API tokens for its own systems: owners list, create (the token is shown
once, on the answer to the form) and revoke them; every change is audited."""

from __future__ import annotations

from flask import abort, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required

from admin import forms
from admin.access import owner_of
from admin.views import bp
from tracemark.accounts import tokens as api_tokens
from tracemark.web import error_response


def _owners_only():
    return error_response(
        403, "forbidden", gettext("Only the brand's owners manage its API tokens.")
    )


def _page(member, form, created: str | None = None, status: int = 200):
    response = make_response(
        render_template(
            "admin/api_tokens.html",
            member=member,
            form=form,
            revoke_form=forms.RevokeApiTokenForm(),
            tokens=api_tokens.tokens(member.session, member.brand),
            created=created,
        ),
        status,
    )
    response.headers["Cache-Control"] = "no-store"  # the page may show a secret
    return response


@bp.route("/brands/<slug>/tokens", methods=["GET", "POST"])
@login_required
def api_token_list(slug: str):
    member = owner_of(slug, _owners_only)
    form = forms.ApiTokenForm()
    if not form.validate_on_submit():
        return _page(member, form, status=400 if form.is_submitted() else 200)
    try:
        _row, token = api_tokens.create_token(
            member.session, member.brand, form.name.data, form.scopes(), actor=member.actor
        )
    except api_tokens.TokenError:
        form.name.errors.append(gettext("Say what the token is for."))
        return _page(member, form, status=400)
    member.session.commit()
    return _page(member, forms.ApiTokenForm(formdata=None), created=token)


@bp.post("/brands/<slug>/tokens/<prefix>/revoke")
@login_required
def revoke_api_token(slug: str, prefix: str):
    member = owner_of(slug, _owners_only)
    try:
        row = api_tokens.get_token(member.session, prefix, member.brand)
    except api_tokens.TokenError:
        abort(404)
    if not forms.RevokeApiTokenForm().validate_on_submit():
        return _page(member, forms.ApiTokenForm(formdata=None), status=400)
    if api_tokens.revoke_token(member.session, row, actor=member.actor):
        member.session.commit()
    return redirect(url_for("admin.api_token_list", slug=slug), code=303)
