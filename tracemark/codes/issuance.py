"""Issuing codes in bulk: sign in parallel, insert in chunks, resume after any stop.

Each chunk of units is stored in one transaction together with the job's ``issued``
counter, after locking the job row; so a job interrupted anywhere holds exactly the units
it counts, never a half-written chunk, and resuming continues at ``issued``. ``(job, seq)``
and ``(brand, serial)`` are unique in the database, so neither a second runner of the same
job nor a serial collision can store a duplicate: the first stops the second runner, the
second is retried with fresh serials.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from signing.codes import message_prefix, new_serial
from tracemark import audit, catalog
from tracemark.audit import SYSTEM, Actor
from tracemark.codes.keystore import active_key, private_key_of
from tracemark.db import bulk_insert
from tracemark.models import Batch, BatchStatus, IssuanceJob, JobStatus, Unit
from tracemark.models.base import utcnow
from tracemark.parallel import ordered_map

#: Upper bound of one job; larger orders are split into several jobs.
MAX_JOB_SIZE = 10_000_000
DEFAULT_CHUNK_SIZE = 10_000
#: Below this many codes a process pool costs more than it saves.
POOL_THRESHOLD = 20_000
SERIAL_RETRIES = 5

Progress = Callable[[int, int], None]
Row = tuple[int, str, bytes]  # seq, serial, signature


class JobConflict(RuntimeError):
    """Another runner advanced the same job: this one stops without writing."""


class BatchRecalled(ValueError):
    """A recalled batch gets no new codes."""


class DuplicateRequest(LookupError):
    """The request key was used already: ``job`` is the job that request created."""

    def __init__(self, job: IssuanceJob) -> None:
        super().__init__(f"request already made: job {job.id}")
        self.job = job


@dataclass(frozen=True, slots=True)
class _ChunkTask:
    prefix: bytes
    start: int
    count: int


def create_job(
    session: Session,
    batch: Batch,
    count: int,
    *,
    with_pin: bool = False,
    request_key: str | None = None,
    actor: Actor = SYSTEM,
) -> IssuanceJob:
    """Record a job issuing ``count`` codes for ``batch`` with the brand's active key;
    audited as ``issuance.queue`` (a repeated request queues and audits nothing).

    ``with_pin`` gives each unit a scratch-off PIN (see :mod:`tracemark.codes.pins`).
    ``request_key`` names the request (a form's one-time key): it is unique per brand, so
    the same request sent twice, even concurrently, queues one job.

    :raises ValueError: ``count`` out of range; :raises keystore.KeyStateError: the brand
        has no active key; :raises BatchRecalled: the batch is recalled;
        :raises catalog.ForeignGtin: another brand holds the GTIN's company prefix (a
        product registered before prefixes existed, under a prefix since claimed);
        :raises DuplicateRequest: a job was created for ``request_key`` already.
    """
    if not 0 < count <= MAX_JOB_SIZE:
        raise ValueError(f"count must be between 1 and {MAX_JOB_SIZE:,}")
    if request_key is not None:
        _refuse_repeat(session, batch.brand_id, request_key)
    if batch.status == BatchStatus.RECALLED:
        raise BatchRecalled(f"batch {batch.lot!r} is recalled")
    catalog.check_not_foreign(session, batch.brand_id, batch.product.gtin)
    key = active_key(session, batch.product.brand)
    job = IssuanceJob(
        brand_id=batch.brand_id,
        batch_id=batch.id,
        signing_key_id=key.id,
        requested=count,
        with_pin=with_pin,
        request_key=request_key,
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        if request_key is None:
            raise
        _refuse_repeat(session, batch.brand_id, request_key)  # the concurrent twin won
        raise
    details = {"lot": batch.lot, "count": count, "with_pin": with_pin}
    audit.log(session, actor, "issuance.queue", "issuance_job", job.id, details,
              brand_id=batch.brand_id)  # fmt: skip
    return job


def resume(session: Session, job: IssuanceJob, *, actor: Actor = SYSTEM) -> IssuanceJob:
    """Take ``job`` up again where it stopped, run by the caller (:func:`run_job` goes on
    from the units stored); audited as ``issuance.resume`` with the codes issued so far,
    as a requeue from the admin app is."""
    audit.log(session, actor, "issuance.resume", "issuance_job", job.id, {"issued": job.issued},
              brand_id=job.brand_id)  # fmt: skip
    return job


def _refuse_repeat(session: Session, brand_id: int, request_key: str) -> None:
    query = select(IssuanceJob).where(
        IssuanceJob.brand_id == brand_id, IssuanceJob.request_key == request_key
    )
    job = session.scalar(query)
    if job is not None:
        raise DuplicateRequest(job)


def issue(
    sessions: sessionmaker[Session],
    batch_id: int,
    count: int,
    passphrase: str,
    *,
    with_pin: bool = False,
    actor: Actor = SYSTEM,
    **run_options,
) -> IssuanceJob:
    """Create a job for ``count`` codes and run it to the end (see :func:`run_job`)."""
    with sessions.begin() as session:
        batch = session.get_one(Batch, batch_id)
        job_id = create_job(session, batch, count, with_pin=with_pin, actor=actor).id
    return run_job(sessions, job_id, passphrase, **run_options)


def run_job(
    sessions: sessionmaker[Session],
    job_id: int,
    passphrase: str,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IssuanceJob:
    """Run or resume job ``job_id`` until all its codes are stored.

    ``workers`` signing processes (default: one per core) sign while this process
    inserts. ``progress(issued, requested)`` is called after every committed chunk; an
    exception it raises stops the job like any other interruption, and the job resumes
    from the last committed chunk.
    """
    with sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id)
        if job.status is JobStatus.DONE:
            return job
        key = private_key_of(job.signing_key, passphrase)
        batch = job.batch
        prefix = message_prefix(job.signing_key.kid, batch.product.gtin, batch.lot)
        job.status, job.started_at, job.error = JobStatus.RUNNING, utcnow(), None
        ids = (job.brand_id, job.batch_id, job.id)
        issued, requested = job.issued, job.requested
    if progress:
        progress(issued, requested)
    try:
        tasks = [
            _ChunkTask(prefix, start, min(chunk_size, requested - start))
            for start in range(issued, requested, chunk_size)
        ]
        for task, rows in _signed_chunks(key, tasks, workers):
            _store_chunk(sessions, ids, task, rows, key)
            if progress:
                progress(task.start + task.count, requested)
    except JobConflict:
        raise  # another runner owns the job now: its state is theirs to change
    except BaseException as exc:
        _mark_failed(sessions, job_id, exc)
        raise
    with sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id)
        job.status, job.finished_at = JobStatus.DONE, utcnow()
    return job


def _signed_chunks(
    key: Ed25519PrivateKey, tasks: list[_ChunkTask], workers: int | None
) -> Iterator[tuple[_ChunkTask, list[Row]]]:
    """Yield each task with its signed rows, in order, signing ahead in a process pool."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or sum(task.count for task in tasks) < POOL_THRESHOLD:
        for task in tasks:
            yield task, _sign(key, task)
        return
    yield from ordered_map(
        _sign_in_worker,
        tasks,
        workers=workers,
        ahead=workers + 1,
        initializer=_init_worker,
        initargs=(key.private_bytes_raw(),),
    )


