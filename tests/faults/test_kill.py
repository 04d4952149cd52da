"""kill -9 during a million-code issuance, then resume: no code lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tracemark.codes.issuance import DEFAULT_CHUNK_SIZE as CHUNK_SIZE
from tracemark.models import IssuanceJob, JobStatus, Unit

pytestmark = pytest.mark.fault

COUNT = 1_000_000


def _tracemark(db, *args: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "TRACEMARK_DATABASE_URL": db.url,
        "TRACEMARK_KEY_PASSPHRASE": PASSPHRASE,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with log.open("a") as out:
        # its own process group: the kill takes the signing processes too, as a lost
        # machine or an OOM kill would
        return subprocess.Popen(
            ["tracemark", *args], env=env, stdout=out, stderr=out, start_new_session=True
        )


def _job(db, batch_id: int) -> IssuanceJob | None:
    with db.sessions() as session:
        return session.scalar(select(IssuanceJob).where(IssuanceJob.batch_id == batch_id))


@pytest.mark.slow
@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_kill_9_during_a_million_codes_then_resume(db, demo, tmp_path):
    log = tmp_path / "issue.log"
    lot, slug = demo.batch.lot, demo.brand.slug
    started = _tracemark(db, "issue", lot, "--brand", slug, "--count", str(COUNT), log=log)
    deadline = time.monotonic() + 600
    while (job := _job(db, demo.batch.id)) is None or job.issued < 3 * CHUNK_SIZE:
        assert started.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    os.killpg(started.pid, signal.SIGKILL)
    started.wait()

    with db.sessions() as session:
        job = session.get_one(IssuanceJob, job.id)
        stored = session.scalar(select(func.count()).where(Unit.job_id == job.id))
    # whole chunks only, each counted by the job: nothing half-written
    assert stored == job.issued and job.issued % CHUNK_SIZE == 0 and job.issued < COUNT
    assert job.status is JobStatus.RUNNING  # as a dead process leaves it

    resumed = _tracemark(db, "issue", lot, "--brand", slug, "--resume", str(job.id), log=log)
    assert resumed.wait(timeout=900) == 0, log.read_text()
    with db.sessions() as session:
        job = session.get_one(IssuanceJob, job.id)
        counts = session.execute(
            select(
                func.count(),
                func.count(func.distinct(Unit.serial)),
                func.count(func.distinct(Unit.seq)),
                func.min(Unit.seq),
                func.max(Unit.seq),
            ).where(Unit.job_id == job.id)
        ).one()
    assert (job.status, job.issued) == (JobStatus.DONE, COUNT)
    assert tuple(counts) == (COUNT, COUNT, COUNT, 0, COUNT - 1)
