"""Links a brand gets without typing them, from what Tracemark already holds of a batch:
its published, hash-checked test reports (``gs1:certificationInfo``), its hold or
recall state (``gs1:recallStatus``) and its EPCIS 2.0 document (``gs1:traceability``,
served by the integration API to a token of the brand); and, for a signed unit URL, the
verdict page (``gs1:verificationService``).

Targets are the portal's own addresses under the resolver's origin; the paths are
defined here, and the portal serves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark.i18n import N_, translate
from tracemark.models import Audience, Batch, BatchStatus, Document, Product, PublishState
from tracemark.models.base import as_utc
from tracemark.resolver.identifiers import DigitalLink, qualifier_path
from tracemark.resolver.resolve import Link, owning_product


def recall_status_path(gtin: str, lot: str) -> str:
    """Where the recall status document of a batch is served."""
    return f"/recall-status/01/{gtin}/10/{quote(lot, safe='')}"


def traceability_path(slug: str, gtin: str, lot: str) -> str:
    """Where the integration API serves the batch's EPCIS document: a bearer token of the
    brand with the ``read`` scope opens it, anyone else gets the API's 401 or 403."""
    return f"/api/v1/brands/{quote(slug, safe='')}/batches/{quote(lot, safe='')}/events?gtin={gtin}"


def statement_path(slug: str, batch_id: int) -> str:
    """Where the admin app's regulator view signs and serves the batch's provenance
    statement to the brand's members (regulators among them); anyone else gets a login
    page or a 404."""
    return f"/admin/brands/{quote(slug, safe='')}/provenance/batches/{batch_id}/statement.json"


def document_path(document_id: int) -> str:
    return f"/documents/{document_id}/report-{document_id}.pdf"


def _title(languages: Sequence[str], message: str) -> str:
    return translate(languages[0] if languages else None, message)


def verification_link(identifier: DigitalLink, base: str, languages: Sequence[str]) -> list[Link]:
    """The verdict page, the default of a unit URL carrying its signature (``S``)."""
    signature = identifier.param("S")
    if identifier.serial is None or signature is None:
        return []
    return [
        Link(
            link_type="gs1:verificationService",
            href=f"{base}{identifier.path}?S={signature}",
            title=_title(languages, N_("Verify this product")),
            media_type="text/html",
            is_default=True,
            level=identifier.levels[0],
            builtin=True,
        )
    ]


def batch_links(
    session: Session,
    product: Product,
    identifier: DigitalLink,
    base: str,
    languages: Sequence[str],
) -> list[Link]:
    """The batch's recall status, its EPCIS document, its signed provenance statement
    (for regulators, ``Audience.REGULATOR``) and its published test reports, at the lot's
    level; none when the URI names no lot or the product has no batch of that lot."""
    lot = identifier.lot
    if lot is None:
        return []
    batch = session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot == lot))
    if batch is None:
        return []
    upto = [ai for ai, _value in identifier.qualifiers].index("10") + 1
    level = qualifier_path(identifier.qualifiers[:upto])
    links = [
        Link(
            link_type="gs1:recallStatus",
            href=base + recall_status_path(product.gtin, lot),
            title=_title(languages, N_("Recall status")),
            media_type="application/json",
            level=level,
            builtin=True,
        ),
        Link(
            link_type="gs1:traceability",
            href=base + traceability_path(product.brand.slug, product.gtin, lot),
            title=_title(languages, N_("Traceability events (EPCIS)")),
            media_type="application/json",
            level=level,
            builtin=True,
        ),
        Link(
            link_type="gs1:traceability",
            href=base + statement_path(product.brand.slug, batch.id),
            title=_title(languages, N_("Signed provenance statement")),
            media_type="application/json",
            level=level,
            audience=Audience.REGULATOR,
            builtin=True,
        ),
    ]
    documents = session.scalars(
        select(Document)
        .where(Document.batch_id == batch.id, Document.state == PublishState.PUBLISHED)
        .order_by(Document.issued_on, Document.id)
    )
    links.extend(
        Link(
            link_type="gs1:certificationInfo",
            href=base + document_path(document.id),
            title=document.title,
            media_type="application/pdf",
            level=level,
            builtin=True,
        )
        for document in documents
    )
    return links


def recall_status(session: Session, gtin: str, lot: str) -> dict[str, Any] | None:
    """The recall status document of a batch (status, since when, the brand's notice by
    language), or None when the GTIN's product has no batch of that lot. The product is
    the one the resolver answers for (:func:`owning_product`), so a brand that registered
    another's GTIN before prefixes existed cannot speak for its batches."""
    product = owning_product(session, gtin)
    if product is None:
        return None
    batch = session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot == lot))
    if batch is None:
        return None
    since = as_utc(batch.status_since)
    return {
        "gtin": gtin,
        "lot": lot,
        "status": batch.status.value,
        "recalled": batch.status is BatchStatus.RECALLED,
        "since": since.isoformat() if since is not None else None,
        "notice": dict(batch.notice or {}) if batch.status is not BatchStatus.RELEASED else {},
    }