_worker_key: Ed25519PrivateKey | None = None


def _init_worker(raw_key: bytes) -> None:
    global _worker_key
    _worker_key = Ed25519PrivateKey.from_private_bytes(raw_key)


def _sign_in_worker(task: _ChunkTask) -> list[Row]:
    assert _worker_key is not None, "worker started without its key"
    return _sign(_worker_key, task)


def _sign(key: Ed25519PrivateKey, task: _ChunkTask) -> list[Row]:
    sign, prefix = key.sign, task.prefix
    rows = []
    for seq in range(task.start, task.start + task.count):
        serial = new_serial()
        rows.append((seq, serial, sign(prefix + serial.encode("ascii"))))
    return rows


def _store_chunk(
    sessions: sessionmaker[Session],
    ids: tuple[int, int, int],
    task: _ChunkTask,
    rows: list[Row],
    key: Ed25519PrivateKey,
) -> None:
    """Insert one chunk and advance the job's counter in one transaction."""
    brand_id, batch_id, job_id = ids
    for _attempt in range(SERIAL_RETRIES):
        try:
            with sessions.begin() as session:
                job = session.get_one(IssuanceJob, job_id, with_for_update=True)
                if job.issued != task.start:
                    raise JobConflict(f"job {job_id} is at {job.issued}, expected {task.start}")
                values = [
                    (brand_id, batch_id, job_id, seq, serial, sig) for seq, serial, sig in rows
                ]
                _insert_units(session, values)
                job.issued = task.start + task.count
            return
        except IntegrityError:
            # (job, seq) is guarded by the lock above, so this is a serial collision.
            rows = _sign(key, task)
    raise RuntimeError(f"job {job_id}: serial collisions persisted over {SERIAL_RETRIES} tries")


_COLUMNS = ("brand_id", "batch_id", "job_id", "seq", "serial", "signature")


def _insert_units(session: Session, values: list[tuple]) -> None:
    bulk_insert(session, Unit.__table__, _COLUMNS, values)


def _mark_failed(sessions: sessionmaker[Session], job_id: int, exc: BaseException) -> None:
    with sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id)
        job.status = JobStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:1000]
