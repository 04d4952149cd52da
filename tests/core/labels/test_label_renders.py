"""Label renders: queued per issuance job, run by the worker, files only when complete."""

import csv
import datetime as dt

import pytest

from tests.conftest import PASSPHRASE
from tracemark import worker as jobs
from tracemark.codes import issuance
from tracemark.codes.pins import brand_pin_key, pin_for
from tracemark.codes.printing import batch_urls
from tracemark.labels import renders as label_renders
from tracemark.models import BatchStatus, IssuanceJob, JobStatus, LabelRender

PIN_SECRET = "test-pin-secret"


@pytest.fixture
def options(tmp_path):
    return label_renders.RenderOptions(tmp_path / "labels", "https://t.example", PIN_SECRET)


def _issued(db, demo, count, **options):
    return issuance.issue(db.sessions, demo.batch.id, count, PASSPHRASE, **options).id


def _request(db, job_id, fmt, options):
    with db.sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id)
        render, queued = label_renders.request_render(session, job, fmt, options.directory)
        return render.id, queued


def _render(db, render_id):
    with db.sessions() as session:
        return session.get_one(LabelRender, render_id)


def test_a_render_holds_its_jobs_labels_only(db, demo, options):
    first, second = _issued(db, demo, 3), _issued(db, demo, 5)
    render_id, queued = _request(db, second, "csv", options)
    assert queued
    seen = []
    label_renders.run_render(db.sessions, render_id, options, progress=seen.append)
    render = _render(db, render_id)
    assert (render.status, render.done, render.total) == (JobStatus.DONE, 5, 5)
    assert render.file_name == f"{demo.brand.id}/job-{second}.csv" and seen[-1] == 5
    rows = list(csv.DictReader(label_renders.file_path(options.directory, render).open()))
    with db.sessions() as session:
        batch = session.merge(demo.batch)
        second_urls = [url for _s, url, _p in batch_urls(session, batch, "x", job_id=second)]
        first_urls = [url for _s, url, _p in batch_urls(session, batch, "x", job_id=first)]
    assert [row["url"] for row in rows] == second_urls
    assert not set(first_urls) & set(second_urls) and len(first_urls) == 3


def test_a_render_is_requested_once(db, demo, options):
    job_id = _issued(db, demo, 2)
    render_id, queued = _request(db, job_id, "pdf", options)
    again_id, queued_again = _request(db, job_id, "pdf", options)
    assert queued and not queued_again and again_id == render_id
    other_id, _ = _request(db, job_id, "png", options)
    assert other_id != render_id


def test_a_job_still_issuing_has_nothing_to_render(db, demo, options):
    with db.sessions.begin() as session:
        job = issuance.create_job(session, session.merge(demo.batch), 10)
        with pytest.raises(label_renders.NotReady):
            label_renders.request_render(session, job, "pdf", options.directory)
        with pytest.raises(ValueError):
            label_renders.request_render(session, job, "docx", options.directory)


def test_a_failed_render_leaves_no_file_and_is_queued_again(db, demo, options, monkeypatch):
    job_id = _issued(db, demo, 2)
    render_id, _ = _request(db, job_id, "pdf", options)

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(label_renders.label_files.labels, "write_pdf_sheet", disk_full)
    with pytest.raises(OSError):
        label_renders.run_render(db.sessions, render_id, options)
    render = _render(db, render_id)
    assert render.status is JobStatus.FAILED and "No space left" in render.error
    assert not any(path.is_file() for path in options.directory.rglob("*"))
    monkeypatch.undo()
    assert _request(db, job_id, "pdf", options) == (render_id, True)
    label_renders.run_render(db.sessions, render_id, options)
    path = label_renders.file_path(options.directory, _render(db, render_id))
    assert path.read_bytes().startswith(b"%PDF")
    # a done render whose file has gone is rendered again; one with its file is not
    assert _request(db, job_id, "pdf", options) == (render_id, False)
    path.unlink()
    assert _request(db, job_id, "pdf", options) == (render_id, True)


def test_the_csv_of_a_pin_job_carries_the_pins(db, demo, options):
    job_id = _issued(db, demo, 3, with_pin=True)
    render_id, _ = _request(db, job_id, "csv", options)
    label_renders.run_render(db.sessions, render_id, options)
    path = label_renders.file_path(options.directory, _render(db, render_id))
    rows = list(csv.DictReader(path.open()))
    key = brand_pin_key(PIN_SECRET, demo.brand.id)
    assert [row["pin"] for row in rows] == [pin_for(key, row["serial"]) for row in rows]
    # without the PIN secret the worker cannot write them: the render fails, says why
    render_id, _ = _request(db, _issued(db, demo, 1, with_pin=True), "csv", options)
    blind = label_renders.RenderOptions(options.directory, options.default_base, None)
    with pytest.raises(RuntimeError):
        label_renders.run_render(db.sessions, render_id, blind)
    assert "PIN secret" in _render(db, render_id).error


