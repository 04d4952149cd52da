"""Production from an ERP: batches, code issuance queued for the worker, job progress."""

from __future__ import annotations

from flask import jsonify, request, url_for

from api.access import ApiError, bp, budget_key, made, not_found, requires, token
from api.bodies import body_of, date_field
from tracemark import catalog, errors
from tracemark.audit import Actor
from tracemark.codes import issuance, keystore
from tracemark.models import Batch, IssuanceJob
from tracemark.models.base import as_utc
from tracemark.web import db_session, rate_limited

#: ``Idempotency-Key`` values are stored as ``api:<key>`` in a 64-character column.
MAX_IDEMPOTENCY_KEY = 60


def batch_of(lot: str, gtin: str | None) -> Batch:
    """The token's brand's batch ``lot`` (of ``gtin`` when given).

    :raises ApiError: 404 (no such batch, or a bad GTIN), 409 ``ambiguous_lot``.
    """
    try:
        return catalog.find_batch(db_session(), token().brand, lot, gtin)
    except catalog.AmbiguousLot:
        raise ApiError(
            409,
            "ambiguous_lot",
            "Several products have a batch with this lot: give the product's GTIN.",
        ) from None
    except (errors.NotFound, ValueError):
        raise not_found() from None


def batch_json(batch: Batch) -> dict:
    return {
        "id": batch.id,
        "gtin": batch.product.gtin,
        "lot": batch.lot,
        "status": batch.status.value,
        "production_date": _iso(batch.production_date),
        "expiry_date": _iso(batch.expiry_date),
        "site": batch.site.name if batch.site is not None else None,
        "line": batch.line,
    }


def job_json(job: IssuanceJob) -> dict:
    return {
        "id": job.id,
        "gtin": job.batch.product.gtin,
        "lot": job.batch.lot,
        "status": job.status.value,
        "requested": job.requested,
        "issued": job.issued,
        "progress": round(job.issued / job.requested, 4) if job.requested else 0.0,
        "with_pin": job.with_pin,
        "created_at": _iso(as_utc(job.created_at)),
        "started_at": _iso(as_utc(job.started_at)),
        "finished_at": _iso(as_utc(job.finished_at)),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


@bp.post("/brands/<slug>/batches")
@rate_limited("api", key=budget_key)
@requires("issue")
def create_batch(slug: str):
    """A batch of one of the brand's products (409 ``duplicate_lot`` when it has one)."""
    body = body_of("NewBatch")
    session, brand = db_session(), token().brand
    try:
        product = catalog.find_product(session, brand, body["gtin"])
    except ValueError:
        raise ApiError(422, "invalid_gtin", "Not a valid GTIN.", path="$.gtin") from None
    except errors.NotFound:
        raise ApiError(
            422, "unknown_product", "The brand has no such product.", path="$.gtin"
        ) from None
    site = None
    if body.get("site") is not None:
        try:
            site = catalog.find_site(session, brand, body["site"])
        except errors.NotFound:
            raise ApiError(
                422, "unknown_site", "The brand has no such site.", path="$.site"
            ) from None
    try:
        batch = catalog.create_batch(
            session,
            product,
            body["lot"],
            production_date=date_field(body, "production_date"),
            expiry_date=date_field(body, "expiry_date"),
            site=site,
            line=body.get("line"),
            actor=Actor.of_token(token()),
        )
    except errors.Duplicate:
        raise ApiError(409, "duplicate_lot", "The product has a batch with this lot.") from None
    except ValueError as exc:
        raise ApiError(422, "invalid_batch", str(exc)) from None
    return made(session, batch_json(batch))


@bp.post("/brands/<slug>/batches/<path:lot>/issuance")
@rate_limited("api", key=budget_key)
@requires("issue")
def issue(slug: str, lot: str):
    """Queue a job issuing ``count`` codes (the worker runs it): 202 with the job. The same
    ``Idempotency-Key`` sent again finds the first job (200) instead of a second one."""
    body = body_of("IssuanceRequest")
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
        raise ApiError(
            400,
            "bad_idempotency_key",
            f"Idempotency-Key has 1 to {MAX_IDEMPOTENCY_KEY} printable characters.",
        )
    batch = batch_of(lot, body.get("gtin"))
    session = db_session()
    try:
        job = issuance.create_job(
            session,
            batch,
            body["count"],
            with_pin=body.get("with_pin", False),
            request_key=f"api:{key}" if key is not None else None,
            actor=Actor.of_token(token()),
        )
    except issuance.DuplicateRequest as exc:
        return jsonify(job_json(exc.job))
    except issuance.BatchRecalled:
        raise ApiError(409, "batch_recalled", "A recalled batch gets no new codes.") from None
    except catalog.ForeignGtin:
        raise ApiError(
            409, "foreign_gtin", "The GTIN is under another brand's company prefix."
        ) from None
    except keystore.KeyStateError:
        raise ApiError(409, "no_active_key", "The brand has no active signing key.") from None
    return made(session, job_json(job), 202, url_for("integration.job", slug=slug, job_id=job.id))


@bp.get("/brands/<slug>/jobs/<id:job_id>")
@rate_limited("api", key=budget_key)
@requires("read")
def job(slug: str, job_id: int):
    """An issuance job's status and progress."""
    found = db_session().get(IssuanceJob, job_id)
    if found is None or found.brand_id != token().brand_id:
        raise not_found()
    return jsonify(job_json(found))
