import datetime as dt

import pytest
from sqlalchemy import func, select, update

from tests.conftest import PASSPHRASE
from tracemark import worker as jobs
from tracemark.codes import issuance
from tracemark.models import IssuanceJob, JobStatus, Unit


@pytest.fixture
def queue(db, demo):
    """An empty queue (the test database is shared), and a way to add jobs to it."""
    with db.sessions.begin() as session:
        claimable = IssuanceJob.status.in_([JobStatus.PENDING, JobStatus.RUNNING])
        session.execute(update(IssuanceJob).where(claimable).values(status=JobStatus.FAILED))

    def add(count):
        with db.sessions.begin() as session:
            return issuance.create_job(session, session.merge(demo.batch), count).id

    return add


def _state(db, job_id):
    with db.sessions() as session:
        job = session.get_one(IssuanceJob, job_id)
        units = session.scalar(select(func.count()).where(Unit.job_id == job_id))
        return job.status, job.issued, units


def test_worker_runs_queued_jobs_oldest_first(db, queue):
    first, second = queue(30), queue(20)
    assert jobs.claim_next(db.sessions, "peek:1") == first
    with db.sessions.begin() as session:  # give it back
        session.get_one(IssuanceJob, first).lease_until = None
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True) == 2
    assert _state(db, first) == (JobStatus.DONE, 30, 30)
    assert _state(db, second) == (JobStatus.DONE, 20, 20)


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(db, queue):
    job_id = queue(2_500)

    def killed_after_first_chunk(done, _total):
        if done >= 1_000:
            raise SystemExit

    with pytest.raises(SystemExit):
        issuance.run_job(
            db.sessions, job_id, PASSPHRASE, chunk_size=1_000, progress=killed_after_first_chunk
        )
    now = dt.datetime.now(dt.UTC)
    with db.sessions.begin() as session:  # as a killed worker leaves its job
        job = session.get_one(IssuanceJob, job_id)
        job.status, job.worker, job.lease_until = JobStatus.RUNNING, "gone:1", now + jobs.LEASE
    assert jobs.claim_next(db.sessions, "me:2") is None  # its lease still holds
    later = now + jobs.LEASE + dt.timedelta(seconds=1)
    assert jobs.claim_next(db.sessions, "me:2", now=later) == job_id
    with db.sessions.begin() as session:
        session.get_one(IssuanceJob, job_id).lease_until = None
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True) == 1
    assert _state(db, job_id) == (JobStatus.DONE, 2_500, 2_500)
    with db.sessions() as session:
        seqs = session.scalars(select(Unit.seq).where(Unit.job_id == job_id).order_by(Unit.seq))
        assert list(seqs) == list(range(2_500))


def test_failed_jobs_are_not_retried_by_themselves(db, queue):
    job_id = queue(5)
    with db.sessions.begin() as session:
        session.get_one(IssuanceJob, job_id).status = JobStatus.FAILED
    assert jobs.claim_next(db.sessions, "w:1") is None


def test_a_worker_that_lost_its_job_stops_without_failing_it(db, queue):
    job_id = queue(5)
    assert jobs.claim_next(db.sessions, "old:1") == job_id
    with db.sessions.begin() as session:
        session.get_one(IssuanceJob, job_id).worker = "new:2"
    with pytest.raises(issuance.JobConflict):
        jobs.renew(db.sessions, job_id, "old:1")
    with pytest.raises(issuance.JobConflict):
        issuance.run_job(
            db.sessions,
            job_id,
            PASSPHRASE,
            progress=lambda *_: jobs.renew(db.sessions, job_id, "old:1"),
        )
    assert _state(db, job_id)[0] is not JobStatus.FAILED
