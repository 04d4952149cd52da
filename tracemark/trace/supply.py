"""Operations on suppliers and the material lots a brand receives from them; each change
writes its own audit entry for the actor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, normalize_gtin
from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.epcis import identifiers as epc
from tracemark.errors import Duplicate, get_of_brand, insert_unique
from tracemark.models import Brand, LotStatus, MaterialLot, Supplier


def create_supplier(
    session: Session,
    brand: Brand,
    name: str,
    *,
    party_id: str | None = None,
    country: str | None = None,
    actor: Actor = SYSTEM,
) -> Supplier:
    """A new supplier of the brand; audited as ``supplier.create``.

    :raises ValueError: bad country code; :raises Duplicate: ``name`` is taken."""
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code")
    supplier = Supplier(
        brand_id=brand.id,
        name=name,
        party_id=party_id,
        country=country.upper() if country else None,
    )
    supplier = insert_unique(session, supplier, "name", f"a supplier named {name!r} exists")
    details = {"name": supplier.name, "country": supplier.country}
    audit.log(
        session, actor, "supplier.create", "supplier", supplier.id, details, brand_id=brand.id
    )
    return supplier


def receive_lot(
    session: Session,
    supplier: Supplier,
    material: str,
    lot_number: str,
    *,
    gtin: str | None = None,
    epc_class: str | None = None,
    received_on: dt.date | None = None,
    status: LotStatus | str = LotStatus.RELEASED,
    actor: Actor = SYSTEM,
) -> MaterialLot:
    """Register a material lot (audited as ``lot.receive``); events name it by its class:
    the GS1 lot class of ``gtin`` and ``lot_number`` when the material has a GTIN, else
    ``epc_class`` (any URI the supplier uses), stored in canonical form.

    :raises ValueError: bad GTIN or lot, or neither a GTIN nor a class;
    :raises Duplicate: the brand has a lot with this class (field ``epc_class``).
    """
    if not is_valid_ai_value(lot_number, MAX_LOT_LENGTH):
        raise ValueError("a lot has 1 to 20 characters of the GS1 character set 82")
    if gtin is not None:
        gtin = normalize_gtin(gtin)
        identifier = epc.lot_class(gtin, lot_number)
    elif epc_class:
        identifier = epc.canonical(epc_class).uri
    else:
        raise ValueError("a material lot needs a GTIN or a class identifier")
    if len(identifier) > 300:
        raise ValueError("the class identifier is too long")
    message = f"a material lot {identifier} exists"
    taken = select(MaterialLot.id).where(
        MaterialLot.brand_id == supplier.brand_id, MaterialLot.epc_class == identifier
    )
    if session.scalar(taken) is not None:
        raise Duplicate("epc_class", message)
    lot = MaterialLot(
        brand_id=supplier.brand_id,
        supplier_id=supplier.id,
        material=material,
        gtin=gtin,
        lot_number=lot_number,
        epc_class=identifier,
        received_on=received_on,
        status=LotStatus(status),
    )
    lot = insert_unique(session, lot, "epc_class", message)
    details = {"lot": lot.lot_number, "class": lot.epc_class, "supplier": supplier.name}
    audit.log(session, actor, "lot.receive", "material_lot", lot.id, details, brand_id=lot.brand_id)
    return lot


#: The most lots one list shows (filters narrow it).
MAX_LOTS = 500


def suppliers(session: Session, brand: Brand) -> list[Supplier]:
    """The brand's suppliers by name."""
    query = select(Supplier).where(Supplier.brand_id == brand.id).order_by(Supplier.name)
    return list(session.scalars(query))


def get_supplier(session: Session, brand: Brand, supplier_id: int) -> Supplier:
    """:raises NotFound: no such supplier, or one of another brand."""
    return get_of_brand(session, Supplier, brand, supplier_id)


def get_lot(session: Session, brand: Brand, lot_id: int) -> MaterialLot:
    """:raises NotFound: no such material lot, or one of another brand."""
    return get_of_brand(session, MaterialLot, brand, lot_id)


def material_lots(
    session: Session,
    brand: Brand,
    *,
    supplier_id: int | None = None,
    status: LotStatus | str | None = None,
    text: str | None = None,
    limit: int = MAX_LOTS,
) -> list[MaterialLot]:
    """The brand's material lots, newest first, narrowed by supplier, status and a text
    found in the lot number or the material (case-insensitive)."""
    query = select(MaterialLot).where(MaterialLot.brand_id == brand.id)
    if supplier_id is not None:
        query = query.where(MaterialLot.supplier_id == supplier_id)
    if status:
        query = query.where(MaterialLot.status == LotStatus(status))
    if text:
        pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        query = query.where(
            func.lower(MaterialLot.lot_number).like(pattern, escape="\\")
            | func.lower(MaterialLot.material).like(pattern, escape="\\")
        )
    query = query.options(selectinload(MaterialLot.supplier))
    query = query.order_by(MaterialLot.id.desc()).limit(limit)
    return list(session.scalars(query))


def set_lot_status(
    session: Session,
    lot: MaterialLot,
    status: LotStatus | str,
    *,
    actor: Actor = SYSTEM,
    context: dict[str, Any] | None = None,
) -> dict[str, str]:
    """Lock (on hold, rejected, recalled) or release a lot. Returns the changed field, empty
    when the lot already had ``status`` (a repeated request changes nothing and records
    nothing); audited as ``lot.status`` with the lot number and ``context`` (why).

    :raises ValueError: unknown status.
    """
    status = LotStatus(status)
    if lot.status == status:
        return {}
    lot.status = status
    session.flush()
    details = {"status": status.value, "lot": lot.lot_number, **(context or {})}
    audit.log(session, actor, "lot.status", "material_lot", lot.id, details, brand_id=lot.brand_id)
    return {"status": status.value}
