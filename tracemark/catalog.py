"""Operations on brands, sites, products and batches.

Every function takes the caller's session and flushes; the caller commits. Each change
writes its own audit entry for ``actor`` (:func:`tracemark.audit.log`), so the admin app,
the integration API, the CLI and rules leave the same record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, normalize_gtin
from tracemark import audit, errors
from tracemark.audit import SYSTEM, Actor
from tracemark.models import Batch, BatchStatus, Brand, BrandPrefix, Product, Site
from tracemark.models.base import utcnow

_T = TypeVar("_T")


class AmbiguousLot(errors.NotFound):
    """Several of the brand's products have a batch with this lot: a GTIN must choose."""


class ForeignGtin(ValueError):
    """The GTIN falls under a GS1 company prefix another brand holds, or outside the
    prefixes the brand holds itself."""


class PrefixProblem(ValueError):
    """A company prefix that cannot be claimed; ``code`` is stable (``bad_prefix``,
    ``prefix_taken``, ``prefix_in_use``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def create_brand(
    session: Session,
    slug: str,
    name: str,
    resolver_base_url: str | None = None,
    *,
    actor: Actor = SYSTEM,
) -> Brand:
    """A new brand; audited as ``brand.create``."""
    brand = Brand(slug=slug, name=name, resolver_base_url=resolver_base_url)
    session.add(brand)
    session.flush()
    audit.log(session, actor, "brand.create", "brand", brand.id, {"slug": slug}, brand_id=brand.id)
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
    actor: Actor = SYSTEM,
) -> Site:
    """A new site of the brand; audited as ``site.create``.

    :raises ValueError: if ``country`` is not an ISO 3166-1 alpha-2 code, or a
    coordinate is out of range; :raises errors.Duplicate: ``name`` is taken in the brand."""
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code")
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValueError("latitude must be within -90 and 90")
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValueError("longitude must be within -180 and 180")
    taken = select(Site.id).where(Site.brand_id == brand.id, Site.name == name)
    if session.scalar(taken) is not None:
        raise errors.Duplicate("name", f"a site named {name!r} exists")
    site = Site(
        brand_id=brand.id,
        name=name,
        region=region,
        country=country.upper() if country else None,
        latitude=latitude,
        longitude=longitude,
    )
    site = errors.insert_unique(session, site, "name", f"a site named {name!r} exists")
    audit.log(session, actor, "site.create", "site", site.id, {"name": name}, brand_id=brand.id)
    return site


def _covers(prefix: str, gtin14: str) -> bool:
    """Whether ``gtin14`` falls under the company prefix (after the indicator digit)."""
    return gtin14[1:].startswith(prefix)


def prefixes(session: Session, brand: Brand) -> list[str]:
    return list(
        session.scalars(
            select(BrandPrefix.prefix)
            .where(BrandPrefix.brand_id == brand.id)
            .order_by(BrandPrefix.prefix)
        )
    )


def prefix_holder(session: Session, gtin14: str) -> int | None:
    """The id of the brand holding the company prefix ``gtin14`` falls under, or None."""
    body = gtin14[1:]
    candidates = [body[:n] for n in range(4, 13)]
    return session.scalar(select(BrandPrefix.brand_id).where(BrandPrefix.prefix.in_(candidates)))


def claim_prefix(
    session: Session, brand: Brand, prefix: str, *, actor: Actor = SYSTEM
) -> BrandPrefix:
    """Record that ``brand`` holds the GS1 company prefix ``prefix`` (4 to 12 digits);
    audited as ``brand.claim_prefix``. A brand creates products (and links) only under
    the prefixes it holds, and no other brand under them.

    :raises PrefixProblem: not 4 to 12 digits (``bad_prefix``); it, a prefix of it or one
        it is a prefix of is held by another brand (``prefix_taken``); another brand
        already has products under it (``prefix_in_use``).
    """
    prefix = prefix.strip()
    if not (4 <= len(prefix) <= 12 and prefix.isascii() and prefix.isdigit()):
        raise PrefixProblem("bad_prefix", "a GS1 company prefix has 4 to 12 digits")
    overlapping = session.scalars(
        select(BrandPrefix).where(
            or_(
                BrandPrefix.prefix.in_([prefix[:n] for n in range(4, len(prefix) + 1)]),
                BrandPrefix.prefix.startswith(prefix),
            )
        )
    ).all()
    if any(held.brand_id != brand.id for held in overlapping):
        raise PrefixProblem("prefix_taken", f"prefix {prefix} is held by another brand")
    if any(held.prefix == prefix for held in overlapping):
        return next(held for held in overlapping if held.prefix == prefix)
    others = select(Product.id).where(
        Product.brand_id != brand.id, Product.gtin.like(f"_{prefix}%")
    )
    if session.scalar(others.limit(1)) is not None:
        raise PrefixProblem("prefix_in_use", f"another brand has products under {prefix}")
    held = BrandPrefix(brand_id=brand.id, prefix=prefix)
    session.add(held)
    session.flush()
    audit.log(
        session,
        actor,
        "brand.claim_prefix",
        "brand",
        brand.id,
        {"prefix": prefix},
        brand_id=brand.id,
    )
    return held


def set_locale(
    session: Session, brand: Brand, locale: str | None, *, actor: Actor = SYSTEM
) -> bool:
    """Set the language the brand writes in (None: English), which its rules' notices
    use; True when that changed it, audited then as ``brand.locale``."""
    if brand.locale == locale:
        return False
    brand.locale = locale
    session.flush()
    audit.log(session, actor, "brand.locale", "brand", brand.id, {"locale": locale or "en"},
              brand_id=brand.id)  # fmt: skip
    return True


def set_risk_policy(
    session: Session,
    brand: Brand,
    overrides: dict[str, Any],
    *,
    reset: bool = False,
    actor: Actor = SYSTEM,
) -> dict[str, Any]:
    """Change the brand's clone-risk thresholds: back to the defaults first when
    ``reset``, then ``overrides`` (already checked by ``scanning.risk.policy_overrides``).
    Returns the stored overrides, audited as ``brand.risk_policy`` when they changed."""
    policy = {} if reset else dict(brand.risk_policy or {})
    policy.update(overrides)
    if policy != (brand.risk_policy or {}):
        brand.risk_policy = policy
        session.flush()
        audit.log(session, actor, "brand.risk_policy", "brand", brand.id, {"policy": policy},
                  brand_id=brand.id)  # fmt: skip
    return policy


def release_prefix(session: Session, brand: Brand, prefix: str, *, actor: Actor = SYSTEM) -> None:
    """Give up a company prefix ``brand`` holds (a mistyped claim, a licence returned);
    audited as ``brand.release_prefix`` by ``actor``.

    :raises PrefixProblem: ``not_held`` when the brand does not hold it; ``prefix_in_use``
        when the brand has products under it (they would fall under nobody's prefix).
    """
    held = session.scalar(
        select(BrandPrefix).where(BrandPrefix.brand_id == brand.id, BrandPrefix.prefix == prefix)
    )
    if held is None:
        raise PrefixProblem("not_held", f"the brand does not hold prefix {prefix}")
    mine = select(Product.id).where(Product.brand_id == brand.id, Product.gtin.like(f"_{prefix}%"))
    if session.scalar(mine.limit(1)) is not None:
        raise PrefixProblem("prefix_in_use", f"the brand has products under {prefix}")
    session.delete(held)
    session.flush()
    audit.log(session, actor, "brand.release_prefix", "brand", brand.id, {"prefix": prefix},
              brand_id=brand.id)  # fmt: skip


def check_gtin_owner(session: Session, brand: Brand, gtin14: str) -> None:
    """:raises ForeignGtin: the GTIN is under no GS1 company prefix the brand holds
    (another brand's, or nobody's): a brand names products, and publishes links and
    codes, only under the prefixes GS1 licensed to it (see :func:`claim_prefix`)."""
    holder = check_not_foreign(session, brand.id, gtin14)
    if holder is None:
        raise ForeignGtin(f"GTIN {gtin14} is under none of the brand's company prefixes")


def check_not_foreign(session: Session, brand_id: int, gtin14: str) -> int | None:
    """The brand holding the GTIN's prefix (None: nobody, as for products registered
    before brands held prefixes, which keep working).

    :raises ForeignGtin: another brand holds it, so this one may not speak for the GTIN.
    """
    holder = prefix_holder(session, gtin14)
    if holder is not None and holder != brand_id:
        raise ForeignGtin(f"GTIN {gtin14} is under another brand's company prefix")
    return holder


def create_product(
    session: Session, brand: Brand, gtin: str, name: str, *, actor: Actor = SYSTEM
) -> Product:
    """A new product of the brand; audited as ``product.create``.

    :raises ValueError: if the GTIN is invalid (length, digits or check digit);
    :raises ForeignGtin: it is not the brand's to use (see :func:`check_gtin_owner`);
    :raises errors.Duplicate: the brand has a product with this GTIN."""
    gtin = normalize_gtin(gtin)
    check_gtin_owner(session, brand, gtin)
    message = f"a product with GTIN {gtin} exists"
    taken = select(Product.id).where(Product.brand_id == brand.id, Product.gtin == gtin)
    if session.scalar(taken) is not None:
        raise errors.Duplicate("gtin", message)
    product = errors.insert_unique(
        session, Product(brand_id=brand.id, gtin=gtin, name=name, texts={}), "gtin", message
    )
    details = {"gtin": gtin, "name": name}
    audit.log(session, actor, "product.create", "product", product.id, details, brand_id=brand.id)
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
    actor: Actor = SYSTEM,
) -> Batch:
    """A new batch of the product; audited as ``batch.create``.

    :raises ValueError: if the lot is not a GS1 AI 10 value, the expiry date is before
    the production date, or the site is of another brand; :raises errors.Duplicate: the product
    has a batch with this lot."""
    if not is_valid_ai_value(lot, MAX_LOT_LENGTH):
        raise ValueError("a lot has 1 to 20 characters of the GS1 character set 82")
    _check_batch_facts(product.brand_id, production_date, expiry_date, site)
    message = f"product {product.gtin} has a batch {lot!r}"
    taken = select(Batch.id).where(Batch.product_id == product.id, Batch.lot == lot)
    if session.scalar(taken) is not None:
        raise errors.Duplicate("lot", message)
    batch = Batch(
        brand_id=product.brand_id,
        product_id=product.id,
        lot=lot,
        production_date=production_date,
        expiry_date=expiry_date,
        site_id=site.id if site else None,
        line=line,
        notice={},
    )
    batch = errors.insert_unique(session, batch, "lot", message)
    details = {"lot": lot, "gtin": product.gtin}
    audit.log(session, actor, "batch.create", "batch", batch.id, details, brand_id=batch.brand_id)
    return batch


def _check_batch_facts(
    brand_id: int, production: dt.date | None, expiry: dt.date | None, site: Site | None
) -> None:
    if production is not None and expiry is not None and expiry < production:
        raise ValueError("the expiry date is before the production date")
    if site is not None and site.brand_id != brand_id:
        raise ValueError("the site belongs to another brand")


def update_product(
    session: Session,
    product: Product,
    name: str,
    texts: dict[str, dict[str, str]],
    *,
    actor: Actor = SYSTEM,
) -> dict[str, Any]:
    """Set the product's name and per-locale texts (``{locale: {"name", "description"}}``;
    empty values are dropped). Returns the changed fields with their new values; audited
    as ``product.update`` when something changed."""
    cleaned = {
        locale: {key: value for key, value in entry.items() if value}
        for locale, entry in texts.items()
    }
    cleaned = {locale: entry for locale, entry in cleaned.items() if entry}
    changed = _assign(session, product, {"name": name, "texts": cleaned})
    if changed:
        audit.log(
            session,
            actor,
            "product.update",
            "product",
            product.id,
            changed,
            brand_id=product.brand_id,
        )
    return changed


def update_batch(
    session: Session,
    batch: Batch,
    *,
    production_date: dt.date | None,
    expiry_date: dt.date | None,
    site: Site | None,
    line: str | None,
    actor: Actor = SYSTEM,
) -> dict[str, Any]:
    """Set the batch's dates, site and line. Returns the changed fields (dates as ISO
    strings); audited as ``batch.update`` when something changed.

    :raises ValueError: expiry before production, or a site of another brand.
    """
    _check_batch_facts(batch.brand_id, production_date, expiry_date, site)
    changed = _assign(
        session,
        batch,
        {
            "production_date": production_date,
            "expiry_date": expiry_date,
            "site_id": site.id if site is not None else None,
            "line": line or None,
        },
    )
    if changed:
        audit.log(
            session, actor, "batch.update", "batch", batch.id, changed, brand_id=batch.brand_id
        )
    return changed


def set_batch_status(
    session: Session,
    batch: Batch,
    status: BatchStatus | str,
    notice: dict[str, str],
    *,
    actor: Actor = SYSTEM,
    context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Release, hold or recall ``batch`` with a notice to consumers per locale (empty
    texts dropped; a released batch keeps no notice). Returns the changed fields; audited
    as ``batch.status`` (new status and notice, plus ``context``: why, such as the recalled
    lot or the rule's event) when something changed.

    A notice is written for one status: when the status changes, a locale's text left
    as it was (:func:`stale_notices`) is dropped with the old status, so no page says
    "recalled" above a notice that still says "held for a check"; that locale's page
    shows the new status's standard text until the brand writes a new notice.

    :raises ValueError: unknown status.
    """
    status = BatchStatus(status)
    cleaned = {locale: text for locale, text in notice.items() if text and text.strip()}
    if status is BatchStatus.RELEASED:
        cleaned = {}
    for locale in stale_notices(batch, status, cleaned):
        del cleaned[locale]
    changed = _assign(session, batch, {"status": status, "notice": cleaned})
    if "status" in changed:
        batch.status_since = utcnow()
        session.flush()
    if changed:
        details = {"status": batch.status.value, "notice": batch.notice, **(context or {})}
        audit.log(
            session, actor, "batch.status", "batch", batch.id, details, brand_id=batch.brand_id
        )
    return changed


