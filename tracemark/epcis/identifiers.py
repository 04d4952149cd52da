"""GS1 identifiers as EPCIS names them, in one canonical form.

A trade item instance or lot class may arrive as an EPC URN
(``urn:epc:id:sgtin:0614141.812345.6789``, ``urn:epc:class:lgtin:0614141.812345.L1``) or
as a GS1 Digital Link URI on any host (``https://example.com/01/…/10/L1``, our own label
URLs included). Both become the canonical Digital Link on ``id.gs1.org``, so the same lot
is one node however a document spelled it. Other identifiers (SSCC, SGLN, private URIs)
are kept as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from signing.gs1 import MAX_LOT_LENGTH, gtin_check_digit, is_valid_ai_value, is_valid_gtin14

CANONICAL_HOST = "https://id.gs1.org"

_URN = re.compile(r"urn:epc:(id:sgtin|class:lgtin):([0-9]+)\.([0-9]+)\.(.+)")
_DIGITAL_LINK = re.compile(
    r"/01/(?P<gtin>[0-9]{14})(?:/10/(?P<lot>[^/]+))?(?:/21/(?P<serial>[^/]+))?/?"
)


@dataclass(frozen=True, slots=True)
class Epc:
    """A canonical identifier; ``gtin`` with ``serial`` (an instance) or ``lot`` (a class),
    or neither for identifiers this module does not interpret."""

    uri: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None

    @property
    def is_class(self) -> bool:
        return self.lot is not None and self.serial is None


def lot_class(gtin: str, lot: str) -> str:
    """The canonical class identifier of lot ``lot`` of ``gtin`` (a GTIN-14)."""
    return f"{CANONICAL_HOST}/01/{gtin}/10/{quote(lot, safe='')}"


def instance(gtin: str, serial: str) -> str:
    return f"{CANONICAL_HOST}/01/{gtin}/21/{quote(serial, safe='')}"


def canonical(identifier: str) -> Epc:
    """Interpret ``identifier``; anything not a well-formed GTIN-based one is kept as is.

    A Digital Link naming lot and serial is the instance (the serial is unique within
    the GTIN); the lot it carried is returned too.
    """
    match = _URN.fullmatch(identifier)
    if match:
        kind, prefix, reference, last = match.groups()
        value = unquote(last)
        gtin = _gtin_from_epc(prefix, reference)
        if gtin is None or not is_valid_ai_value(value, MAX_LOT_LENGTH):
            return Epc(identifier)
        if kind == "id:sgtin":
            return Epc(instance(gtin, value), gtin=gtin, serial=value)
        return Epc(lot_class(gtin, value), gtin=gtin, lot=value)
    if identifier[:8].lower() == "https://" or identifier[:7].lower() == "http://":
        try:
            path = urlsplit(identifier).path
        except ValueError:
            return Epc(identifier)
        match = _DIGITAL_LINK.search(path)
        if match and path.endswith(match.group(0)):
            gtin = match["gtin"]
            lot = unquote(match["lot"]) if match["lot"] else None
            serial = unquote(match["serial"]) if match["serial"] else None
            if not is_valid_gtin14(gtin) or not (lot or serial):
                return Epc(identifier)
            if any(
                v is not None and not is_valid_ai_value(v, MAX_LOT_LENGTH) for v in (lot, serial)
            ):
                return Epc(identifier)
            if serial is not None:
                return Epc(instance(gtin, serial), gtin=gtin, lot=lot, serial=serial)
            return Epc(lot_class(gtin, lot), gtin=gtin, lot=lot)
    return Epc(identifier)


def _gtin_from_epc(company_prefix: str, item_reference: str) -> str | None:
    """GTIN-14 from an EPC's company prefix and indicator + item reference (13 digits)."""
    if len(company_prefix) + len(item_reference) != 13 or not 6 <= len(company_prefix) <= 12:
        return None
    body = item_reference[0] + company_prefix + item_reference[1:]
    return body + str(gtin_check_digit(body))
