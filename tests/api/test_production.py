"""Batches from an ERP, code issuance queued for the worker, and job progress."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSPHRASE, fresh_prefix, gtin_under
from tracemark import catalog
from tracemark.codes import issuance, keystore
from tracemark.models import Batch, BatchStatus, IssuanceJob, JobStatus

BATCHES = "/api/v1/brands/{slug}/batches"
ISSUE = "/api/v1/brands/{slug}/batches/{lot}/issuance"
JOB = "/api/v1/brands/{slug}/jobs/{job_id}"


def test_batch_is_created_with_its_facts(db, client, tenant, conforms):
    with db.sessions.begin() as session:
        catalog.create_site(session, session.merge(tenant.demo.brand), "Jaén mill", country="ES")
    body = {
        "gtin": "9506000134352",  # GTIN-13, the same product
        "lot": "L2611A",
        "production_date": "2026-11-20",
        "expiry_date": "2028-11-20",
        "site": "Jaén mill",
        "line": "Line 2",
    }
    response = client.post(tenant.url("batches"), headers=tenant.headers("issue"), json=body)
    assert response.status_code == 201
    made = conforms(response, BATCHES, "post")
    assert made | {"id": 0} == {
        "id": 0,
        "gtin": "09506000134352",
        "lot": "L2611A",
        "status": "released",
        "production_date": "2026-11-20",
        "expiry_date": "2028-11-20",
        "site": "Jaén mill",
        "line": "Line 2",
    }
    again = client.post(tenant.url("batches"), headers=tenant.headers("issue"), json=body)
    assert again.status_code == 409
    assert conforms(again, BATCHES, "post")["error"] == "duplicate_lot"


@pytest.mark.parametrize(
    ("body", "code", "path"),
    [
        ({"lot": "X1"}, "invalid_body", "$"),
        ({"gtin": "09506000134353", "lot": "X1"}, "invalid_gtin", "$.gtin"),
        ({"gtin": "09506000134369", "lot": "X1"}, "unknown_product", "$.gtin"),
        ({"gtin": "09506000134352", "lot": "X1", "site": "Nowhere"}, "unknown_site", "$.site"),
        ({"gtin": "09506000134352", "lot": "a" * 21}, "invalid_body", "$.lot"),
        ({"gtin": "09506000134352", "lot": "L 1"}, "invalid_batch", None),
        (
            {"gtin": "09506000134352", "lot": "X1", "expiry_date": "2026-13-01"},
            "invalid_body",
            None,
        ),
        (
            {
                "gtin": "09506000134352",
                "lot": "X1",
                "production_date": "2026-02-01",
                "expiry_date": "2026-01-01",
            },
            "invalid_batch",
            None,
        ),
        ({"gtin": "09506000134352", "lot": "X1", "extra": 1}, "invalid_body", "$"),
    ],
)
def test_bad_batches_are_422_and_store_nothing(db, client, tenant, conforms, body, code, path):
    response = client.post(tenant.url("batches"), headers=tenant.headers(), json=body)
    assert response.status_code == 422
    answer = conforms(response, BATCHES, "post")
    assert answer["error"] == code
    if path is not None:
        assert answer["path"] == path
    with db.sessions() as session:
        count = (
            select(func.count()).select_from(Batch).where(Batch.brand_id == tenant.demo.brand.id)
        )
        assert session.scalar(count) == 1


def test_issuance_is_queued_and_its_progress_read(db, client, tenant, conforms):
    response = client.post(
        tenant.url("batches/L2401A/issuance"), headers=tenant.headers("issue"), json={"count": 3}
    )
    assert response.status_code == 202
    job = conforms(response, ISSUE, "post")
    assert (job["status"], job["requested"], job["issued"], job["progress"]) == (
        "pending",
        3,
        0,
        0.0,
    )
    location = response.headers["Location"]
    assert location == tenant.url(f"jobs/{job['id']}")
    issuance.run_job(db.sessions, job["id"], PASSPHRASE, workers=1)
    done = conforms(client.get(location, headers=tenant.headers("read")), JOB)
    assert (done["status"], done["issued"], done["progress"]) == ("done", 3, 1.0)
    assert done["finished_at"] is not None


def test_idempotency_key_queues_one_job(db, client, tenant, conforms):
    headers = tenant.headers() | {"Idempotency-Key": "erp-order-77"}
    first = client.post(tenant.url("batches/L2401A/issuance"), headers=headers, json={"count": 5})
    again = client.post(tenant.url("batches/L2401A/issuance"), headers=headers, json={"count": 5})
    assert (first.status_code, again.status_code) == (202, 200)
    assert conforms(again, ISSUE, "post")["id"] == first.get_json()["id"]
    with db.sessions() as session:
        count = (
            select(func.count())
            .select_from(IssuanceJob)
            .where(IssuanceJob.brand_id == tenant.demo.brand.id)
        )
        assert session.scalar(count) == 1
    bad = client.post(
        tenant.url("batches/L2401A/issuance"),
        headers=tenant.headers() | {"Idempotency-Key": "k" * 61},
        json={"count": 5},
    )
    assert bad.status_code == 400 and bad.get_json()["error"] == "bad_idempotency_key"


def test_issuance_refusals(db, client, tenant, other, conforms):
    url = tenant.url("batches/L2401A/issuance")
    for body in ({"count": 0}, {"count": 10_000_001}, {"count": "5"}, {}):
        response = client.post(url, headers=tenant.headers(), json=body)
        assert (
            response.status_code == 422
            and conforms(response, ISSUE, "post")["error"] == "invalid_body"
        )
    with db.sessions.begin() as session:
        product = catalog.create_product(
            session, session.merge(tenant.demo.brand), gtin_under(tenant.demo.prefix, 2), "5 l"
        )
        catalog.create_batch(session, product, "L2401A")
    ambiguous = client.post(url, headers=tenant.headers(), json={"count": 1})
    assert (
        ambiguous.status_code == 409
        and conforms(ambiguous, ISSUE, "post")["error"] == "ambiguous_lot"
    )
    second = gtin_under(tenant.demo.prefix, 2)
    chosen = client.post(url, headers=tenant.headers(), json={"count": 1, "gtin": second})
    assert chosen.status_code == 202 and chosen.get_json()["gtin"] == second
    with db.sessions.begin() as session:
        batch = session.get_one(Batch, tenant.demo.batch.id)
        batch.status = BatchStatus.RECALLED
    recalled = client.post(
        url, headers=tenant.headers(), json={"count": 1, "gtin": "09506000134352"}
    )
    assert recalled.status_code == 409 and recalled.get_json()["error"] == "batch_recalled"
    with db.sessions.begin() as session:
        keystore.retire_key(session, keystore.get_key(session, other.demo.kid))
    no_key = client.post(
        other.url("batches/L2401A/issuance"), headers=other.headers(), json={"count": 1}
    )
    assert no_key.status_code == 409 and no_key.get_json()["error"] == "no_active_key"
    missing = client.post(
        tenant.url("batches/NOPE/issuance"), headers=tenant.headers(), json={"count": 1}
    )
    assert missing.status_code == 404


def test_jobs_of_another_brand_are_not_found(db, client, tenant, other, conforms):
    job = issuance.issue(db.sessions, other.demo.batch.id, 1, PASSPHRASE, workers=1)
    for job_id in (job.id, 2**31, 10**30):
        response = client.get(tenant.url(f"jobs/{job_id}"), headers=tenant.headers())
        assert response.status_code == 404 and conforms(response, JOB)["error"] == "not_found"
    assert client.get(other.url(f"jobs/{job.id}"), headers=other.headers()).status_code == 200
    with db.sessions() as session:
        assert session.get_one(IssuanceJob, job.id).status == JobStatus.DONE


def test_a_gtin_under_another_brands_prefix_gets_no_codes(db, client, tenant, other, conforms):
    from tracemark.models import BrandPrefix, Product

    url = tenant.url("batches/L2401A/issuance")
    prefix = fresh_prefix()
    with db.sessions.begin() as session:
        session.get_one(Product, tenant.demo.product.id).gtin = gtin_under(prefix)
        session.add(BrandPrefix(brand_id=other.demo.brand.id, prefix=prefix))
    refused = client.post(url, headers=tenant.headers(), json={"count": 1})
    assert refused.status_code == 409
    assert conforms(refused, ISSUE, "post")["error"] == "foreign_gtin"
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IssuanceJob).where(
            IssuanceJob.brand_id == tenant.demo.brand.id)) == 0  # fmt: skip
