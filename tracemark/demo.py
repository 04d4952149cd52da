"""The demo brand: a working setup on the embedded database in one command."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tracemark import catalog, issuance, keystore, migrate
from tracemark.config import Settings
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import Brand, IssuanceJob, JobStatus
from tracemark.printing import batch_urls

DEMO_SLUG = "demo"
DEMO_GTIN = "09506000134352"
DEMO_LOT = "L2401A"
DEMO_CODES = 1_000


@dataclass(frozen=True)
class DemoResult:
    brand_name: str
    lot: str
    codes: int
    sample_url: str


def setup(settings: Settings, base_url: str) -> DemoResult:
    """Create (once) the demo brand, key, product, batch and codes; return a sample URL."""
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    sessions = make_sessionmaker(engine)
    passphrase = settings.require_key_passphrase()
    with sessions.begin() as session:
        brand = session.scalar(select(Brand).where(Brand.slug == DEMO_SLUG))
        if brand is None:
            brand = catalog.create_brand(session, DEMO_SLUG, "Demo Olive Oil Co.")
            product = catalog.create_product(
                session, brand, DEMO_GTIN, "Extra virgin olive oil, 1 l"
            )
            catalog.create_batch(session, product, DEMO_LOT, site="Jaén mill, line 2")
            keystore.create_key(session, brand, passphrase)
        batch = catalog.find_batch(session, brand, DEMO_LOT)
        job = session.scalar(select(IssuanceJob).where(IssuanceJob.batch_id == batch.id))
        batch_id, job_id = batch.id, job.id if job else None
        job_done = job is not None and job.status is JobStatus.DONE
    if job_id is None:
        issuance.issue(sessions, batch_id, DEMO_CODES, passphrase)
    elif not job_done:
        issuance.run_job(sessions, job_id, passphrase)
    with sessions() as session:
        batch = catalog.find_batch(session, catalog.get_brand(session, DEMO_SLUG), DEMO_LOT)
        _serial, sample, _pin = next(batch_urls(session, batch, base_url))
        brand_name = batch.product.brand.name
    engine.dispose()
    return DemoResult(brand_name, DEMO_LOT, DEMO_CODES, sample)
