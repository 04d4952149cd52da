"""Suppliers and material lots of a brand: lists, receiving a lot, a lot's page with its
status (lock and release).

Owners, staff and regulators read them (where materials come from is provenance);
marketing does not. Owners and staff change them. Another brand's lot or supplier under
this brand's address is not found (404).
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import trace_forms
from admin.access import (
    Member,
    created,
    editor_form,
    found_or_404,
    member_in_roles,
    refuse_unless_editor,
)
from admin.views import bp
from tracemark import errors
from tracemark.models import LotStatus, Role
from tracemark.trace import supply

#: Roles that read suppliers, lots and traces.
TRACERS = frozenset({Role.OWNER, Role.STAFF, Role.REGULATOR})
DUPLICATES = {
    "name": _l("A supplier with this name exists already."),
    "epc_class": _l("This brand has received this lot already."),
}


def tracer(slug: str) -> Member:
    """The member, when their role reads the supply chain (marketing does not: 403);
    no role at all is a 404."""
    message = gettext("The supply chain is for the brand's owners, staff and regulators.")
    return member_in_roles(slug, TRACERS, message)


@bp.route("/brands/<slug>/suppliers", methods=["GET", "POST"])
@login_required
def suppliers(slug: str):
    member = tracer(slug)
    form = editor_form(member, trace_forms.SupplierForm)
    supplier = created(
        member,
        form,
        lambda: supply.create_supplier(
            member.session,
            member.brand,
            form.name.data,
            party_id=form.party_id.data or None,
            country=form.country.data,
            actor=member.actor,
        ),
        {errors.Duplicate: ("name", DUPLICATES["name"])},
    )
    if supplier is not None:
        return redirect(url_for("admin.suppliers", slug=slug))
    return render_template(
        "admin/supply/suppliers.html",
        member=member,
        form=form,
        suppliers=supply.suppliers(member.session, member.brand),
    )


@bp.route("/brands/<slug>/lots", methods=["GET", "POST"])
@login_required
def material_lots(slug: str):
    member = tracer(slug)
    form = editor_form(member, trace_forms.LotForm)
    known = supply.suppliers(member.session, member.brand)
    if form is not None:
        form.set_suppliers(known)
    lot = created(
        member,
        form,
        lambda: supply.receive_lot(
            member.session,
            found_or_404(supply.get_supplier, member, form.supplier.data),
            form.material.data,
            form.lot_number.data,
            gtin=form.gtin.data,
            epc_class=form.epc_class.data or None,
            received_on=form.received_on.data,
            actor=member.actor,
        ),
        {
            errors.Duplicate: ("lot_number", DUPLICATES["epc_class"]),
            ValueError: ("epc_class", _l("This class identifier is too long.")),
        },
    )
    if lot is not None:
        return redirect(url_for("admin.material_lot", slug=slug, lot_id=lot.id))
    return render_template(
        "admin/supply/lots.html",
        member=member,
        form=form,
        **_listed(member, known),
        suppliers=known,
        status_names=trace_forms.LOT_STATUS_NAMES,
    )


def _listed(member: Member, known) -> dict:
    """The lots listed under the query string's filters (a value that names nothing is
    ignored), the filters, and whether the list was cut at :data:`supply.MAX_LOTS`."""
    supplier_id = request.args.get("supplier", type=int)
    status = request.args.get("status", "")
    text = request.args.get("q", "")[:64].strip()
    filters = {
        "supplier_id": supplier_id if supplier_id in {s.id for s in known} else None,
        "status": status if status in {s.value for s in LotStatus} else None,
        "text": text if text.isprintable() else None,
    }
    lots = supply.material_lots(member.session, member.brand, **filters)
    return {"lots": lots, "filters": filters, "more": len(lots) >= supply.MAX_LOTS}


@bp.get("/brands/<slug>/lots/<id:lot_id>")
@login_required
def material_lot(slug: str, lot_id: int):
    member = tracer(slug)
    lot = found_or_404(supply.get_lot, member, lot_id)
    return _lot_page(member, lot)


@bp.post("/brands/<slug>/lots/<id:lot_id>/status")
@login_required
def lot_status(slug: str, lot_id: int):
    """Lock or release the lot; a repeated request changes nothing and records nothing."""
    member = tracer(slug)
    lot = found_or_404(supply.get_lot, member, lot_id)
    refuse_unless_editor(member)
    form = trace_forms.LotStatusForm()
    if not form.validate_on_submit():
        return _lot_page(member, lot, form, 400)
    supply.set_lot_status(member.session, lot, form.status.data, actor=member.actor)
    member.session.commit()
    return redirect(url_for("admin.material_lot", slug=slug, lot_id=lot.id), code=303)


def _lot_page(member: Member, lot, form=None, code: int = 200):
    if form is None and member.can_edit:
        form = trace_forms.LotStatusForm(formdata=None)
    page = render_template(
        "admin/supply/lot.html",
        member=member,
        lot=lot,
        form=form,
        status_names=trace_forms.LOT_STATUS_NAMES,
        LotStatus=LotStatus,
    )
    return page, code
