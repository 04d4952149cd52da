"""The resolver link editor: a product's links (at the GTIN and its batches' levels) for
every member to read, for owners and staff to add, edit (titles per language included),
make default and delete. The changes go through ``tracemark.resolver.links``, which
audits them."""

from __future__ import annotations

from flask import Response, abort, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import resolver_forms as forms
from admin.access import found_or_404, member_of, refuse_unless_editor
from admin.views import bp
from tracemark import catalog
from tracemark.models import ResolverLink
from tracemark.resolver import links as resolver_links
from tracemark.resolver.vocabulary import GS1_LINK_TYPES
from tracemark.web import error_response

#: What the editor says for each of the core's refusals, by field and code.
PROBLEMS = {
    "unknown_link_type": _l("Choose a link type of the GS1 Web vocabulary, such as gs1:pip."),
    "bad_target": _l("Enter an absolute http or https address."),
    "title_required": _l("Give the link a title in at least one language."),
    "title_too_long": _l("A title has at most 200 characters."),
    "bad_locale": _l("Give the link a title in at least one language."),
    "bad_qualifiers": _l("Enter a level such as /10/L2401A, or leave it empty."),
    "bad_hreflang": _l("Enter a language tag such as en or pt-BR."),
    "bad_media_type": _l("Enter a media type such as text/html."),
    "foreign_gtin": _l(
        "This product's GTIN is under none of your brand's GS1 company prefixes: "
        "claim the prefix first."
    ),
}
#: Where the editor shows a refusal that names no field of the form.
FIELD_OF = {"titles": f"title_{next(iter(forms.LOCALES))}", "gtin": "link_type"}


def _forbidden():
    return error_response(
        403, "forbidden", gettext("Only the brand's owners and staff can change its links.")
    )


def _link_of(member, product, link_id: int) -> ResolverLink:
    link = member.session.get(ResolverLink, link_id)
    if link is None or link.product_id != product.id:
        abort(404)
    return link


def _back(slug: str, product) -> Response:
    return redirect(url_for("admin.product_links", slug=slug, product_id=product.id), code=303)


def _page(member, product, form, status: int = 200):
    return make_response(
        render_template(
            "admin/resolver/links.html",
            member=member,
            product=product,
            form=form,
            delete_form=forms.DeleteLinkForm(),
            links=resolver_links.links_of_product(member.session, product),
            link_types=sorted(f"gs1:{term}" for term in GS1_LINK_TYPES),
            audience_names=forms.AUDIENCE_NAMES,
            locales=forms.LOCALES,
        ),
        status,
    )


@bp.route("/brands/<slug>/products/<id:product_id>/links", methods=["GET", "POST"])
@login_required
def product_links(slug: str, product_id: int):
    member = member_of(slug)
    product = found_or_404(catalog.get_product, member, product_id)
    form = forms.LinkForm() if member.can_edit else None
    if form is None:
        if forms.LinkForm().is_submitted():
            return _forbidden()
        return _page(member, product, None)
    if not form.validate_on_submit():
        return _page(member, product, form, status=400 if form.is_submitted() else 200)
    try:
        resolver_links.add_link(member.session, product, form.data_for_core(), actor=member.actor)
    except resolver_links.LinkError as problem:
        form[FIELD_OF.get(problem.field, problem.field)].errors.append(PROBLEMS[problem.code])
        return _page(member, product, form, status=400)
    member.session.commit()
    return _back(slug, product)


@bp.route(
    "/brands/<slug>/products/<id:product_id>/links/<id:link_id>/edit", methods=["GET", "POST"]
)
@login_required
def edit_product_link(slug: str, product_id: int, link_id: int):
    """One link's form, filled with it; saving replaces every field (titles included)."""
    member = member_of(slug)
    product = found_or_404(catalog.get_product, member, product_id)
    link = _link_of(member, product, link_id)
    refuse_unless_editor(member, _forbidden)
    form = forms.LinkForm() if forms.LinkForm().is_submitted() else forms.LinkForm.of_link(link)
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate_on_submit():
            try:
                resolver_links.update_link(
                    member.session, link, form.data_for_core(), actor=member.actor
                )
            except resolver_links.LinkError as problem:
                field = FIELD_OF.get(problem.field, problem.field)
                form[field].errors.append(PROBLEMS[problem.code])
            else:
                member.session.commit()
                return _back(slug, product)
    return make_response(
        render_template(
            "admin/resolver/edit_link.html",
            member=member,
            product=product,
            link=link,
            form=form,
            link_types=sorted(f"gs1:{term}" for term in GS1_LINK_TYPES),
            locales=forms.LOCALES,
        ),
        status,
    )


@bp.post("/brands/<slug>/products/<id:product_id>/links/<id:link_id>/default")
@login_required
def default_product_link(slug: str, product_id: int, link_id: int):
    """Make the link the default of its level."""
    return _change_link(slug, product_id, link_id, resolver_links.set_default)


@bp.post("/brands/<slug>/products/<id:product_id>/links/<id:link_id>/delete")
@login_required
def delete_product_link(slug: str, product_id: int, link_id: int):
    return _change_link(slug, product_id, link_id, resolver_links.delete_link)


def _change_link(slug: str, product_id: int, link_id: int, operation):
    """Apply ``operation`` (a core one taking the session, the link and the actor) to a
    product's link, once the button's form is sent whole by an editor."""
    member = member_of(slug)
    product = found_or_404(catalog.get_product, member, product_id)
    link = _link_of(member, product, link_id)
    refuse_unless_editor(member, _forbidden)
    if not forms.DeleteLinkForm().validate_on_submit():
        return _page(member, product, forms.LinkForm(formdata=None), status=400)
    operation(member.session, link, actor=member.actor)
    member.session.commit()
    return _back(slug, product)
