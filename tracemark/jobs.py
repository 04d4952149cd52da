"""The issuance worker: runs queued jobs outside any web request, and takes over jobs whose
worker died.

A worker claims one job at a time under a lease (``lease_until``), renewed after every
stored chunk. A job is claimable when it is pending, or running with an expired lease —
its worker was killed or lost its machine; it then resumes from its last committed
chunk (see :mod:`tracemark.issuance`). Failed jobs stay failed until someone resumes them
on purpose, so a job that fails for a reason (a revoked key) does not loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tracemark import issuance
from tracemark.models import IssuanceJob, JobStatus
from tracemark.models.base import utcnow

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_next(
    sessions: sessionmaker[Session], worker: str, *, now: dt.datetime | None = None
) -> int | None:
    """Take the oldest claimable job for ``worker``; None when there is none."""
    now = now or utcnow()
    with sessions.begin() as session:
        query = (
            select(IssuanceJob)
            .where(
                or_(
                    IssuanceJob.status == JobStatus.PENDING,
                    (IssuanceJob.status == JobStatus.RUNNING)
                    & or_(IssuanceJob.lease_until.is_(None), IssuanceJob.lease_until < now),
                )
            )
            .order_by(IssuanceJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        job = session.scalar(query)
        if job is None:
            return None
        job.worker, job.lease_until = worker, now + LEASE
        return job.id


def renew(sessions: sessionmaker[Session], job_id: int, worker: str) -> None:
    """Extend the lease; :raises issuance.JobConflict: when another worker took the job."""
    with sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id, with_for_update=True)
        if job.worker != worker:
            raise issuance.JobConflict(f"job {job_id} was taken over by {job.worker}")
        job.lease_until = utcnow() + LEASE


def run_worker(
    sessions: sessionmaker[Session],
    passphrase: str,
    *,
    once: bool = False,
    poll_seconds: float = 2.0,
    stop: threading.Event | None = None,
    workers: int | None = None,
    idle: Callable[[], object] | None = None,
) -> int:
    """Run jobs until ``stop`` is set (or, with ``once``, until none is left).

    Returns the number of jobs finished. A job that raises is marked failed (by
    :func:`issuance.run_job`) and the worker goes on with the next one. ``idle`` (e.g.
    the analytics rollup) runs whenever no job is waiting; its failures are logged.
    """
    name, finished = worker_name(), 0
    stop = stop or threading.Event()
    while not stop.is_set():
        job_id = claim_next(sessions, name)
        if job_id is None:
            if idle is not None:
                try:
                    idle()
                except Exception:
                    log.exception("idle task failed")
            if once:
                break
            stop.wait(poll_seconds)
            continue
        log.info("job %s: started by %s", job_id, name)
        try:
            issuance.run_job(
                sessions,
                job_id,
                passphrase,
                workers=workers,
                progress=lambda _done, _total, job_id=job_id: renew(sessions, job_id, name),
            )
        except Exception:
            log.exception("job %s failed", job_id)
            continue
        finished += 1
    return finished
