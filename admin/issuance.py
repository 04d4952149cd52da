"""Issuing codes and preparing label files from a batch page.

Every member of the brand sees the batch's jobs and their progress; owners and staff
issue codes, resume a failed job, prepare label files and download them (printing labels
is production work: marketing and regulators get a 403). Requests only queue work: the
codes and the files are made by ``tracemark worker`` (see :mod:`tracemark.worker`), and the
page follows it through ``progress.json``, polled by ``static/admin-jobs.js`` (or a reload
without JavaScript).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask import abort, jsonify, redirect, send_file, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from admin import forms
from admin.access import Member, editing, found_or_404, member_of, refuse_unless_editor
from admin.catalog import batch_page
from admin.views import bp
from tracemark import catalog
from tracemark import worker as jobs
from tracemark.codes import issuance, keystore
from tracemark.labels import renders as label_renders
from tracemark.models import (
    Batch,
    BatchStatus,
    IssuanceJob,
    JobStatus,
    LabelFormat,
    LabelRender,
)
from tracemark.models.base import as_utc, utcnow
from tracemark.web import error_response, settings

STATES = {
    "pending": _l("Queued"),
    "running": _l("Running"),
    "stalled": _l("Interrupted: waits for a worker to take it over"),
    "done": _l("Done"),
    "failed": _l("Failed"),
}
FORMAT_NAMES = {
    LabelFormat.PDF: _l("PDF sheet"),
    LabelFormat.SVG: _l("SVG files (ZIP)"),
    LabelFormat.PNG: _l("PNG files (ZIP)"),
    LabelFormat.CSV: _l("CSV for printers"),
}


def state_of(task) -> str:
    """A job's or render's status as shown: a running task whose lease ran out is
    ``stalled`` (its worker stopped; the next worker takes it over and resumes it)."""
    if task.status is JobStatus.RUNNING:
        lease = as_utc(task.lease_until)
        if lease is None or lease < utcnow():
            return "stalled"
    return task.status.value


@dataclass
class _Work:
    """A batch's jobs, newest first, and their renders by format."""

    jobs: list[IssuanceJob]
    renders: dict[int, dict[str, LabelRender]]

    @classmethod
    def of(cls, member: Member, batch: Batch) -> _Work:
        query = select(IssuanceJob).where(IssuanceJob.batch_id == batch.id)
        jobs_ = list(member.session.scalars(query.order_by(IssuanceJob.id.desc())))
        return cls(jobs_, label_renders.renders_of(member.session, [job.id for job in jobs_]))

    @property
    def active(self) -> bool:
        """Whether anything waits for the worker or is being worked on."""
        working = (JobStatus.PENDING, JobStatus.RUNNING)
        return any(
            task.status in working
            for job in self.jobs
            for task in (job, *self.renders[job.id].values())
        )


def section(member: Member, batch: Batch, form: forms.IssueForm | None = None) -> dict:
    """What the batch page shows about the batch's codes and labels."""
    work = _Work.of(member, batch)
    refusal = _refusal(member, batch) if member.can_edit else None
    if member.can_edit and form is None and refusal is None:
        form = forms.IssueForm(formdata=None, request_key=secrets.token_hex(16))
    return {
        "jobs": work.jobs,
        "renders": work.renders,
        "issue_form": form if refusal is None else None,
        "issue_refusal": refusal,
        "label_formats": FORMAT_NAMES,
        "state_of": state_of,
        "job_state_names": STATES,
        "job_active": work.active,
    }


def _refusal(member: Member, batch: Batch) -> str | None:
    if batch.status is BatchStatus.RECALLED:
        return gettext("This batch is recalled: it gets no new codes.")
    try:
        catalog.check_not_foreign(member.session, batch.brand_id, batch.product.gtin)
    except catalog.ForeignGtin:
        return gettext(
            "This product's GTIN is under another brand's GS1 company prefix: it gets no new codes."
        )
    if not keystore.active_keys(member.session, member.brand):
        return gettext(
            "This brand has no active signing key: an operator creates one with the "
            "command %(command)s.",
            command=f"tracemark keys create --brand {member.brand.slug}",
        )
    return None


def _forbidden():
    return error_response(
        403,
        "forbidden",
        gettext("Only the brand's owners and staff can issue codes and print labels."),
    )


def _batch(member: Member, batch_id: int) -> Batch:
    return found_or_404(catalog.get_batch, member, batch_id)


def _job(member: Member, job_id: int) -> IssuanceJob:
    """The brand's job ``job_id``; 404 for an unknown job or another brand's."""
    job = member.session.get(IssuanceJob, job_id)
    if job is None or job.brand_id != member.brand.id:
        abort(404)
    return job