def stale_notices(batch: Batch, status: BatchStatus | str, notice: dict[str, str]) -> list[str]:
    """The locales of ``notice`` whose text is the one ``batch`` already has, written for
    its current status, when ``status`` is another: texts that would go stale."""
    if BatchStatus(status) is batch.status:
        return []
    before = batch.notice or {}

    def same(a: str | None, b: str | None) -> bool:
        return a is not None and b is not None and " ".join(a.split()) == " ".join(b.split())

    return sorted(locale for locale, text in notice.items() if same(before.get(locale), text))


def hold_batches(
    session: Session,
    brand: Brand,
    batch_ids: Iterable[int],
    notice: dict[str, str],
    *,
    actor: Actor = SYSTEM,
    context: dict[str, Any] | None = None,
) -> list[Batch]:
    """Put each released batch of ``batch_ids`` in ``brand`` on hold with ``notice``
    (one ``batch.status`` entry each, with ``context``); returns those held, by id.

    Batches on hold already or recalled are left as they are — holding never lowers a
    status — so holding the same batches twice holds and records nothing more. Ids of
    other brands' batches are ignored.
    """
    ids = sorted(set(batch_ids))
    if not ids:
        return []
    query = select(Batch).where(
        Batch.brand_id == brand.id, Batch.id.in_(ids), Batch.status == BatchStatus.RELEASED
    )
    held = []
    for batch in session.scalars(query.order_by(Batch.id)):
        if set_batch_status(
            session, batch, BatchStatus.ON_HOLD, notice, actor=actor, context=context
        ):
            held.append(batch)
    return held


