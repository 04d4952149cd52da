"""Issuing codes and label files from the admin batch page, through the Flask test client."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE
from tests.helpers.admin import ROLES, audit_actions, base, csrf_token, errors_of, signed_in
from tracemark import worker as jobs
from tracemark.codes import issuance, keystore
from tracemark.config import Settings
from tracemark.labels.renders import RenderOptions
from tracemark.models import Batch, BatchStatus, Brand, IssuanceJob, JobStatus, LabelRender

PIN_SECRET = "test-pin-secret"
_KEY = re.compile(r'name="request_key" type="hidden" value="([0-9a-f]{32})"')
_ISSUE_CSRF = re.compile(r'data-issue-form>\s*<input id="csrf_token" name="csrf_token" '
                         r'type="hidden" value="([^"]+)"')  # fmt: skip


@pytest.fixture
def settings(db, tmp_path) -> Settings:
    return Settings(
        database_url=db.url,
        secret_key="test",
        key_passphrase=PASSPHRASE,
        pin_secret=PIN_SECRET,
        label_dir=tmp_path / "labels",
    )


@pytest.fixture
def worker(db, settings, idle_queue):
    """Run the worker until the queue is empty, as ``tracemark worker --once`` does."""
    options = RenderOptions(settings.label_dir, "http://labels.example", PIN_SECRET)

    def run() -> int:
        return jobs.run_worker(db.sessions, PASSPHRASE, once=True, workers=1, renders=options)

    return run


def batch_path(shop) -> str:
    return f"{base(shop)}/batches/{shop.batch_id}"


def issue(client, shop, count, *, key: str | None = None, **extra):
    """Send the batch page's issue form; ``key`` replaces its one-time request key."""
    html = client.get(batch_path(shop)).get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(client, "/admin/"),
        "request_key": key if key is not None else _KEY.search(html).group(1),
        "count": count,
        **extra,
    }
    return client.post(f"{batch_path(shop)}/jobs", data=data)


def post(client, path: str, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/")}, **kwargs)


def job_count(db, batch_id: int) -> int:
    with db.sessions() as session:
        query = select(func.count()).where(IssuanceJob.batch_id == batch_id)
        return session.scalar(query)


def only_job(db, batch_id: int) -> IssuanceJob:
    with db.sessions() as session:
        return session.scalars(select(IssuanceJob).where(IssuanceJob.batch_id == batch_id)).one()


def queued_job(db, shop, count: int = 3, status: JobStatus | None = None) -> int:
    with db.sessions.begin() as session:
        job = issuance.create_job(session, session.get_one(Batch, shop.batch_id), count)
        if status is not None:
            job.status = status
        return job.id


def progress(client, shop) -> dict:
    response = client.get(f"{batch_path(shop)}/progress.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


@pytest.mark.slow  # renders every label format
def test_an_owner_issues_codes_and_downloads_every_label_format(app, shop, db, worker):
    client = signed_in(app, shop)
    response = issue(client, shop, "60", with_pin="y")
    job = only_job(db, shop.batch_id)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{batch_path(shop)}#job-{job.id}")
    assert (job.requested, job.with_pin, job.status) == (60, True, JobStatus.PENDING)
    [entry] = [e for e in audit_actions(db, "issuance.queue") if e.object_id == str(job.id)]
    assert entry.details == {"lot": "L2401A", "count": 60, "with_pin": True}
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert f'data-job="{job.id}" data-state="pending"' in page and "data-active" in page
    assert progress(client, shop)["jobs"][0] == {
        "id": job.id, "state": "pending", "state_label": "Queued", "issued": 0,
        "requested": 60, "renders": {},
    }  # fmt: skip

    # nothing to download or prepare before the job is done
    labels = f"{base(shop)}/jobs/{job.id}/labels"
    early = post(client, f"{labels}/pdf")
    assert early.status_code == 409 and "still being issued" in early.get_data(as_text=True)

    assert worker() == 1
    data = progress(client, shop)
    assert data["active"] is False and data["jobs"][0]["issued"] == 60
    assert data["jobs"][0]["state"] == "done"
    for fmt in ("pdf", "svg", "png", "csv"):
        assert client.get(f"{labels}/{fmt}").status_code == 409  # not prepared yet
        assert post(client, f"{labels}/{fmt}").status_code == 303
    not_ready = client.get(f"{labels}/pdf")
    assert not_ready.status_code == 409
    assert "not ready yet" in not_ready.get_data(as_text=True)
    assert progress(client, shop)["jobs"][0]["renders"]["csv"] == {
        "state": "pending", "done": 0, "total": 60,
    }  # fmt: skip
    assert worker() == 4

    expected = {
        "pdf": ("application/pdf", ".pdf"),
        "svg": ("application/zip", "-svg.zip"),
        "png": ("application/zip", "-png.zip"),
        "csv": ("text/csv", ".csv"),
    }
    for fmt, (mimetype, suffix) in expected.items():
        response = client.get(f"{labels}/{fmt}")
        assert response.status_code == 200, fmt
        assert response.mimetype == mimetype
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename=L2401A-job{job.id}{suffix}"
        assert "no-store" in response.headers["Cache-Control"]
        body = response.get_data()
        if fmt == "pdf":
            assert body.startswith(b"%PDF")
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(body.decode())))
            assert len(rows) == 60 and all(len(row["pin"]) == 8 for row in rows)
            assert rows[0]["url"].startswith("HTTPS://TM.EXAMPLE.COM/01/")
        else:
            assert len(zipfile.ZipFile(io.BytesIO(body)).namelist()) == 60
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert page.count("data-download=") == 4 and "data-active" not in page
    downloads = [e for e in audit_actions(db, "labels.download") if e.brand_id == shop.brand.id]
    assert len(downloads) == 4


