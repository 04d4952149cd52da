"""A batch's provenance: what regulators read, and the signed statement that carries it.

The page a regulator reads and the statement a brand signs come from the same
:class:`BatchProvenance`, so the two can never say different things. Statements are signed
with the brand's *statement* key (created on first need), decrypted under the statement
passphrase: the keys that sign unit codes are never touched here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from signing import KeyPurpose
from signing.gs1 import normalize_gtin
from signing.statements import build_statement, sign_statement
from tracemark import audit
from tracemark.codes import keystore
from tracemark.models import Batch, BatchStatus, Brand, Document, Product, PublishState
from tracemark.models.base import as_utc, utcnow
from tracemark.trace import events as trace

#: Journey events carried per batch; a longer journey is cut (and says so).
MAX_EVENTS = 2000
#: Search results shown at most.
MAX_RESULTS = 100


@dataclass(frozen=True)
class Origin:
    site: str
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Report:
    id: int
    title: str
    issuer: str | None
    issued_on: dt.date | None
    filename: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Step:
    time: dt.datetime
    timezone: str
    event_type: str
    biz_step: str
    disposition: str | None
    place: str | None
    country: str | None


@dataclass(frozen=True)
class BatchProvenance:
    batch_id: int
    gtin: str
    product_name: str
    product_names: dict[str, str]
    lot: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    line: str | None
    status: BatchStatus
    notice: dict[str, str]
    origin: Origin | None
    documents: list[Report]
    journey: list[Step]
    journey_truncated: bool

    def facts(self) -> dict[str, Any]:
        """The statement's facts as JSON values (dates ISO 8601, times UTC with ``Z``)."""
        return {
            "product": {
                "gtin": self.gtin,
                "name": self.product_name,
                "names": self.product_names,
            },
            "batch": {
                "lot": self.lot,
                "production_date": _iso(self.production_date),
                "expiry_date": _iso(self.expiry_date),
                "line": self.line,
                "status": self.status.value,
                "notice": self.notice,
            },
            "origin": vars(self.origin) if self.origin else None,
            "documents": [
                {
                    "title": report.title,
                    "issuer": report.issuer,
                    "issued_on": _iso(report.issued_on),
                    "filename": report.filename,
                    "size": report.size,
                    "sha256": report.sha256,
                }
                for report in self.documents
            ],
            "journey": [
                {
                    "time": _utc(step.time),
                    "timezone": step.timezone,
                    "event_type": step.event_type,
                    "biz_step": step.biz_step,
                    "disposition": step.disposition,
                    "place": step.place,
                    "country": step.country,
                }
                for step in self.journey
            ],
            "journey_truncated": self.journey_truncated,
        }


@dataclass(frozen=True)
class IssuedStatement:
    text: str
    statement_id: str
    kid: str
    key_id: int
    key_created: bool


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _utc(value: dt.datetime) -> str:
    return as_utc(value).astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def batch_provenance(session: Session, batch: Batch) -> BatchProvenance:
    """Everything known about ``batch``: published reports, the journey in time order."""
    product, site = batch.product, batch.site
    origin = (
        Origin(site.name, site.region, site.country, site.latitude, site.longitude)
        if site is not None
        else None
    )
    documents = [
        Report(doc.id, doc.title, doc.issuer, doc.issued_on, doc.filename, doc.size, doc.sha256)
        for doc in session.scalars(
            select(Document)
            .where(Document.batch_id == batch.id, Document.state == PublishState.PUBLISHED)
            .order_by(Document.issued_on, Document.id)
        )
    ]
    # the events the portal's journey shows: recorded for the batch, or naming its class,
    # its units or the cases they were packed into
    events = trace.events_of_batch(session, batch, limit=MAX_EVENTS + 1)
    sites = trace.sites_of(session, events)
    journey = []
    for event in events[:MAX_EVENTS]:
        site = sites.get(event.site_id)
        journey.append(
            Step(
                as_utc(event.event_time),
                event.event_timezone,
                event.event_type,
                event.biz_step,
                event.disposition,
                site.name if site else event.place,
                event.country or (site.country if site else None),
            )
        )
    names = {
        locale: entry["name"]
        for locale, entry in sorted((product.texts or {}).items())
        if isinstance(entry, dict) and entry.get("name")
    }
    return BatchProvenance(
        batch_id=batch.id,
        gtin=product.gtin,
        product_name=product.name,
        product_names=names,
        lot=batch.lot,
        production_date=batch.production_date,
        expiry_date=batch.expiry_date,
        line=batch.line,
        status=batch.status,
        notice=dict(sorted((batch.notice or {}).items())),
        origin=origin,
        documents=documents,
        journey=journey,
        journey_truncated=len(events) > MAX_EVENTS,
    )


