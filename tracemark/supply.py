"""Operations on suppliers and the material lots a brand receives from them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, normalize_gtin
from tracemark import epc
from tracemark.catalog import Duplicate, insert_unique
from tracemark.models import Brand, LotStatus, MaterialLot, Supplier


def create_supplier(
    session: Session,
    brand: Brand,
    name: str,
    *,
    party_id: str | None = None,
    country: str | None = None,
) -> Supplier:
    """:raises ValueError: bad country code; :raises Duplicate: ``name`` is taken."""
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ValueError("country must be an ISO 3166-1 alpha-2 code")
    supplier = Supplier(
        brand_id=brand.id,
        name=name,
        party_id=party_id,
        country=country.upper() if country else None,
    )
    return insert_unique(session, supplier, "name", f"a supplier named {name!r} exists")


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
) -> MaterialLot:
    """Register a material lot; events name it by its class: the GS1 lot class of
    ``gtin`` and ``lot_number`` when the material has a GTIN, else ``epc_class`` (any
    URI the supplier uses), stored in canonical form.

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
    return insert_unique(session, lot, "epc_class", message)
