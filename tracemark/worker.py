"""The worker: runs queued issuance jobs and label renders outside any web request, makes
the code keys owners ask for (:mod:`tracemark.codes.key_requests`), and takes over the work of
workers that died.

A worker claims one task at a time under a lease (``lease_until``), renewed as the task
advances (every stored chunk of codes; at most every :data:`RENEW_EVERY` while a label
file grows). A task is claimable when it is pending, or running with an expired lease —
its worker was killed or lost its machine; a job then resumes from its last committed
chunk (see :mod:`tracemark.codes.issuance`), a render starts its file again (files appear only
when complete, see :mod:`tracemark.labels.renders`). Failed tasks stay failed until someone
puts them back in the queue on purpose (:func:`requeue`), so a task that fails for a
reason (a revoked key) does not loop. Issuance jobs and renders take turns, so neither
kind starves the other. Outbox messages (rule e-mails and webhooks) go out from a thread
of their own beside the tasks: a long job does not hold them back, and sending them —
network waits, not CPU — takes no turn from a job or a render.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from sqlalchemy import or_
from sqlalchemy.orm import Session, sessionmaker

from tracemark import audit
from tracemark.codes import issuance, key_requests
from tracemark.db import lock_oldest
from tracemark.labels import renders as label_renders
from tracemark.models import IssuanceJob, JobStatus, LabelRender
from tracemark.models.base import utcnow

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
#: Least time between two lease renewals (and progress reports) of a render.
RENEW_EVERY = 1.0

Task = type[IssuanceJob] | type[LabelRender]


class NotFailed(ValueError):
    """Only a failed job or render goes back in the queue by hand."""


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(
    sessions: sessionmaker[Session],
    worker: str,
    *,
    now: dt.datetime | None = None,
    model: Task = IssuanceJob,
) -> int | None:
    """Take the oldest claimable task of ``model`` for ``worker``; None when there is none."""
    now = now or utcnow()
    with sessions.begin() as session:
        claimable = or_(
            model.status == JobStatus.PENDING,
            (model.status == JobStatus.RUNNING)
            & or_(model.lease_until.is_(None), model.lease_until < now),
        )
        task = lock_oldest(session, model, claimable)
        if task is None:
            return None
        # running from the claim on: a pending task under a lease is not claimable twice
        task.status, task.worker, task.lease_until = JobStatus.RUNNING, worker, now + LEASE
        return task.id


def renew(
    sessions: sessionmaker[Session],
    task_id: int,
    worker: str,
    *,
    model: Task = IssuanceJob,
    done: int | None = None,
) -> None:
    """Extend the lease (and, for a render, record ``done`` labels written).

    :raises issuance.JobConflict: when another worker took the task.
    """
    with sessions.begin() as session:
        task = session.get_one(model, task_id, with_for_update=True)
        if task.worker != worker:
            raise issuance.JobConflict(f"{model.__tablename__} {task_id} was taken over")
        task.lease_until = utcnow() + LEASE
        if done is not None:
            task.done = done


def requeue(
    session: Session, task: IssuanceJob | LabelRender, *, actor: audit.Actor = audit.SYSTEM
) -> None:
    """Put a failed job or render back in the queue: a worker resumes it where it stopped.
    Audited as ``issuance.resume`` (with the codes issued so far) or ``labels.resume``.

    :raises NotFailed: it is pending, running or done.
    """
    if task.status is not JobStatus.FAILED:
        raise NotFailed(f"{task.__tablename__} {task.id} is {task.status.value}")
    task.status, task.worker, task.lease_until = JobStatus.PENDING, None, None
    session.flush()
    if isinstance(task, IssuanceJob):
        action, kind, details = "issuance.resume", "issuance_job", {"issued": task.issued}
    else:
        action, kind, details = "labels.resume", "label_render", {"job": task.job_id}
    audit.log(session, actor, action, kind, task.id, details, brand_id=task.brand_id)


def run_worker(
    sessions: sessionmaker[Session],
    passphrase: str,
    *,
    once: bool = False,
    poll_seconds: float = 2.0,
    stop: threading.Event | None = None,
    workers: int | None = None,
    renders: label_renders.RenderOptions | None = None,
    idle: Callable[[], object] | None = None,
    deliver: Callable[[], int] | None = None,
) -> int:
    """Run tasks until ``stop`` is set (or, with ``once``, until none is left).

    Issuance jobs and key requests always; label renders too when ``renders`` says where
    files go. Key requests go first: they take milliseconds and an owner waits on the page.
    Returns the number of tasks finished. A task that raises is marked failed (by
    :func:`issuance.run_job` or :func:`label_renders.run_render`) and the worker goes on
    with the next one. ``idle`` (e.g. the analytics rollup) runs whenever no task is
    waiting; its failures are logged. ``deliver`` (e.g. :func:`tracemark.notify.outbox.deliver`,
    returning how many messages it tried) runs in a thread of its own until ``stop``, or,
    with ``once``, until it finds nothing to send after the last task.
    """
    name, finished = worker_name(), 0
    stop = stop or threading.Event()
    courier = None
    if deliver is not None and not once:
        courier = threading.Thread(
            target=_courier, args=(deliver, stop, poll_seconds), name="tracemark-outbox"
        )
        courier.start()
    try:
        finished = _run_tasks(sessions, passphrase, name, once, poll_seconds, stop, workers,
                              renders, idle)  # fmt: skip
    finally:
        if courier is not None:
            stop.set()
            courier.join()
    if once and deliver is not None:
        while _attempt(deliver):
            pass
    return finished


def _courier(deliver: Callable[[], int], stop: threading.Event, poll_seconds: float) -> None:
    while not stop.is_set():
        if not _attempt(deliver):
            stop.wait(poll_seconds)


def _attempt(deliver: Callable[[], int]) -> int:
    try:
        return deliver()
    except Exception:
        log.exception("outbox delivery failed")
        return 0


def _run_tasks(
    sessions: sessionmaker[Session],
    passphrase: str,
    name: str,
    once: bool,
    poll_seconds: float,
    stop: threading.Event,
    workers: int | None,
    renders: label_renders.RenderOptions | None,
    idle: Callable[[], object] | None,
) -> int:
    finished = 0

    def issue(job_id: int) -> None:
        issuance.run_job(
            sessions,
            job_id,
            passphrase,
            workers=workers,
            progress=lambda _done, _total: renew(sessions, job_id, name),
        )

    def render(render_id: int) -> None:
        assert renders is not None
        report = _every(RENEW_EVERY, lambda done: renew(
            sessions, render_id, name, model=LabelRender, done=done
        ))  # fmt: skip
        label_renders.run_render(sessions, render_id, renders, progress=report)

    queues: list[tuple[Task, Callable[[int], None]]] = [(IssuanceJob, issue)]
    if renders is not None:
        queues.append((LabelRender, render))
    while not stop.is_set():
        try:
            finished += key_requests.fulfil_all(sessions, passphrase)
        except Exception:
            log.exception("key requests failed")
        claimed = None
        for i, (model, run) in enumerate(queues):
            task_id = claim_next(sessions, name, model=model)
            if task_id is not None:
                claimed = model, run, task_id
                queues = queues[i + 1 :] + queues[: i + 1]  # the other kinds first next time
                break
        if claimed is None:
            if idle is not None:
                try:
                    idle()
                except Exception:
                    log.exception("idle task failed")
            if once:
                break
            stop.wait(poll_seconds)
            continue
        model, run, task_id = claimed
        log.info("%s %s: started by %s", model.__tablename__, task_id, name)
        try:
            run(task_id)
        except Exception:
            log.exception("%s %s failed", model.__tablename__, task_id)
            continue
        finished += 1
    return finished


def _every(seconds: float, report: Callable[[int], None]) -> Callable[[int], None]:
    """``report``, called at most once per ``seconds`` (the first call always goes)."""
    last = [float("-inf")]

    def throttled(done: int) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            report(done)

    return throttled
