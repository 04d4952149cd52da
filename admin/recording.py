"""Recording checkpoints from a phone: identify the object (a scanned label, an element
string, a lot number), choose the template and site, fill the form generated from the
template, and see what was recorded.

Owners and staff record; the event goes through ``tracemark.quality.recording.record`` (and so
through capture). The form carries a nonce drawn when it was shown, from which the
event's id derives: sending it twice records once. The portal's verdict page links here
with the scanned label in ``code`` for the brand's signed-in owners and staff.
"""

from __future__ import annotations

import datetime as dt

from flask import Response, abort, current_app, request
from flask_babel import get_locale, gettext
from flask_login import login_required

from admin import checkpoint_forms as forms
from admin.access import Member, found_or_404, member_of, refuse_unless_editor
from admin.checkpoints import checkpoint_page
from admin.views import bp
from tracemark import catalog
from tracemark.models import CheckpointTemplate
from tracemark.quality import checkpoints, recording
from tracemark.web import error_response


def _refused():
    return error_response(
        403, "forbidden", gettext("Only the brand's owners and staff can record checkpoints.")
    )


def _chosen(member: Member) -> CheckpointTemplate | None:
    key = request.args.get("template")
    if not key:
        return None
    template = checkpoints.current(member.session, member.brand, key[:64], active_only=True)
    return template or abort(404)


def _recorder(slug: str) -> tuple[Member, CheckpointTemplate | None]:
    """The editor recording, and the checkpoint they chose (None before they choose one)."""
    member = member_of(slug)
    refuse_unless_editor(member, _refused)
    return member, _chosen(member)


def _code() -> str:
    return request.args.get("code", "")[: recording.MAX_IDENTIFIER_LENGTH]


def _form(member: Member, template: CheckpointTemplate, **kwargs):
    form = forms.record_form(template, str(get_locale()), **kwargs)
    form.set_sites(catalog.sites(member.session, member.brand))
    return form


def _page(member: Member, template, form, status: int = 200):
    return checkpoint_page(
        "admin/checkpoints/record.html",
        member,
        status,
        template=template,
        templates=checkpoints.templates(member.session, member.brand, active_only=True),
        form=form,
        code=_code(),
    )


@bp.get("/brands/<slug>/record")
@login_required
def record(slug: str):
    member, template = _recorder(slug)
    if template is None:
        return _page(member, None, None)
    code = _code()
    form = _form(
        member,
        template,
        formdata=None,
        kind="label" if code else None,
        identifier=code or None,
        nonce=forms.new_nonce(),
    )
    return _page(member, template, form)


@bp.post("/brands/<slug>/record")
@login_required
def record_post(slug: str):
    member, template = _recorder(slug)
    if template is None:
        return _page(member, None, None, 400)
    form = _form(member, template)
    if not form.validate_on_submit():
        return _page(member, template, form, 400)
    try:
        recorded, subject = _record(member, template, form)
    except recording.RecordingError as error:
        member.session.rollback()
        target = form[forms.FIELD_PREFIX + error.field] if error.field else form.identifier
        target.errors = [*target.errors, forms.RECORDING_ERRORS[error.code]]
        return _page(member, template, form, 400)
    member.session.commit()
    batch = found_or_404(catalog.get_batch, member, subject.batch_id) if subject.batch_id else None
    return checkpoint_page(
        "admin/checkpoints/recorded.html",
        member,
        template=template,
        recorded=recorded,
        when=dt.datetime.fromisoformat(recorded.event["eventTime"]),
        subject=subject,
        batch=batch,
        site=_site(member, form),
        rows=recording.describe(template, recorded.event["tm:fields"], str(get_locale())),
        code=request.form.get("identifier", "") if form.kind.data == "label" else "",
    )


def _site(member: Member, form):
    return found_or_404(catalog.get_site, member, form.site.data) if form.site.data else None


def _record(member: Member, template: CheckpointTemplate, form):
    session = member.session
    found = recording.identify(
        session,
        member.brand,
        form.kind.data,
        form.identifier.data,
        keys=current_app.extensions["tracemark.keys"],
    )
    subject = recording.for_template(session, template, found)
    raw = {}
    for spec, field in form.template_fields:
        if spec["type"] == "file":
            upload = field.data
            data = upload.read(recording.MAX_FILE_BYTES + 1) if upload else b""
            if data:
                raw[spec["name"]] = recording.store_file(session, member.brand, data, spec["name"])
        else:
            raw[spec["name"]] = field.data
    values = recording.clean_values(template, raw)
    sign = -1 if form.offset.data[0] == "-" else 1
    hours, minutes = int(form.offset.data[1:3]), int(form.offset.data[4:6])
    zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    recorded = recording.record(
        session,
        member.brand,
        template,
        subject,
        values,
        nonce=form.nonce.data,
        when=dt.datetime.now(zone),
        site=_site(member, form),
        operator=member.user.email,
        actor=member.actor,
    )
    return recorded, subject


@bp.get("/brands/<slug>/checkpoint-files/<id:file_id>")
@login_required
def checkpoint_file(slug: str, file_id: int):
    """A file given in a recorded checkpoint, for the brand's members: a download only."""
    member = member_of(slug)
    found = recording.get_file(member.session, member.brand, file_id) or abort(404)
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        found.content_type, "webp"
    )
    response = Response(bytes(found.data), mimetype=found.content_type)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=checkpoint-{found.id}.{extension}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