def test_the_same_form_sent_twice_queues_one_job(app, shop, db):
    client = signed_in(app, shop, "staff")
    key = "0123456789abcdef" * 2
    first = issue(client, shop, "1,000", key=key)
    again = issue(client, shop, "1,000", key=key)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert job_count(db, shop.batch_id) == 1 and only_job(db, shop.batch_id).requested == 1000
    assert issue(client, shop, "25").status_code == 303  # a fresh form is a new request
    assert job_count(db, shop.batch_id) == 2


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "Issue between 1 and 5,000,000 codes at a time."),
        ("5000001", "Issue between 1 and 5,000,000 codes at a time."),
        ("99999999999999999999999", "Issue between 1 and 5,000,000 codes at a time."),
        ("abc", "Enter a whole number, such as 10000."),
        ("-5", "Enter a whole number, such as 10000."),
        ("1.5", "Enter a whole number, such as 10000."),
        ("1e3", "Enter a whole number, such as 10000."),
        ("", "Enter how many codes to issue."),
    ],
)
def test_a_bad_count_is_a_field_error_and_nothing_is_queued(app, shop, db, count, message):
    response = issue(signed_in(app, shop), shop, count)
    assert response.status_code == 200
    assert errors_of(response) == {"count": message}
    assert job_count(db, shop.batch_id) == 0


def test_a_tampered_request_key_or_missing_csrf_queues_nothing(app, shop, db):
    client = signed_in(app, shop)
    bad_key = issue(client, shop, "5", key="<script>")
    assert bad_key.status_code == 200 and "request_key" in errors_of(bad_key)
    assert _KEY.search(bad_key.get_data(as_text=True))  # a fresh key to try again with
    no_csrf = client.post(f"{batch_path(shop)}/jobs", data={"count": "5", "request_key": "a" * 32})
    assert no_csrf.status_code == 400 and "has expired" in no_csrf.get_data(as_text=True)
    assert job_count(db, shop.batch_id) == 0


def test_form_errors_are_translated(app, shop, db):
    client = signed_in(app, shop)
    html = client.get(batch_path(shop)).get_data(as_text=True)
    response = client.post(
        f"{batch_path(shop)}/jobs",
        data={"csrf_token": csrf_token(client, "/admin/"), "count": "0",
              "request_key": _KEY.search(html).group(1)},
        headers={"Accept-Language": "de"},
    )  # fmt: skip
    assert errors_of(response) == {
        "count": "Geben Sie zwischen 1 und 5.000.000 Codes auf einmal aus."
    }


