"""Trace pages of a brand: one search box, the backward trace of a unit or batch, the
forward trace of a material lot or batch, and a lot's recall impact (CSV, PDF, and the
owners' action that puts every affected batch on hold).

Read by owners, staff and regulators (see :mod:`admin.supply`); only owners put batches
on hold, through the same operation as rules (``catalog.hold_batches``, each audited as
``batch.status``).
"""

from __future__ import annotations

import datetime as dt
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from admin import forms, trace_forms
from admin.access import Member, found_or_404
from admin.checkpoint_forms import DISPOSITION_NAMES
from admin.supply import tracer
from admin.views import bp
from tracemark import catalog, i18n
from tracemark.epcis import identifiers as epc
from tracemark.models import BatchStatus, Role
from tracemark.quality import checkpoints
from tracemark.trace import genealogy, recall, supply
from tracemark.trace import search as trace_search
from tracemark.web import error_response

#: CBV dispositions a QC result reports, named as the checkpoint forms name them; others
#: are shown as written.
DISPOSITIONS = {d: DISPOSITION_NAMES[d] for d in ("conformant", "non_conformant")}
#: Why a reading is an excursion (``genealogy.Excursion.reason``).
EXCURSION_REASONS = {
    "ALARM_CONDITION": _l("Alarm"),
    "ERROR_CONDITION": _l("Sensor error"),
    "out_of_range": _l("Out of range"),
}


def disposition_name(disposition: str | None) -> str:
    if not disposition:
        return ""
    return str(DISPOSITIONS.get(disposition, disposition.replace("_", " ")))


def number(value) -> str:
    return format_decimal(value)


def quantity(value, uom: str | None) -> str:
    return i18n.quantity_text(value, uom, str(get_locale()))


