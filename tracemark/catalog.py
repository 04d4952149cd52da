"""Operations on brands, products and batches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, normalize_gtin
from tracemark.models import Batch, Brand, Product, Site


class NotFound(LookupError):
    """The object does not exist, or belongs to another brand."""


def create_brand(
    session: Session, slug: str, name: str, resolver_base_url: str | None = None
) -> Brand:
    brand = Brand(slug=slug, name=name, resolver_base_url=resolver_base_url)
    session.add(brand)
    session.flush()
    return brand


def create_site(
    session: Session,
    brand: Brand,
    name: str,
    *,
    region: str | None = None,
    country: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Site:
    """:raises ValueError: if ``country`` is not an ISO 3166-1 alpha-2 code."""
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code")
    site = Site(
        brand_id=brand.id,
        name=name,
        region=region,
        country=country.upper() if country else None,
        latitude=latitude,
        longitude=longitude,
    )
    session.add(site)
    session.flush()
    return site


def create_product(session: Session, brand: Brand, gtin: str, name: str) -> Product:
    """:raises ValueError: if the GTIN is invalid (length, digits or check digit)."""
    product = Product(brand_id=brand.id, gtin=normalize_gtin(gtin), name=name)
    session.add(product)
    session.flush()
    return product


def create_batch(
    session: Session,
    product: Product,
    lot: str,
    *,
    production_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
    site: Site | None = None,
    line: str | None = None,
) -> Batch:
    """:raises ValueError: if the lot is not a GS1 AI 10 value."""
    if not is_valid_ai_value(lot, MAX_LOT_LENGTH):
        raise ValueError("a lot has 1 to 20 characters of the GS1 character set 82")
    batch = Batch(
        brand_id=product.brand_id,
        product_id=product.id,
        lot=lot,
        production_date=production_date,
        expiry_date=expiry_date,
        site_id=site.id if site else None,
        line=line,
    )
    session.add(batch)
    session.flush()
    return batch


def get_brand(session: Session, slug: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        raise NotFound(f"no brand {slug!r}")
    return brand


def find_batch(session: Session, brand: Brand, lot: str, gtin: str | None = None) -> Batch:
    """The brand's batch with lot ``lot`` (of product ``gtin`` when lots repeat).

    :raises NotFound: none, or several without a GTIN to choose between them.
    """
    query = select(Batch).join(Product).where(Batch.brand_id == brand.id, Batch.lot == lot)
    if gtin is not None:
        query = query.where(Product.gtin == normalize_gtin(gtin))
    batches = session.scalars(query).all()
    if len(batches) != 1:
        raise NotFound(
            f"no batch {lot!r}" if not batches else f"several batches {lot!r}: give the GTIN"
        )
    return batches[0]


def find_product(session: Session, brand: Brand, gtin: str) -> Product:
    """:raises ValueError: invalid GTIN; :raises NotFound: no such product in ``brand``."""
    product = session.scalar(
        select(Product).where(Product.brand_id == brand.id, Product.gtin == normalize_gtin(gtin))
    )
    if product is None:
        raise NotFound(f"no product {gtin} in brand {brand.slug}")
    return product
