"""Label files for print runs, rendered by the worker outside any web request.

A render covers one issuance job in one format: a job is a print run, the codes one order
to the printer holds, so its file neither grows nor changes when the batch gets more codes
later (a whole-batch file would, and would reprint what was printed already). Renders
are queued here, run by ``tracemark worker`` under a lease like issuance jobs (see
:mod:`tracemark.worker`), and written through :func:`tracemark.labels.files.write`, so a
file appears under the label folder only once complete. Requesting a render twice finds
the first; a failed render, or a finished one whose file has gone, is queued again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.codes.issuance import JobConflict
from tracemark.codes.pins import brand_pin_key
from tracemark.config import Settings
from tracemark.labels import files as label_files
from tracemark.models import Batch, IssuanceJob, JobStatus, LabelFormat, LabelRender
from tracemark.models.base import utcnow

MEDIA_TYPES = {
    LabelFormat.PDF: "application/pdf",
    LabelFormat.SVG: "application/zip",
    LabelFormat.PNG: "application/zip",
    LabelFormat.CSV: "text/csv",
}
SUFFIXES = {
    LabelFormat.PDF: ".pdf",
    LabelFormat.SVG: "-svg.zip",
    LabelFormat.PNG: "-png.zip",
    LabelFormat.CSV: ".csv",
}


class NotReady(RuntimeError):
    """The job has not finished issuing its codes: there is nothing to render yet."""


@dataclass(frozen=True)
class RenderOptions:
    """What the worker needs to render labels."""

    #: The label folder; files go to ``<brand id>/job-<job id>.<ext>`` under it.
    directory: Path
    #: The origin printed in URLs when the brand has no resolver of its own.
    default_base: str
    #: Derives the PINs written to a PIN job's CSV; without it such a CSV fails.
    pin_secret: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderOptions:
        pin_secret = settings.pin_secret or (
            settings.require_pin_secret() if settings.demo else None
        )
        return cls(Path(settings.label_dir), settings.public_base_url, pin_secret)


def file_name(render: LabelRender) -> str:
    """The render's file, relative to the label folder."""
    return f"{render.brand_id}/job-{render.job_id}{SUFFIXES[LabelFormat(render.format)]}"


def file_path(directory: Path, render: LabelRender) -> Path | None:
    """The finished render's file, or None when it is not done or its file has gone."""
    if render.status is not JobStatus.DONE or not render.file_name:
        return None
    path = Path(directory) / render.file_name
    return path if path.is_file() else None


def renders_of(session: Session, job_ids: Iterable[int]) -> dict[int, dict[str, LabelRender]]:
    """``{job id: {format: render}}`` for the jobs ``job_ids``."""
    ids = list(job_ids)
    found: dict[int, dict[str, LabelRender]] = {job_id: {} for job_id in ids}
    if ids:
        for render in session.scalars(select(LabelRender).where(LabelRender.job_id.in_(ids))):
            found[render.job_id][LabelFormat(render.format).value] = render
    return found


def download(
    session: Session, job: IssuanceJob, fmt: str, directory: Path, *, actor: Actor = SYSTEM
) -> tuple[LabelRender, Path] | None:
    """The finished render of ``job``'s labels as ``fmt`` and its file, the download
    audited as ``labels.download`` (who took which printable codes); None when it is not
    ready (nothing audited).

    :raises ValueError: unknown format.
    """
    fmt = LabelFormat(fmt)
    render = renders_of(session, [job.id])[job.id].get(fmt.value)
    path = file_path(directory, render) if render is not None else None
    if path is None:
        return None
    details = {"job": job.id, "format": fmt.value}
    audit.log(session, actor, "labels.download", "label_render", render.id, details,
              brand_id=job.brand_id)  # fmt: skip
    return render, path