def test_a_gtin_under_another_brands_prefix_is_refused_codes(app, shop, db):
    from tests.conftest import fresh_prefix, gtin_under
    from tracemark.models import BrandPrefix, Product

    client = signed_in(app, shop)
    key = _KEY.search(client.get(batch_path(shop)).get_data(as_text=True)).group(1)
    prefix = fresh_prefix()
    with db.sessions.begin() as session:  # a GTIN registered before its prefix was claimed
        session.get_one(Product, shop.product_id).gtin = gtin_under(prefix)
        session.add(BrandPrefix(brand_id=shop.other.id, prefix=prefix))
    message = "GS1 company prefix: it gets no new codes."
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert "data-refusal" in page and "data-issue-form" not in page
    refused = issue(client, shop, "5", key=key)
    assert refused.status_code == 409 and message in refused.get_data(as_text=True)
    with db.sessions() as session:
        assert session.query(IssuanceJob).filter_by(batch_id=shop.batch_id).count() == 0


def test_a_recalled_batch_or_a_brand_without_key_is_refused(app, shop, db):
    client = signed_in(app, shop)
    html = client.get(batch_path(shop)).get_data(as_text=True)
    key = _KEY.search(html).group(1)
    with db.sessions.begin() as session:
        session.get_one(Batch, shop.batch_id).status = BatchStatus.RECALLED
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert "data-refusal" in page and "data-issue-form" not in page
    refused = issue(client, shop, "5", key=key)
    assert refused.status_code == 409
    assert "This batch is recalled: it gets no new codes." in refused.get_data(as_text=True)

    with db.sessions.begin() as session:
        session.get_one(Batch, shop.batch_id).status = BatchStatus.RELEASED
        brand = session.get_one(Brand, shop.brand.id)
        for key_row in keystore.active_keys(session, brand):
            keystore.retire_key(session, key_row)
    refused = issue(client, shop, "5", key=key)
    assert refused.status_code == 409
    assert "has no active signing key" in refused.get_data(as_text=True)
    assert job_count(db, shop.batch_id) == 0


def test_a_failed_job_is_resumed_where_it_stopped(app, shop, db, worker):
    job_id = queued_job(db, shop, 2_500)

    def fail_after_first_chunk(done, _total):
        if done >= 1_000:
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        issuance.run_job(
            db.sessions, job_id, PASSPHRASE, chunk_size=1_000, progress=fail_after_first_chunk
        )
    client = signed_in(app, shop, "staff")
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert f'data-resume="{job_id}"' in page and "No space left on device" in page
    response = post(client, f"{base(shop)}/jobs/{job_id}/resume")
    assert response.status_code == 303
    job = only_job(db, shop.batch_id)
    assert (job.status, job.issued) == (JobStatus.PENDING, 1_000)
    assert [e.details for e in audit_actions(db, "issuance.resume") if e.object_id == str(job_id)]
    assert worker() == 1
    job = only_job(db, shop.batch_id)
    assert (job.status, job.issued) == (JobStatus.DONE, 2_500)
    again = post(client, f"{base(shop)}/jobs/{job_id}/resume")
    assert again.status_code == 409
    assert "Only a failed job can be resumed." in again.get_data(as_text=True)


def test_a_job_whose_worker_died_shows_as_interrupted(app, shop, db):
    job_id = queued_job(db, shop, 5)
    with db.sessions.begin() as session:
        job = session.get_one(IssuanceJob, job_id)
        job.status, job.worker = JobStatus.RUNNING, "gone:1"
        job.lease_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    client = signed_in(app, shop, "regulator")
    [shown] = progress(client, shop)["jobs"]
    assert shown["state"] == "stalled"
    assert shown["state_label"] == "Interrupted: waits for a worker to take it over"
    assert 'data-state="stalled"' in client.get(batch_path(shop)).get_data(as_text=True)


