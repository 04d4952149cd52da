"""Which brand a code names, whether or not it is genuine.

A forged code cannot be tied to a brand by its signature, but it usually *names* one: by
the key id it carries (a key of that brand, perhaps revoked), else by its GTIN (a product
of one brand only) or the GS1 company prefix the GTIN falls under. Forged scans and
forgery reports are counted for that brand, whose name is being abused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import catalog
from tracemark.models import Product, SigningKey


def claimed_brand(session: Session, gtin: str | None, kid: str | None) -> int | None:
    """The brand a code names: by its key id, else its product's GTIN, else the company
    prefix its GTIN falls under; None when it names none we know."""
    if kid:
        brand_id = session.scalar(select(SigningKey.brand_id).where(SigningKey.kid == kid))
        if brand_id is not None:
            return brand_id
    if gtin and len(gtin) == 14 and gtin.isdigit():
        holders = session.scalars(
            select(Product.brand_id).where(Product.gtin == gtin).distinct().limit(2)
        ).all()
        if len(holders) == 1:  # a GTIN two brands have (a data error) names neither
            return holders[0]
        return catalog.prefix_holder(session, gtin)
    return None