def request_render(
    session: Session, job: IssuanceJob, fmt: str, directory: Path, *, actor: Actor = SYSTEM
) -> tuple[LabelRender, bool]:
    """The render of ``job``'s labels as ``fmt``, and whether this call queued it (audited
    then as ``labels.prepare``).

    A new render is queued; so is a failed one, or a finished one whose file is missing
    from ``directory``. Otherwise the existing render is returned as it is.

    :raises ValueError: unknown format; :raises NotReady: the job is not done.
    """
    fmt = LabelFormat(fmt)
    if job.status is not JobStatus.DONE:
        raise NotReady(f"job {job.id} is {job.status.value}")
    query = select(LabelRender).where(LabelRender.job_id == job.id, LabelRender.format == fmt)
    render = session.scalar(query)
    if render is None:
        render = LabelRender(
            brand_id=job.brand_id, batch_id=job.batch_id, job_id=job.id, format=fmt,
            total=job.issued,
        )  # fmt: skip
        try:
            with session.begin_nested():
                session.add(render)
                session.flush()
        except IntegrityError:  # the same request, a moment earlier
            return session.scalars(query).one(), False
        return _queued(session, actor, render)
    if render.status is JobStatus.FAILED or (
        render.status is JobStatus.DONE and file_path(directory, render) is None
    ):
        render.status, render.done = JobStatus.PENDING, 0
        for column in ("error", "file_name", "worker", "lease_until", "started_at", "finished_at"):
            setattr(render, column, None)
        session.flush()
        return _queued(session, actor, render)
    return render, False


def _queued(session: Session, actor: Actor, render: LabelRender) -> tuple[LabelRender, bool]:
    details = {"job": render.job_id, "format": LabelFormat(render.format).value}
    audit.log(session, actor, "labels.prepare", "label_render", render.id, details,
              brand_id=render.brand_id)  # fmt: skip
    return render, True


def run_render(
    sessions: sessionmaker[Session],
    render_id: int,
    options: RenderOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> LabelRender:
    """Write render ``render_id``'s file and mark it done.

    ``progress(labels written)`` is called as the file grows; an exception it raises
    stops the render without a file. Any failure marks the render failed (except
    :class:`tracemark.codes.issuance.JobConflict`, raised when another worker took it over).
    """
    with sessions.begin() as session:
        render = session.get_one(LabelRender, render_id)
        if render.status is JobStatus.DONE:
            return render
        render.status, render.started_at, render.error = JobStatus.RUNNING, utcnow(), None
        fmt, name = LabelFormat(render.format), file_name(render)
        batch_id, brand_id, job_id = render.batch_id, render.brand_id, render.job_id
        with_pin = render.job.with_pin
    try:
        pin_key = None
        if with_pin and fmt is LabelFormat.CSV:
            if not options.pin_secret:
                raise RuntimeError("no PIN secret (TRACEMARK_PIN_SECRET): cannot write PINs")
            pin_key = brand_pin_key(options.pin_secret, brand_id)
        path = Path(options.directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with sessions() as session:
            count = label_files.write(
                session,
                session.get_one(Batch, batch_id),
                fmt.value,
                path,
                options.default_base,
                progress=(lambda done, _total: progress(done)) if progress else None,
                pin_key=pin_key,
                job_id=job_id,
            )
    except JobConflict:
        raise  # the render is another worker's now
    except BaseException as exc:
        with sessions.begin() as session:
            render = session.get_one(LabelRender, render_id)
            render.status, render.error = JobStatus.FAILED, f"{type(exc).__name__}: {exc}"[:1000]
        raise
    with sessions.begin() as session:
        render = session.get_one(LabelRender, render_id)
        render.status, render.done, render.file_name = JobStatus.DONE, count, name
        render.finished_at = utcnow()
    return render


#: A ``.part`` file untouched this long belongs to a render that died, not a live one
#: (a live render writes every few labels, and its lease is renewed every second).
ABANDONED_PART = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Pruned:
    files: int
    bytes: int


def prune(
    sessions: sessionmaker[Session],
    directory: Path,
    older_than: dt.timedelta,
    *,
    now: dt.datetime | None = None,
) -> Pruned:
    """Delete label files finished more than ``older_than`` ago, and partial files that
    dead renders left behind.

    Label files hold every code of a print run: once printed they are only a liability
    on disk. The render rows stay: a later download of a pruned file queues the render
    again (see :func:`request_render`), so nothing is lost but disk space.
    """
    now = now or utcnow()
    directory = Path(directory)
    files = size = 0
    with sessions() as session:
        finished = session.scalars(
            select(LabelRender.file_name).where(
                LabelRender.status == JobStatus.DONE,
                LabelRender.file_name.is_not(None),
                LabelRender.finished_at < now - older_than,
            )
        )
        doomed = [directory / name for name in finished]
    cutoff = (now - ABANDONED_PART).timestamp()
    doomed += [part for part in directory.glob("*/.*.part") if part.stat().st_mtime < cutoff]
    for path in doomed:
        try:
            length = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        files, size = files + 1, size + length
    return Pruned(files, size)
