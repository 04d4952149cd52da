"""GS1 Digital Link request URIs: ``/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}|/235/{tpx}]``
with data attributes (``?17=261231``) and other query parameters.

:func:`parse` never raises anything but :class:`SyntaxProblem`, whose ``reason`` is a
stable code for the 400 answer. The canonical form (14-digit GTIN, qualifiers in the
standard's order, values percent-escaped the one way) is what links are stored under and
what a linkset names as its subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from signing.gs1 import CSET82, is_valid_ai_value, normalize_gtin

#: The GTIN's key qualifiers in the order a Digital Link URI must give them, with the
#: longest value each allows. A serial (21) and a third-party GTIN extension (235) are
#: alternatives at the same level.
QUALIFIERS: dict[str, int] = {"22": 20, "10": 20, "21": 20, "235": 28}
_RANK = {"22": 0, "10": 1, "21": 2, "235": 2}
#: Data attributes holding dates (YYMMDD): production, packaging, best before, sell by,
#: expiry.
_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_AI = re.compile(r"[0-9]{2,4}")
_DATE = re.compile(r"[0-9]{2}(0[1-9]|1[0-2])([0-2][0-9]|3[01])")
MAX_URI_LENGTH = 2048
MAX_ATTRIBUTE_LENGTH = 90


class SyntaxProblem(ValueError):
    """The URI is no GS1 Digital Link URI this resolver accepts; ``reason`` is stable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A parsed request: the GTIN, its qualifiers in order, and the query.

    ``attributes`` holds the GS1 data attributes (numeric keys); ``query`` every query
    pair as received, in order, for passing on when redirecting.
    """

    gtin: str
    qualifiers: tuple[tuple[str, str], ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    query: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """The canonical path: ``/01/{gtin14}`` and the qualifiers, escaped one way."""
        return f"/01/{self.gtin}" + qualifier_path(self.qualifiers)

    @property
    def levels(self) -> list[str]:
        """The qualifier paths of this level and every level above it, up to the GTIN
        (``""``), most specific first."""
        return [qualifier_path(self.qualifiers[:n]) for n in range(len(self.qualifiers), -1, -1)]

    def qualifier(self, ai: str) -> str | None:
        return dict(self.qualifiers).get(ai)

    @property
    def lot(self) -> str | None:
        return self.qualifier("10")

    @property
    def serial(self) -> str | None:
        return self.qualifier("21")

    def param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


def qualifier_path(qualifiers) -> str:
    return "".join(f"/{ai}/{quote(value, safe='')}" for ai, value in qualifiers)


def parse(path: str, query: str = "") -> DigitalLink:
    """Parse a request's raw path (escapes intact) and raw query string.

    A trailing slash is tolerated. GTIN-8, -12 and -13 are padded to 14 digits.

    :raises SyntaxProblem: ``too_long``, ``bad_characters``, ``bad_path``, ``bad_gtin``,
        ``unknown_qualifier``, ``qualifier_order``, ``bad_qualifier_value``,
        ``bad_query``, ``qualifier_in_query``, ``bad_attribute``.
    """
    if len(path) + len(query) > MAX_URI_LENGTH:
        raise SyntaxProblem("too_long")
    if not (path + query).isascii() or not (path + query).isprintable():
        raise SyntaxProblem("bad_characters")
    if path.endswith("/"):
        path = path[:-1]
    segments = path.split("/")
    if len(segments) < 3 or segments[0] or segments[1] != "01" or len(segments) % 2 == 0:
        raise SyntaxProblem("bad_path")
    try:
        gtin = normalize_gtin(segments[2])
    except ValueError:
        raise SyntaxProblem("bad_gtin") from None
    qualifiers: list[tuple[str, str]] = []
    rank = -1
    for i in range(3, len(segments), 2):
        ai, raw = segments[i], segments[i + 1]
        if ai not in QUALIFIERS:
            raise SyntaxProblem("unknown_qualifier")
        if _RANK[ai] <= rank:
            raise SyntaxProblem("qualifier_order")
        rank = _RANK[ai]
        value = _unescape(raw)
        if not is_valid_ai_value(value, QUALIFIERS[ai]):
            raise SyntaxProblem("bad_qualifier_value")
        qualifiers.append((ai, value))
    pairs = _query_pairs(query)
    attributes: dict[str, str] = {}
    for key, value in pairs:
        if not _AI.fullmatch(key):
            continue
        if key == "01" or key in QUALIFIERS:
            raise SyntaxProblem("qualifier_in_query")
        if key in attributes or not _valid_attribute(key, value):
            raise SyntaxProblem("bad_attribute")
        attributes[key] = value
    return DigitalLink(gtin, tuple(qualifiers), attributes, tuple(pairs))


def _unescape(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise SyntaxProblem("bad_qualifier_value") from None


def _query_pairs(query: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (ValueError, UnicodeDecodeError):
        raise SyntaxProblem("bad_query") from None


def _valid_attribute(ai: str, value: str) -> bool:
    if ai in _DATE_AIS:
        return bool(_DATE.fullmatch(value))
    return 0 < len(value) <= MAX_ATTRIBUTE_LENGTH and CSET82.issuperset(value)