def _writes(shop, job_id: int) -> list[tuple[str, str, dict]]:
    """Every write route, and the download, as (method, path, form data)."""
    return [
        ("post", f"{batch_path(shop)}/jobs", {"count": "5", "request_key": "b" * 32}),
        ("post", f"{base(shop)}/jobs/{job_id}/resume", {}),
        ("post", f"{base(shop)}/jobs/{job_id}/labels/pdf", {}),
        ("get", f"{base(shop)}/jobs/{job_id}/labels/pdf", {}),
    ]


#: role -> (status of the page and progress.json, statuses of writes and the download)
EXPECTED = {
    "owner": (200, {303, 409}),
    "staff": (200, {303, 409}),
    "marketing": (200, {403}),
    "regulator": (200, {403}),
    "outsider": (404, {404}),
}


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, shop, db, role):
    job_id = queued_job(db, shop, 3, status=JobStatus.FAILED)
    client = signed_in(app, shop, role)
    token = csrf_token(client, "/admin/")
    read, writes = EXPECTED[role]
    page = client.get(batch_path(shop))
    assert page.status_code == read
    assert client.get(f"{batch_path(shop)}/progress.json").status_code == read
    if role in ("marketing", "regulator"):
        html = page.get_data(as_text=True)
        assert f'data-job="{job_id}"' in html
        assert "data-issue-form" not in html and "data-resume" not in html
    for method, path, data in _writes(shop, job_id):
        if method == "post":
            response = client.post(path, data={"csrf_token": token, **data})
        else:
            response = client.get(path)
        assert response.status_code in writes, (role, path, response.status_code)
        if response.status_code == 403:
            text = response.get_data(as_text=True)
            assert "Only the brand&#39;s owners and staff can issue codes" in text


def test_another_brands_job_or_batch_is_not_found_under_my_brand(app, shop, db):
    with db.sessions.begin() as session:
        theirs = issuance.create_job(session, session.get_one(Batch, shop.other_batch_id), 3)
        theirs.status = JobStatus.FAILED
        other_job = theirs.id
    client = signed_in(app, shop)
    token = csrf_token(client, "/admin/")
    other_batch = f"{base(shop)}/batches/{shop.other_batch_id}"
    assert client.get(f"{other_batch}/progress.json").status_code == 404
    for path in (
        f"{other_batch}/jobs",
        f"{base(shop)}/jobs/{other_job}/resume",
        f"{base(shop)}/jobs/{other_job}/labels/pdf",
        f"{base(shop)}/jobs/999999999/resume",
    ):
        response = client.post(path, data={"csrf_token": token, "count": "5",
                                           "request_key": "c" * 32})  # fmt: skip
        assert response.status_code == 404, path
    assert client.get(f"{base(shop)}/jobs/{other_job}/labels/pdf").status_code == 404
    with db.sessions() as session:
        assert session.get_one(IssuanceJob, other_job).status is JobStatus.FAILED
        assert session.scalar(select(func.count()).select_from(LabelRender).where(
            LabelRender.job_id == other_job)) == 0  # fmt: skip


def test_an_unknown_label_format_is_not_found(app, shop, db):
    job_id = queued_job(db, shop, 3, status=JobStatus.DONE)
    client = signed_in(app, shop)
    assert client.get(f"{base(shop)}/jobs/{job_id}/labels/docx").status_code == 404
    assert post(client, f"{base(shop)}/jobs/{job_id}/labels/..").status_code == 404


def test_a_missing_label_file_is_prepared_again(app, shop, db, worker, settings):
    job_id = queued_job(db, shop, 3)
    assert worker() == 1
    client = signed_in(app, shop)
    labels = f"{base(shop)}/jobs/{job_id}/labels/csv"
    post(client, labels)
    assert worker() == 1
    assert client.get(labels).status_code == 200
    for path in settings.label_dir.rglob("*.csv"):
        path.unlink()  # say, the label folder was cleaned
    assert client.get(labels).status_code == 409
    page = client.get(batch_path(shop)).get_data(as_text=True)
    assert 'data-render="csv" data-state="done"' in page  # the page offers the download
    assert post(client, labels).status_code == 303  # and preparing it queues it again
    assert worker() == 1
    assert client.get(labels).status_code == 200