def test_the_worker_issues_then_renders(db, demo, options, idle_queue):
    with db.sessions.begin() as session:
        job_id = issuance.create_job(session, session.merge(demo.batch), 30).id
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True, renders=options) == 1
    render_id, _ = _request(db, job_id, "svg", options)
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True, renders=options) == 1
    render = _render(db, render_id)
    assert (render.status, render.done) == (JobStatus.DONE, 30)
    assert label_renders.file_path(options.directory, render).name == f"job-{job_id}-svg.zip"


def test_a_render_whose_worker_died_is_taken_over(db, demo, options, idle_queue):
    render_id, _ = _request(db, _issued(db, demo, 4), "png", options)
    now = dt.datetime.now(dt.UTC)
    assert jobs.claim_next(db.sessions, "gone:1", model=LabelRender, now=now) == render_id
    assert jobs.claim_next(db.sessions, "me:2", model=LabelRender, now=now) is None
    later = now + jobs.LEASE + dt.timedelta(seconds=1)
    assert jobs.claim_next(db.sessions, "me:2", model=LabelRender, now=later) == render_id
    # the old worker notices at its next report and stops without failing the render
    with pytest.raises(issuance.JobConflict):
        label_renders.run_render(
            db.sessions,
            render_id,
            options,
            progress=lambda done: jobs.renew(
                db.sessions, render_id, "gone:1", model=LabelRender, done=done
            ),
        )
    assert _render(db, render_id).status is JobStatus.RUNNING
    assert not any(path.is_file() for path in options.directory.rglob("*"))


def test_a_failed_job_is_queued_again_by_hand_and_resumes(db, demo, idle_queue):
    with db.sessions.begin() as session:
        job = issuance.create_job(session, session.merge(demo.batch), 2_500)
        job_id = job.id
        with pytest.raises(jobs.NotFailed):
            jobs.requeue(session, job)

    def fail_after_first_chunk(done, _total):
        if done >= 1_000:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        issuance.run_job(
            db.sessions, job_id, PASSPHRASE, chunk_size=1_000, progress=fail_after_first_chunk
        )
    assert jobs.claim_next(db.sessions, "w:1") is None
    with db.sessions.begin() as session:
        jobs.requeue(session, session.get_one(IssuanceJob, job_id))
    assert jobs.run_worker(db.sessions, PASSPHRASE, once=True) == 1
    with db.sessions() as session:
        job = session.get_one(IssuanceJob, job_id)
        assert (job.status, job.issued, job.error) == (JobStatus.DONE, 2_500, None)


def test_the_same_request_key_queues_one_job(db, demo):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        first = issuance.create_job(session, batch, 5, request_key="k" * 32)
        with pytest.raises(issuance.DuplicateRequest) as raised:
            issuance.create_job(session, batch, 5, request_key="k" * 32)
        assert raised.value.job.id == first.id
        assert issuance.create_job(session, batch, 5, request_key="j" * 32).id != first.id


def test_a_recalled_batch_gets_no_new_codes(db, demo):
    with db.sessions() as session:  # not committed
        batch = session.merge(demo.batch)
        batch.status = BatchStatus.RECALLED
        with pytest.raises(issuance.BatchRecalled):
            issuance.create_job(session, batch, 5)


def test_prune_deletes_old_label_files_and_dead_partials_and_a_download_renders_again(
    db, demo, options
):
    import os

    from sqlalchemy import update

    old_job, new_job = _issued(db, demo, 2), _issued(db, demo, 2)
    old_id, new_id = (
        _request(db, old_job, "csv", options)[0],
        _request(db, new_job, "csv", options)[0],
    )
    for render_id in (old_id, new_id):
        label_renders.run_render(db.sessions, render_id, options)
    now = dt.datetime.now(dt.UTC)
    with db.sessions.begin() as session:
        session.execute(
            update(LabelRender)
            .where(LabelRender.id == old_id)
            .values(finished_at=now - dt.timedelta(days=40))
        )
    old_file = label_renders.file_path(options.directory, _render(db, old_id))
    new_file = label_renders.file_path(options.directory, _render(db, new_id))
    dead_part = old_file.parent / ".job-999.csv.abc.part"
    live_part = old_file.parent / ".job-998.csv.def.part"
    for part in (dead_part, live_part):
        part.write_bytes(b"half a file")
    two_hours_ago = (now - dt.timedelta(hours=2)).timestamp()
    os.utime(dead_part, (two_hours_ago, two_hours_ago))
    size = old_file.stat().st_size + dead_part.stat().st_size

    pruned = label_renders.prune(db.sessions, options.directory, dt.timedelta(days=30), now=now)

    assert (pruned.files, pruned.bytes) == (2, size)
    assert not old_file.exists() and not dead_part.exists()
    assert new_file.exists() and live_part.exists()
    assert label_renders.prune(db.sessions, options.directory, dt.timedelta(days=30)).files == 0
    assert _request(db, old_job, "csv", options) == (old_id, True)  # queued again
    assert _request(db, new_job, "csv", options) == (new_id, False)