def product_batches(session: Session, product: Product) -> list[Batch]:
    """The product's batches, newest production first (undated last)."""
    query = (
        select(Batch)
        .where(Batch.product_id == product.id)
        .options(selectinload(Batch.site))
        .order_by(Batch.production_date.desc().nulls_last(), Batch.id.desc())
    )
    return list(session.scalars(query))


def search(session: Session, brands: list[Brand], text: str) -> list[Batch]:
    """Batches of ``brands`` whose lot is ``text`` or whose product's GTIN is ``text``
    (any GTIN length); nothing of any other brand, whatever ``text`` is."""
    text = text.strip()
    if not brands or not text or len(text) > 64 or not text.isprintable():
        return []  # no lot or GTIN is that (and PostgreSQL refuses NUL in a string)
    matches = [Batch.lot == text]
    with contextlib.suppress(ValueError):  # not a GTIN: a lot only
        matches.append(Product.gtin == normalize_gtin(text))
    query = (
        select(Batch)
        .join(Product, Batch.product_id == Product.id)
        .join(Brand, Batch.brand_id == Brand.id)
        .where(Batch.brand_id.in_([brand.id for brand in brands]), or_(*matches))
        .options(selectinload(Batch.product).selectinload(Product.brand))
        .order_by(Brand.name, Product.name, Batch.lot, Batch.id)
        .limit(MAX_RESULTS)
    )
    return list(session.scalars(query))


def resolver_links(base: str, gtin: str, lot: str) -> dict[str, str]:
    """Where the GS1 Digital Link resolver at ``base`` lists every link of the product and
    of the batch (RFC 9264 linksets): what a reader of the statement follows for the
    certificates, recall status and traceability data it does not carry itself."""
    base = base.rstrip("/")
    return {
        "product_linkset": f"{base}/01/{gtin}?linkType=linkset",
        "batch_linkset": f"{base}/01/{gtin}/10/{quote(lot, safe='')}?linkType=linkset",
    }


def issue_statement(
    session: Session,
    batch: Batch,
    passphrase: str,
    *,
    now: dt.datetime | None = None,
    resolver_base: str | None = None,
    actor: audit.Actor = audit.SYSTEM,
) -> IssuedStatement:
    """Sign a provenance statement for ``batch`` with the brand's statement key; audited
    as ``statement.issue`` (a statement is a signed claim the brand answers for).

    The statement names the resolver's linksets of the product and the batch
    (``resolver``), at the brand's label host, else at ``resolver_base`` (the server
    the request came to); neither known, it names none.

    The key is created (encrypted under ``passphrase``, audited as ``key.create``) when the
    brand has none; the caller commits.

    :raises signing.keys.KeyLoadError: ``passphrase`` does not decrypt the stored key.
    """
    brand = batch.product.brand
    key, created = keystore.statement_key(session, brand, passphrase, actor=actor)
    private_key = keystore.private_key_of(key, passphrase, KeyPurpose.STATEMENT)
    facts = batch_provenance(session, batch).facts()
    base = brand.resolver_base_url or resolver_base
    if base:
        facts["resolver"] = resolver_links(base, batch.product.gtin, batch.lot)
    statement = build_statement(
        facts,
        brand=brand.slug,
        brand_name=brand.name,
        issued_at=now or utcnow(),
    )
    details = {"statement_id": statement["id"], "kid": key.kid, "lot": batch.lot}
    audit.log(session, actor, "statement.issue", "batch", batch.id, details,
              brand_id=batch.brand_id)  # fmt: skip
    return IssuedStatement(
        sign_statement(statement, private_key, key.kid), statement["id"], key.kid, key.id, created
    )