def _assign(session: Session, row: object, values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed[key] = value.isoformat() if isinstance(value, dt.date) else value
    session.flush()
    return changed


def sites(session: Session, brand: Brand) -> list[Site]:
    """The brand's sites by name."""
    return list(session.scalars(select(Site).where(Site.brand_id == brand.id).order_by(Site.name)))


def products(session: Session, brand: Brand) -> list[Product]:
    """The brand's products by name."""
    query = select(Product).where(Product.brand_id == brand.id).order_by(Product.name, Product.id)
    return list(session.scalars(query))


def batches(session: Session, brand: Brand) -> list[Batch]:
    """The brand's batches, newest first, with product and site loaded."""
    query = (
        select(Batch)
        .where(Batch.brand_id == brand.id)
        .options(selectinload(Batch.product), selectinload(Batch.site))
        .order_by(Batch.created_at.desc(), Batch.id.desc())
    )
    return list(session.scalars(query))


def get_site(session: Session, brand: Brand, site_id: int) -> Site:
    """:raises errors.NotFound: no such site, or one of another brand."""
    return errors.get_of_brand(session, Site, brand, site_id)


def get_product(session: Session, brand: Brand, product_id: int) -> Product:
    """:raises errors.NotFound: no such product, or one of another brand."""
    return errors.get_of_brand(session, Product, brand, product_id)


def get_batch(session: Session, brand: Brand, batch_id: int) -> Batch:
    """:raises errors.NotFound: no such batch, or one of another brand."""
    return errors.get_of_brand(session, Batch, brand, batch_id)


def get_brand(session: Session, slug: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.slug == slug))
    if brand is None:
        raise errors.NotFound(f"no brand {slug!r}")
    return brand


