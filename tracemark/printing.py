"""From stored units to label URLs, streamed in issue order for any count."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing import UnitCode, build_url
from tracemark.models import Batch, IssuanceJob, JobStatus, SigningKey, Unit

#: Rows fetched per round trip while streaming.
FETCH_SIZE = 5_000


def base_url_for(batch: Batch, default: str) -> str:
    return batch.product.brand.resolver_base_url or default


def batch_codes(session: Session, batch: Batch, *, only_done: bool = True) -> Iterator[UnitCode]:
    """Every code issued for ``batch`` (by finished jobs unless ``only_done`` is false)."""
    query = (
        select(Unit.serial, Unit.signature, SigningKey.kid)
        .join(IssuanceJob, Unit.job_id == IssuanceJob.id)
        .join(SigningKey, IssuanceJob.signing_key_id == SigningKey.id)
        .where(IssuanceJob.batch_id == batch.id)
        .order_by(Unit.job_id, Unit.seq)
        .execution_options(yield_per=FETCH_SIZE)
    )
    if only_done:
        query = query.where(IssuanceJob.status == JobStatus.DONE)
    gtin, lot = batch.product.gtin, batch.lot
    for serial, signature, kid in session.execute(query):
        yield UnitCode(gtin=gtin, lot=lot, serial=serial, kid=kid, signature=bytes(signature))


def batch_urls(session: Session, batch: Batch, default_base: str) -> Iterator[tuple[str, str]]:
    """``(serial, url)`` for each code of ``batch``, in issue order."""
    base = base_url_for(batch, default_base)
    for code in batch_codes(session, batch):
        yield code.serial, build_url(base, code)
