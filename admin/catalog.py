"""Catalog pages of a brand: sites, products and batches.

Every member of the brand sees the lists and objects; owners and staff change them. A
brand the user has no role in, and another brand's object addressed under this brand, are
answered as if they did not exist (404).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import forms
from admin.access import (
    Member,
    created,
    editor_form,
    found_or_404,
    member_of,
    refuse_unless_editor,
)
from admin.views import bp
from tracemark import catalog, errors
from tracemark.models import BatchStatus

DUPLICATES = {
    "name": _l("A site with this name exists already."),
    "gtin": _l("A product with this GTIN exists already."),
    "lot": _l("This product has a batch with this lot already."),
}


def _site_or_none(member: Member, site_id: int):
    return None if site_id == forms.NO_SITE else found_or_404(catalog.get_site, member, site_id)


@bp.route("/brands/<slug>/sites", methods=["GET", "POST"])
@login_required
def sites(slug: str):
    member = member_of(slug)
    form = editor_form(member, forms.SiteForm)
    site = created(
        member,
        form,
        lambda: catalog.create_site(
            member.session,
            member.brand,
            form.name.data,
            region=form.region.data or None,
            country=form.country.data,
            latitude=form.latitude.data,
            longitude=form.longitude.data,
            actor=member.actor,
        ),
        {errors.Duplicate: ("name", DUPLICATES["name"])},
    )
    if site is not None:
        return redirect(url_for("admin.sites", slug=slug))
    return render_template(
        "admin/catalog/sites.html",
        member=member,
        form=form,
        sites=catalog.sites(member.session, member.brand),
    )


@bp.route("/brands/<slug>/products", methods=["GET", "POST"])
@login_required
def products(slug: str):
    member = member_of(slug)
    form = editor_form(member, forms.ProductForm)
    product = created(
        member,
        form,
        lambda: catalog.create_product(
            member.session, member.brand, form.gtin.data, form.name.data, actor=member.actor
        ),
        {
            errors.Duplicate: ("gtin", DUPLICATES["gtin"]),
            catalog.ForeignGtin: (
                "gtin",
                _("This GTIN is not under one of your brand's GS1 company prefixes."),
            ),
        },
    )
    if product is not None:
        return redirect(url_for("admin.product", slug=slug, product_id=product.id))
    return render_template(
        "admin/catalog/products.html",
        member=member,
        form=form,
        products=catalog.products(member.session, member.brand),
    )


@bp.route("/brands/<slug>/products/<id:product_id>", methods=["GET", "POST"])
@login_required
def product(slug: str, product_id: int):
    member = member_of(slug)
    product = found_or_404(catalog.get_product, member, product_id)
    texts = product.texts or {}
    form = editor_form(
        member,
        lambda: forms.ProductEditForm(
            name=product.name,
            **{f"texts_{locale}": texts.get(locale, {}) for locale in forms.LOCALES},
        ),
    )
    if form is not None and form.validate_on_submit():
        catalog.update_product(
            member.session, product, form.name.data, form.texts(), actor=member.actor
        )
        member.session.commit()
        return redirect(url_for("admin.product", slug=slug, product_id=product.id))
    from admin.content import product_content  # (admin.content imports this module)

    return render_template(
        "admin/catalog/product.html",
        member=member,
        form=form,
        product=product,
        **product_content(member, product),
    )


@bp.route("/brands/<slug>/batches", methods=["GET", "POST"])
@login_required
def batches(slug: str):
    member = member_of(slug)
    form = editor_form(member, forms.BatchForm)
    if form is not None:
        form.set_products(catalog.products(member.session, member.brand))
        form.set_sites(catalog.sites(member.session, member.brand))
    batch = created(
        member,
        form,
        lambda: catalog.create_batch(
            member.session,
            found_or_404(catalog.get_product, member, form.product.data),
            form.lot.data,
            production_date=form.production_date.data,
            expiry_date=form.expiry_date.data,
            site=_site_or_none(member, form.site.data),
            line=form.line.data or None,
            actor=member.actor,
        ),
        {errors.Duplicate: ("lot", DUPLICATES["lot"])},
    )
    if batch is not None:
        return redirect(url_for("admin.batch", slug=slug, batch_id=batch.id))
    return render_template(
        "admin/catalog/batches.html",
        member=member,
        form=form,
        batches=catalog.batches(member.session, member.brand),
        status_names=forms.STATUS_NAMES,
    )


@bp.get("/brands/<slug>/batches/<id:batch_id>")
@login_required
def batch(slug: str, batch_id: int):
    member = member_of(slug)
    batch = found_or_404(catalog.get_batch, member, batch_id)
    return _batch_page(member, batch, *_batch_forms(member, batch, None))


@bp.post("/brands/<slug>/batches/<id:batch_id>")
@login_required
def update_batch(slug: str, batch_id: int):
    member = member_of(slug)
    batch = found_or_404(catalog.get_batch, member, batch_id)
    refuse_unless_editor(member)
    facts, status = _batch_forms(member, batch, "facts")
    if facts.validate_on_submit():
        catalog.update_batch(
            member.session,
            batch,
            production_date=facts.production_date.data,
            expiry_date=facts.expiry_date.data,
            site=_site_or_none(member, facts.site.data),
            line=facts.line.data,
            actor=member.actor,
        )
        member.session.commit()
        return redirect(url_for("admin.batch", slug=slug, batch_id=batch.id))
    return _batch_page(member, batch, facts, status)


@bp.post("/brands/<slug>/batches/<id:batch_id>/status")
@login_required
def batch_status(slug: str, batch_id: int):
    member = member_of(slug)
    batch = found_or_404(catalog.get_batch, member, batch_id)
    refuse_unless_editor(member)
    facts, status = _batch_forms(member, batch, "status")
    if status.validate_on_submit():
        notice = status.notice()
        stale = catalog.stale_notices(batch, status.status.data, notice)
        written = [locale for locale, text in notice.items() if text]
        if (
            status.status.data != BatchStatus.RELEASED.value
            and written
            and set(stale) == set(written)
        ):
            status.status.errors.append(
                _l(
                    "The notices were written for the current status: write the notice "
                    "for the new status in at least one language."
                )
            )
            return _batch_page(member, batch, facts, status, code=400)
        catalog.set_batch_status(
            member.session, batch, status.status.data, notice, actor=member.actor
        )
        member.session.commit()
        if stale and status.status.data != BatchStatus.RELEASED.value:
            names = ", ".join(str(forms.LOCALES[locale]) for locale in stale)
            flash(
                _(
                    "Notices left unchanged were removed, as they were written for the "
                    "previous status: %(languages)s. Those pages show the standard text "
                    "for the new status.",
                    languages=names,
                )
            )
        return redirect(url_for("admin.batch", slug=slug, batch_id=batch.id))
    return _batch_page(member, batch, facts, status)


def _batch_forms(member: Member, batch, posted: str | None):
    """The facts and status forms: the ``posted`` one filled from the request, the other
    from ``batch`` (both from ``batch`` when ``posted`` is None)."""
    if not member.can_edit:
        return None, None

    def formdata(prefix: str):
        return request.form if posted == prefix else None

    facts = forms.BatchEditForm(
        formdata("facts"),
        prefix="facts",
        production_date=batch.production_date,
        expiry_date=batch.expiry_date,
        site=batch.site_id or forms.NO_SITE,
        line=batch.line,
    )
    facts.set_sites(catalog.sites(member.session, member.brand))
    notice = batch.notice or {}
    status = forms.BatchStatusForm(
        formdata("status"),
        prefix="status",
        status=batch.status.value,
        **{f"notice_{locale}": notice.get(locale, "") for locale in forms.LOCALES},
    )
    return facts, status


def _batch_page(member: Member, batch, facts, status, issue_form=None, code: int = 200):
    # the batch page holds the batch's stories, pictures and reports, and its codes and
    # labels (both modules import this one)
    from admin import issuance
    from admin.content import batch_content

    page = render_template(
        "admin/catalog/batch.html",
        member=member,
        batch=batch,
        facts=facts,
        status=status,
        status_names=forms.STATUS_NAMES,
        **issuance.section(member, batch, issue_form),
        **batch_content(member, batch),
    )
    return page, code


def batch_page(member: Member, batch, *, issue_form=None, status: int = 200):
    """The batch page with its forms filled from ``batch`` (and ``issue_form`` as sent)."""
    return _batch_page(member, batch, *_batch_forms(member, batch, None), issue_form, status)