def _format(fmt: str) -> LabelFormat:
    try:
        return LabelFormat(fmt)
    except ValueError:
        abort(404)


def _back_to(member: Member, job: IssuanceJob):
    """To the job's row on its batch page."""
    target = url_for("admin.batch", slug=member.brand.slug, batch_id=job.batch_id)
    return redirect(f"{target}#job-{job.id}", code=303)


def _done(member: Member, job: IssuanceJob):
    """Commit what the view changed (the operation audited itself) and go back to the job's
    row."""
    member.session.commit()
    return _back_to(member, job)


@bp.post("/brands/<slug>/batches/<id:batch_id>/jobs")
@login_required
def issue_codes(slug: str, batch_id: int):
    """Queue a job for the batch; the same form sent twice queues one job."""
    member, batch = editing(slug, _batch, batch_id, refusal=_forbidden)
    form = forms.IssueForm()
    if not form.validate_on_submit():
        if form.request_key.errors:  # a fresh key, so that sending it again can work
            form.request_key.data = secrets.token_hex(16)
        return batch_page(member, batch, issue_form=form)
    try:
        job = issuance.create_job(
            member.session,
            batch,
            form.count.data,
            with_pin=form.with_pin.data,
            request_key=form.request_key.data,
            actor=member.actor,
        )
    except issuance.DuplicateRequest as repeated:
        return _back_to(member, repeated.job)
    except (keystore.KeyStateError, issuance.BatchRecalled, catalog.ForeignGtin):
        return batch_page(member, batch, status=409)  # the page says why
    return _done(member, job)


@bp.post("/brands/<slug>/jobs/<id:job_id>/resume")
@login_required
def resume_job(slug: str, job_id: int):
    """Put a failed job back in the queue: the worker continues where it stopped."""
    member, job = editing(slug, _job, job_id, refusal=_forbidden)
    try:
        jobs.requeue(member.session, job, actor=member.actor)
    except jobs.NotFailed:
        return error_response(409, "not_failed", gettext("Only a failed job can be resumed."))
    return _done(member, job)


@bp.post("/brands/<slug>/jobs/<id:job_id>/labels/<fmt>")
@login_required
def prepare_labels(slug: str, job_id: int, fmt: str):
    """Queue the job's label file in ``fmt`` (a failed one again; a ready one stays)."""
    member, job, label_format = _job_labels(slug, job_id, fmt)
    try:
        label_renders.request_render(
            member.session, job, label_format, settings().label_dir, actor=member.actor
        )
    except label_renders.NotReady:
        return error_response(
            409,
            "job_not_done",
            gettext(
                "The codes are still being issued: labels can be prepared once the job is done."
            ),
        )
    return _done(member, job)


@bp.get("/brands/<slug>/jobs/<id:job_id>/labels/<fmt>")
@login_required
def download_labels(slug: str, job_id: int, fmt: str):
    """The job's label file as an attachment, once prepared (409 before)."""
    member, job, label_format = _job_labels(slug, job_id, fmt)
    found = label_renders.download(
        member.session, job, label_format, settings().label_dir, actor=member.actor
    )
    if found is None:
        return error_response(
            409,
            "labels_not_ready",
            gettext("This label file is not ready yet: prepare it on the batch page first."),
        )
    member.session.commit()
    _render, path = found
    lot = re.sub(r"[^A-Za-z0-9._-]", "_", job.batch.lot)
    response = send_file(
        path,
        mimetype=label_renders.MEDIA_TYPES[label_format],
        as_attachment=True,
        download_name=f"{lot}-job{job.id}{label_renders.SUFFIXES[label_format]}",
        conditional=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/brands/<slug>/batches/<id:batch_id>/progress.json")
@login_required
def batch_progress(slug: str, batch_id: int):
    """The batch's jobs and label files, for the page to follow them live."""
    member = member_of(slug)
    batch = _batch(member, batch_id)
    work = _Work.of(member, batch)
    payload = [
        {
            "id": job.id,
            "state": state_of(job),
            "state_label": str(STATES[state_of(job)]),
            "issued": job.issued,
            "requested": job.requested,
            "renders": {
                fmt: {"state": state_of(render), "done": render.done, "total": render.total}
                for fmt, render in work.renders[job.id].items()
            },
        }
        for job in work.jobs
    ]
    response = jsonify({"active": work.active, "jobs": payload})
    response.headers["Cache-Control"] = "no-store"
    return response


def _job_labels(slug: str, job_id: int, fmt: str):
    """The editor, their brand's job and the label format the address names (a 404 for an
    unknown job or format, then a 403 for a reader)."""
    member = member_of(slug)
    job = _job(member, job_id)
    label_format = _format(fmt)
    refuse_unless_editor(member, _forbidden)
    return member, job, label_format
