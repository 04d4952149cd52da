"""From stored units to label URLs, streamed in issue order for any count."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import UnitCode, build_url
from tracemark.codes.pins import pin_for
from tracemark.models import Batch, IssuanceJob, JobStatus, SigningKey, Unit

#: Rows fetched per round trip while streaming.
FETCH_SIZE = 5_000


def base_url_for(batch: Batch, default: str) -> str:
    return batch.product.brand.resolver_base_url or default


def batch_codes(
    session: Session, batch: Batch, *, only_done: bool = True, job_id: int | None = None
) -> Iterator[tuple[UnitCode, bool]]:
    """Every code issued for ``batch`` (by finished jobs unless ``only_done`` is false;
    by job ``job_id`` only when given), with whether its job issued PINs."""
    query = (
        select(Unit.serial, Unit.signature, SigningKey.kid, IssuanceJob.with_pin)
        .join(IssuanceJob, Unit.job_id == IssuanceJob.id)
        .join(SigningKey, IssuanceJob.signing_key_id == SigningKey.id)
        .where(IssuanceJob.batch_id == batch.id)
        .order_by(Unit.job_id, Unit.seq)
        .execution_options(yield_per=FETCH_SIZE)
    )
    if only_done:
        query = query.where(IssuanceJob.status == JobStatus.DONE)
    if job_id is not None:
        query = query.where(IssuanceJob.id == job_id)
    gtin, lot = batch.product.gtin, batch.lot
    for serial, signature, kid, with_pin in session.execute(query):
        code = UnitCode(gtin=gtin, lot=lot, serial=serial, kid=kid, signature=bytes(signature))
        yield code, with_pin


def batch_urls(
    session: Session,
    batch: Batch,
    default_base: str,
    pin_key: bytes | None = None,
    *,
    job_id: int | None = None,
) -> Iterator[tuple[str, str, str | None]]:
    """``(serial, url, pin)`` for each code of ``batch`` (of job ``job_id`` only when
    given), in issue order.

    ``pin`` is derived when ``pin_key`` is given and the unit's job issued PINs.
    """
    base = base_url_for(batch, default_base)
    for code, with_pin in batch_codes(session, batch, job_id=job_id):
        pin = pin_for(pin_key, code.serial) if pin_key is not None and with_pin else None
        yield code.serial, build_url(base, code), pin
