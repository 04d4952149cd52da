"""One search box for traces: what a batch lot number, unit serial, label URL (GS1 Digital
Link), GS1 element string, material lot number or EPC class URI names in a brand.

A query can name several things (a lot number used by two products, a text that is both
a batch lot and a supplier's lot number): every match is returned, and the page lets the
person choose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark.epcis import identifiers as epcs
from tracemark.models import Batch, Brand, MaterialLot, Product, Supplier, Unit

#: Longest query looked up (the longest identifier stored is 300 characters).
MAX_QUERY = 300
#: Most matches of each kind returned.
MAX_MATCHES = 20
#: GS1 AIs a label's element string may carry: fixed lengths, or None for variable ones.
_AI_LENGTHS = {"01": 14, "11": 6, "13": 6, "15": 6, "17": 6, "10": None, "21": None}
_GROUP_SEPARATOR = "\x1d"
_BRACKETED = re.compile(r"\((\d{2})\)([^(]*)")


class BadQuery(ValueError):
    """The query cannot be looked up (empty, too long, or holding control characters)."""


@dataclass(frozen=True)
class Match:
    #: ``unit`` (backward trace of a unit), ``batch`` or ``lot`` (a material lot).
    kind: str
    #: The batch's id (for a unit, its batch's) or the material lot's id.
    id: int
    #: The lot number, or the unit's serial.
    label: str
    #: The product (with GTIN) or the material and supplier.
    detail: str
    serial: str | None = None


def clean(query: str) -> str:
    """The query trimmed; :raises BadQuery: empty, longer than :data:`MAX_QUERY`, or with
    control characters other than the element string's group separator."""
    query = query.strip()
    if not query:
        raise BadQuery("empty")
    if len(query) > MAX_QUERY:
        raise BadQuery("too long")
    if any((ord(c) < 32 and c != _GROUP_SEPARATOR) or ord(c) == 127 for c in query):
        raise BadQuery("control character")
    return query


def element_string(query: str) -> str | None:
    """A GS1 element string (``(01)…(10)…(21)…``, or unbracketed with group separators)
    as a Digital Link URI on the canonical host; None when ``query`` is not one."""
    fields: dict[str, str] = {}
    if query.startswith("("):
        pairs = _BRACKETED.findall(query)
        if "".join(f"({ai}){value}" for ai, value in pairs) != query:
            return None
        fields = dict(pairs)
    elif query.startswith("01") and len(query) >= 16 and query[2:16].isdigit():
        rest = query.removeprefix("]C1").removeprefix("]d2").removeprefix("]Q3")
        while rest:
            ai = rest[:2]
            if ai not in _AI_LENGTHS:
                return None
            length = _AI_LENGTHS[ai]
            if length is None:
                value, _, rest = rest[2:].partition(_GROUP_SEPARATOR)
            else:
                value, rest = rest[2 : 2 + length], rest[2 + length :].lstrip(_GROUP_SEPARATOR)
            fields[ai] = value
    if "01" not in fields or not ("10" in fields or "21" in fields):
        return None
    path = f"/01/{fields['01']}"
    for ai in ("10", "21"):
        if fields.get(ai):
            path += f"/{ai}/{fields[ai]}"
    return epcs.CANONICAL_HOST + path


def find(session: Session, brand: Brand, query: str) -> list[Match]:
    """Everything in ``brand`` that ``query`` names: units, batches, material lots.

    :raises BadQuery: see :func:`clean`.
    """
    query = clean(query)
    identifier = element_string(query) or query
    parsed = epcs.canonical(identifier)
    if parsed.gtin is not None:  # a GS1 identifier: a unit or a lot class of one GTIN
        if parsed.serial is not None:
            return _units(session, brand, [parsed.serial], gtin=parsed.gtin)
        return _batches(session, brand, parsed.lot, gtin=parsed.gtin) + _lots_by_class(
            session, brand, parsed.uri
        )
    if ":" in query and " " not in query:  # another URI: a class a supplier uses
        found = _lots_by_class(session, brand, parsed.uri)
        if found:
            return found
    return (
        _batches(session, brand, query)
        + _units(session, brand, list(dict.fromkeys([query, query.upper()])))
        + _lots_by_number(session, brand, query)
    )


def _batches(session: Session, brand: Brand, lot: str, *, gtin: str | None = None) -> list[Match]:
    query = (
        select(Batch.id, Batch.lot, Product.name, Product.gtin)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.brand_id == brand.id, Batch.lot == lot)
    )
    if gtin is not None:
        query = query.where(Product.gtin == gtin)
    rows = session.execute(query.order_by(Batch.id).limit(MAX_MATCHES))
    return [Match("batch", id_, lot_, f"{name} · {gtin_}") for id_, lot_, name, gtin_ in rows]


def _units(
    session: Session, brand: Brand, serials: list[str], *, gtin: str | None = None
) -> list[Match]:
    query = (
        select(Unit.serial, Batch.id, Batch.lot, Product.name, Product.gtin)
        .join(Batch, Batch.id == Unit.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(Unit.brand_id == brand.id, Unit.serial.in_(serials))
    )
    if gtin is not None:
        query = query.where(Product.gtin == gtin)
    rows = session.execute(query.limit(MAX_MATCHES))
    return [
        Match("unit", batch_id, serial, f"{name} · {gtin_} · {lot}", serial=serial)
        for serial, batch_id, lot, name, gtin_ in rows
    ]


def _lot_matches(session: Session, condition) -> list[Match]:
    rows = session.execute(
        select(MaterialLot.id, MaterialLot.lot_number, MaterialLot.material, Supplier.name)
        .join(Supplier, Supplier.id == MaterialLot.supplier_id)
        .where(condition)
        .order_by(MaterialLot.id)
        .limit(MAX_MATCHES)
    )
    return [
        Match("lot", id_, number, f"{material} · {supplier}")
        for id_, number, material, supplier in rows
    ]


def _lots_by_class(session: Session, brand: Brand, uri: str) -> list[Match]:
    return _lot_matches(
        session, (MaterialLot.brand_id == brand.id) & (MaterialLot.epc_class == uri)
    )


def _lots_by_number(session: Session, brand: Brand, number: str) -> list[Match]:
    return _lot_matches(
        session, (MaterialLot.brand_id == brand.id) & (MaterialLot.lot_number == number)
    )