def find_batch(session: Session, brand: Brand, lot: str, gtin: str | None = None) -> Batch:
    """The brand's batch with lot ``lot`` (of product ``gtin`` when lots repeat).

    :raises errors.NotFound: none; :raises AmbiguousLot: several, and no GTIN to choose.
    """
    query = select(Batch).join(Product).where(Batch.brand_id == brand.id, Batch.lot == lot)
    if gtin is not None:
        query = query.where(Product.gtin == normalize_gtin(gtin))
    batches = session.scalars(query).all()
    if len(batches) > 1:
        raise AmbiguousLot(f"several batches {lot!r}: give the GTIN")
    if not batches:
        raise errors.NotFound(f"no batch {lot!r}")
    return batches[0]


def find_site(session: Session, brand: Brand, name: str) -> Site:
    """The brand's site named ``name`` or whose EPCIS location id is ``name``.

    :raises errors.NotFound: none.
    """
    site = session.scalar(
        select(Site)
        .where(Site.brand_id == brand.id, or_(Site.name == name, Site.location_id == name))
        .order_by(Site.id)
        .limit(1)
    )
    if site is None:
        raise errors.NotFound(f"no site {name!r} in brand {brand.slug}")
    return site


def find_product(session: Session, brand: Brand, gtin: str) -> Product:
    """:raises ValueError: invalid GTIN; :raises errors.NotFound: no such product in ``brand``."""
    product = session.scalar(
        select(Product).where(Product.brand_id == brand.id, Product.gtin == normalize_gtin(gtin))
    )
    if product is None:
        raise errors.NotFound(f"no product {gtin} in brand {brand.slug}")
    return product