def when(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


@bp.get("/brands/<slug>/trace")
@login_required
def trace_search_page(slug: str):
    """The search box; one match leads straight to its trace, several are offered."""
    member = tracer(slug)
    query = request.args.get("q", "")
    error, matches = None, None
    if query.strip():
        try:
            matches = trace_search.find(member.session, member.brand, query)
        except trace_search.BadQuery:
            error = gettext(
                "Enter a lot number, a serial, a label address or a GS1 element string "
                "(at most 300 characters, without control characters)."
            )
        if matches is not None and len(matches) == 1:
            return redirect(_match_url(member, matches[0]))
    page = render_template(
        "admin/trace/search.html",
        member=member,
        query=query[: trace_search.MAX_QUERY] if error is None else "",
        error=error,
        matches=matches,
        match_url=lambda match: _match_url(member, match),
    )
    return page, 400 if error else 200


def _match_url(member: Member, match: trace_search.Match) -> str:
    slug = member.brand.slug
    if match.kind == "unit":
        return url_for("admin.trace_unit", slug=slug, serial=match.serial)
    if match.kind == "batch":
        return url_for("admin.trace_batch", slug=slug, batch_id=match.id)
    return url_for("admin.trace_lot", slug=slug, lot_id=match.id)


@bp.get("/brands/<slug>/trace/units/<serial>")
@login_required
def trace_unit(slug: str, serial: str):
    member = tracer(slug)
    if len(serial) > trace_search.MAX_QUERY or not serial.isprintable():
        abort(404)  # no serial has control characters (PostgreSQL refuses NUL in text)
    try:
        found = genealogy.backward_from_unit(member.session, member.brand, serial)
    except genealogy.TraceNotFound:
        abort(404)
    return _backward_page(member, found)


@bp.get("/brands/<slug>/trace/batches/<id:batch_id>")
@login_required
def trace_batch(slug: str, batch_id: int):
    member = tracer(slug)
    try:
        found = genealogy.backward_from_batch(member.session, member.brand, batch_id)
    except genealogy.TraceNotFound:
        abort(404)
    return _backward_page(member, found)


def _trace_page(page: str, member: Member, **values) -> str:
    """A trace page (``page`` names its template) with what all of them show batches and
    lots by: the names of their statuses, numbers and times."""
    return render_template(
        page,
        member=member,
        batch_status=forms.STATUS_NAMES,
        lot_status=trace_forms.LOT_STATUS_NAMES,
        number=number,
        quantity=quantity,
        when=when,
        **values,
    )


def _backward_page(member: Member, found: genealogy.BackwardTrace):
    names = {lot.epc_class: lot.lot_number for lot in found.lots}
    names |= {b.epc_class: b.lot for b in (found.batch, *found.input_batches)}
    return _trace_page(
        "admin/trace/backward.html",
        member,
        disposition_name=disposition_name,
        reasons=EXCURSION_REASONS,
        trace=found,
        names=names,
        test_labels=checkpoints.field_labels(member.session, member.brand, str(get_locale())),
        results=QC_RESULTS,
    )


#: QC results as the trace shows them (``tm:qc`` ``result`` values).
QC_RESULTS = {"pass": _l("passed"), "fail": _l("failed")}


@bp.get("/brands/<slug>/trace/batches/<id:batch_id>/forward")
@login_required
def trace_batch_forward(slug: str, batch_id: int):
    member = tracer(slug)
    batch = found_or_404(catalog.get_batch, member, batch_id)
    [facts] = genealogy.batch_facts(member.session, member.brand.id, [_class_of(batch)])
    impact = recall.recall_impact(member.session, member.brand, facts.epc_class)
    return _forward_page(member, impact, batch=facts)


@bp.get("/brands/<slug>/trace/lots/<id:lot_id>")
@login_required
def trace_lot(slug: str, lot_id: int):
    member = tracer(slug)
    lot = found_or_404(supply.get_lot, member, lot_id)
    impact = recall.recall_impact(member.session, member.brand, lot.epc_class)
    return _forward_page(member, impact, lot=lot)


def _class_of(batch) -> str:
    return epc.lot_class(batch.product.gtin, batch.lot)


def _forward_page(member: Member, impact: recall.RecallImpact, *, lot=None, batch=None):
    trace = impact.trace
    names = {b.epc_class: b.lot for b in trace.batches}
    names |= {other.epc_class: other.lot_number for other in trace.lots}
    if trace.lot is not None:
        names[trace.lot.epc_class] = trace.lot.lot_number
    if batch is not None:
        names[batch.epc_class] = batch.lot
    return _trace_page(
        "admin/trace/forward.html", member, impact=impact, lot=lot, batch=batch, names=names
    )


# -- recall impact ------------------------------------------------------------------------


def _impact(member: Member, lot_id: int):
    lot = found_or_404(supply.get_lot, member, lot_id)
    return lot, recall.recall_impact(member.session, member.brand, lot.epc_class)


@bp.get("/brands/<slug>/lots/<id:lot_id>/recall")
@login_required
def lot_recall(slug: str, lot_id: int):
    member = tracer(slug)
    lot, impact = _impact(member, lot_id)
    form = trace_forms.HoldForm(formdata=None) if member.role is Role.OWNER else None
    return _recall_page(member, lot, impact, form)


def _recall_page(member: Member, lot, impact, form, *, confirming: bool = False, code=200):
    to_hold = [b for b in impact.batches if b.batch.status == BatchStatus.RELEASED.value]
    page = _trace_page(
        "admin/trace/recall.html",
        member,
        lot=lot,
        impact=impact,
        form=form,
        confirming=confirming,
        to_hold=to_hold,
        scanned=sum(b.scanned_units for b in impact.batches),
    )
    return page, code


@bp.get("/brands/<slug>/lots/<id:lot_id>/recall.csv")
@login_required
def lot_recall_csv(slug: str, lot_id: int):
    member = tracer(slug)
    lot, impact = _impact(member, lot_id)
    return _download(recall.impact_csv(impact).encode(), "text/csv", lot, "csv")


@bp.get("/brands/<slug>/lots/<id:lot_id>/recall.pdf")
@login_required
def lot_recall_pdf(slug: str, lot_id: int):
    member = tracer(slug)
    lot, impact = _impact(member, lot_id)
    out = io.BytesIO()
    recall.impact_pdf(impact, out)
    return _download(out.getvalue(), "application/pdf", lot, "pdf")


def _download(data: bytes, mimetype: str, lot, ext: str) -> Response:
    name = f"recall-lot-{lot.id}.{ext}"
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.post("/brands/<slug>/lots/<id:lot_id>/recall/hold")
@login_required
def lot_recall_hold(slug: str, lot_id: int):
    """Put every released batch the lot reached on hold with the notice given. Sent
    first without ``confirmed``: the page then shows what will change and asks again.
    Batches already on hold or recalled are left as they are, so sending it twice holds
    nothing more and records nothing more."""
    member = tracer(slug)
    lot, impact = _impact(member, lot_id)
    if member.role is not Role.OWNER:
        return error_response(
            403, "forbidden", gettext("Only the brand's owners can put a recall's batches on hold.")
        )
    form = trace_forms.HoldForm()
    if not form.validate_on_submit():
        return _recall_page(member, lot, impact, form, code=400)
    if form.confirmed.data != "1":
        form.confirmed.data = "1"
        return _recall_page(member, lot, impact, form, confirming=True)
    held = recall.hold_affected(
        member.session, member.brand, lot, impact, form.notice(), actor=member.actor
    )
    member.session.commit()
    flash(
        ngettext(
            "%(num)s batch put on hold.",
            "%(num)s batches put on hold.",
            len(held),
        )
        if held
        else gettext("Every affected batch is on hold or recalled already.")
    )
    return redirect(url_for("admin.lot_recall", slug=slug, lot_id=lot.id), code=303)
