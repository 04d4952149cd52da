"""A brand's GS1 company prefixes: the owners claim the prefixes GS1 licensed to the brand
(its products, links and codes fall under them) and release one claimed by mistake. The
changes go through ``tracemark.catalog``, which audits them."""

from __future__ import annotations

from flask import make_response, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from wtforms import StringField
from wtforms.validators import DataRequired

from admin.access import member_in_roles
from admin.intent import RestorableForm
from admin.views import bp
from tracemark import catalog
from tracemark.models import Role

OWNERS = frozenset({Role.OWNER})

#: What the page says for each of the core's refusals.
PROBLEMS = {
    "bad_prefix": _l("A GS1 company prefix has 4 to 12 digits."),
    "prefix_taken": _l("Another brand holds this prefix, or one overlapping it."),
    "prefix_in_use": _l("Products are registered under this prefix."),
    "not_held": _l("The brand does not hold this prefix."),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class PrefixForm(RestorableForm):
    prefix = StringField(
        _l("GS1 company prefix"),
        filters=[_strip],
        validators=[DataRequired(_l("Enter the prefix."))],
    )


class ReleasePrefixForm(RestorableForm):
    """Releasing a prefix: a button (its CSRF token is the form)."""


def _member(slug: str):
    return member_in_roles(
        slug, OWNERS, _l("Only the brand's owners manage its GS1 company prefixes.")
    )


def _page(member, form, status: int = 200, problem=None):
    return make_response(
        render_template(
            "admin/catalog/prefixes.html",
            member=member,
            form=form,
            release_form=ReleasePrefixForm(),
            prefixes=catalog.prefixes(member.session, member.brand),
            problem=problem,
        ),
        status,
    )


@bp.route("/brands/<slug>/prefixes", methods=["GET", "POST"])
@login_required
def prefixes(slug: str):
    member = _member(slug)
    form = PrefixForm()
    if not form.validate_on_submit():
        return _page(member, form, status=400 if form.is_submitted() else 200)
    try:
        catalog.claim_prefix(member.session, member.brand, form.prefix.data, actor=member.actor)
    except catalog.PrefixProblem as problem:
        form.prefix.errors.append(PROBLEMS[problem.code])
        return _page(member, form, status=400)
    member.session.commit()
    return redirect(url_for("admin.prefixes", slug=slug), code=303)


@bp.post("/brands/<slug>/prefixes/<string:company_prefix>/release")
@login_required
def release_prefix(slug: str, company_prefix: str):
    member = _member(slug)
    if not ReleasePrefixForm().validate_on_submit():
        return _page(member, PrefixForm(formdata=None), status=400)
    try:
        catalog.release_prefix(member.session, member.brand, company_prefix, actor=member.actor)
    except catalog.PrefixProblem as problem:
        status = 404 if problem.code == "not_held" else 409
        return _page(
            member, PrefixForm(formdata=None), status=status, problem=PROBLEMS[problem.code]
        )
    member.session.commit()
    return redirect(url_for("admin.prefixes", slug=slug), code=303)
