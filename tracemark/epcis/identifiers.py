"""GS1 identifiers as EPCIS names them, in one canonical form, and spelt back on demand.

An object, a class, a location or a party may arrive as an EPC URN
(``urn:epc:id:sgtin:0614141.812345.6789``, ``urn:epc:class:lgtin:0614141.812345.L1``,
``urn:epc:idpat:sgtin:0614141.812345.*``, ``urn:epc:id:sscc:…``, ``…:sgln:…``, ``pgln``,
``grai``, ``giai``, ``gsrn``, ``gsrnp``, ``gdti``) or as a GS1 Digital Link URI on any
host (``https://example.com/01/…/10/L1``, our own label URLs included). Every one becomes
the canonical Digital Link on ``id.gs1.org`` (GS1 Tag Data Standard 2.x, section 6 and
the EPC URI ↔ Digital Link tables of the Digital Link standard), so the same object is one
node however a document spelled it. A malformed one of these schemes (wrong length, check
digit, character) is refused with :class:`MalformedEpc` by :func:`parse`; other URIs
(private ones, EPC schemes without a Digital Link equivalent) are kept as given.

The way back to an EPC URN needs the GS1 Company Prefix length, which a Digital Link does
not carry: :func:`spell` takes it from the spelling the identifier was captured in, else
from the brand's company prefixes, else gives the Digital Link unchanged (it never guesses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from signing.gs1 import CSET82, MAX_LOT_LENGTH, gtin_check_digit

CANONICAL_HOST = "https://id.gs1.org"

#: The answers' spellings a client may ask for (the ``GS1-EPC-Format`` header).
EPC_FORMATS = ("No_Preference", "Always_GS1_Digital_Link", "Always_EPC_URN", "Never_Translates")


class MalformedEpc(ValueError):
    """An identifier of a GS1 scheme that breaks the scheme's rules; ``str()`` says which."""


@dataclass(frozen=True, slots=True)
class Epc:
    """A canonical identifier. ``scheme`` is the EPC scheme (``sgtin``, ``lgtin``,
    ``gtin`` for every instance of a GTIN, ``sscc``, ``sgln``, ...) or None for identifiers
    this module does not interpret; ``gtin`` with ``serial`` (an instance) or ``lot`` (a
    lot class) for trade items; ``gcp_length`` the company prefix length when the
    identifier was spelt as an EPC URN (its URN can be given back as it was)."""

    uri: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    scheme: str | None = None
    gcp_length: int | None = None
    #: A GRAI's or GDTI's serial, an SGLN's extension (not a trade item's serial).
    extra: str | None = None

    @property
    def is_class(self) -> bool:
        return self.lot is not None and self.serial is None


@dataclass(frozen=True, slots=True)
class _Scheme:
    """One EPC scheme: its Digital Link primary key AI, the digits of company prefix plus
    reference (``digits``), and the rest of its URN (``tail``: ``serial``, ``lot`` or
    ``None``; ``giai``'s reference is alphanumeric)."""

    ai: str
    digits: int
    tail: str | None = None
    tail_max: int = 0
    #: The reference's first digit goes before the company prefix (GTIN indicator,
    #: SSCC extension digit).
    lead: bool = False
    #: A zero before the key (GRAI's AI 8003 value).
    zero: bool = False


_SCHEMES = {
    "sgtin": _Scheme("01", 13, "serial", 20, lead=True),
    "lgtin": _Scheme("01", 13, "lot", 20, lead=True),
    "sscc": _Scheme("00", 17, lead=True),
    "sgln": _Scheme("414", 12, "extension", 20),
    "pgln": _Scheme("417", 12),
    "grai": _Scheme("8003", 12, "serial", 16, zero=True),
    "giai": _Scheme("8004", 0, "reference", 30),
    "gsrn": _Scheme("8018", 17),
    "gsrnp": _Scheme("8017", 17),
    "gdti": _Scheme("253", 12, "serial", 17),
}
#: Digital Link primary key AI → scheme of an instance (lot classes: ``lgtin``).
_BY_AI = {s.ai: name for name, s in _SCHEMES.items() if name != "lgtin"}
#: idpat schemes with a Digital Link class equivalent (the key without its serial).
_IDPAT = {"sgtin": "gtin", "grai": "grai", "gdti": "gdti"}
#: EPC URN schemes the Tag Data Standard defines; those not in ``_SCHEMES`` are kept as
#: given (no Digital Link equivalent is stored), any other is refused.
_KNOWN = {
    *_SCHEMES, "cpi", "sgcn", "ginc", "gsin", "itip", "upui", "gid", "usdod", "adi", "bic",
    "imovn", "pgln",
}  # fmt: skip
_URN = re.compile(r"urn:epc:(id|class|idpat):([a-z0-9]+):(.*)", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]+")
#: Characters an EPC URN may carry unescaped in a serial, lot or reference (TDS 2.x
#: table 6-1: the rest of CSET 82 is %-escaped).
_URN_SAFE = "-_'()*+,.:;=!"
_DL = re.compile(
    r"/(?P<ai>01|00|414|417|8003|8004|8017|8018|253)/(?P<key>[^/]+)"
    r"(?P<rest>(?:/(?:10|21|254)/[^/]+)*)/?"
)
_QUALIFIERS = {"01": ("10", "21"), "414": ("254",)}


def lot_class(gtin: str, lot: str) -> str:
    """The canonical class identifier of lot ``lot`` of ``gtin`` (a GTIN-14)."""
    return f"{CANONICAL_HOST}/01/{gtin}/10/{quote(lot, safe='')}"


def instance(gtin: str, serial: str) -> str:
    return f"{CANONICAL_HOST}/01/{gtin}/21/{quote(serial, safe='')}"


def canonical(identifier: str) -> Epc:
    """Interpret ``identifier`` as :func:`parse` does, but keep a malformed one as given
    (for readers of what is stored, and searches typed by people)."""
    try:
        return parse(identifier)
    except MalformedEpc:
        return Epc(identifier)


def parse(identifier: str) -> Epc:
    """``identifier`` in canonical form; an identifier of no GS1 scheme is kept as is.

    A Digital Link naming lot and serial is the instance (the serial is unique within
    the GTIN); the lot it carried is returned too.

    :raises MalformedEpc: an EPC URN or Digital Link of a GS1 scheme that breaks its rules.
    """
    if identifier[:8].lower() == "urn:epc:":
        return _from_urn(identifier)
    if identifier[:8].lower() == "https://" or identifier[:7].lower() == "http://":
        return _from_link(identifier)
    return Epc(identifier)


def _from_urn(identifier: str) -> Epc:
    match = _URN.fullmatch(identifier)
    if match is None:
        raise MalformedEpc("an EPC URN reads urn:epc:id|class|idpat:<scheme>:<fields>")
    kind, scheme, body = match[1].lower(), match[2].lower(), match[3]
    if scheme not in _KNOWN:
        raise MalformedEpc(f"{scheme!r} is not an EPC scheme of the Tag Data Standard")
    if (kind == "class" and scheme != "lgtin") or (kind != "class" and scheme == "lgtin"):
        raise MalformedEpc("urn:epc:class: names lgtin classes only")
    if scheme not in _SCHEMES:
        return Epc(identifier)  # a scheme without a Digital Link: kept, not interpreted
    if kind == "idpat":
        return _from_idpat(identifier, scheme, body)
    spec = _SCHEMES[scheme]
    fields = body.split(".", 2 if spec.tail and spec.digits else 1)
    if spec.digits == 0:  # giai: prefix.reference
        if len(fields) != 2 or not _DIGITS.fullmatch(fields[0]) or not 6 <= len(fields[0]) <= 12:
            raise MalformedEpc("a GIAI URN reads company-prefix.asset-reference")
        reference = _unescape(fields[1], spec.tail_max - len(fields[0]), "asset reference")
        return _epc(scheme, fields[0] + reference, None, len(fields[0]))
    expected = 3 if spec.tail else 2
    if len(fields) != expected:
        raise MalformedEpc(f"an {scheme.upper()} URN has {expected} fields separated by dots")
    prefix, reference = fields[0], fields[1]
    # a 12-digit company prefix leaves an SGLN's, PGLN's, GRAI's or GDTI's reference empty
    if not (_DIGITS.fullmatch(prefix) and (reference == "" or _DIGITS.fullmatch(reference))):
        raise MalformedEpc("the company prefix and reference are digits")
    if len(prefix) + len(reference) != spec.digits or not 6 <= len(prefix) <= 12:
        raise MalformedEpc(
            f"an {scheme.upper()} company prefix (6 to 12 digits) and reference have"
            f" {spec.digits} digits together"
        )
    if spec.lead:
        body13 = reference[0] + prefix + reference[1:]
    else:
        body13 = ("0" if spec.zero else "") + prefix + reference
    key = body13 + str(gtin_check_digit(body13.removeprefix("0") if spec.zero else body13))
    tail = None
    if spec.tail == "extension":
        tail = None if fields[2] == "0" else _unescape(fields[2], spec.tail_max, "extension")
    elif spec.tail:
        tail = _unescape(fields[2], spec.tail_max, spec.tail)
    return _epc(scheme, key, tail, len(prefix))


def _from_idpat(identifier: str, scheme: str, body: str) -> Epc:
    """``urn:epc:idpat:sgtin:CP.IR.*`` is every instance of a GTIN: the GTIN's Digital
    Link; the same for GRAI and GDTI. Wider patterns (``CP.*.*``) and other schemes'
    have no Digital Link and are kept as given, once checked."""
    spec = _SCHEMES[scheme]
    fields = body.split(".")
    if len(fields) != (3 if spec.tail and spec.digits else 2) or fields[-1] != "*":
        raise MalformedEpc("an idpat URN has the scheme's fields and ends in .* (every serial)")
    named = fields[: fields.index("*")]
    digits = [f for i, f in enumerate(named) if f or i == 0]  # an empty reference: see above
    if not all(_DIGITS.fullmatch(f) for f in digits) or any(f != "*" for f in fields[len(named) :]):
        raise MalformedEpc("an idpat URN names digits, then * in every field after")
    if named and not 6 <= len(named[0]) <= 12:
        raise MalformedEpc("a company prefix has 6 to 12 digits")
    if scheme not in _IDPAT or len(named) != 2:
        return Epc(identifier, scheme=f"{scheme}-pattern")
    whole = _from_urn(f"urn:epc:id:{scheme}:{named[0]}.{named[1]}.0")
    key = whole.gtin if scheme == "sgtin" else _key_of(whole)
    return _epc(_IDPAT[scheme], key, None, len(named[0]))  # type: ignore[arg-type]


def _from_link(identifier: str) -> Epc:
    try:
        path = urlsplit(identifier).path
    except ValueError:
        return Epc(identifier)
    match = _DL.search(path)
    if not match or not path.endswith(match.group(0)):
        return Epc(identifier)
    ai, key = match["ai"], unquote(match["key"])
    pairs = match["rest"].split("/")[1:]
    qualifiers = dict(zip(pairs[0::2], (unquote(v) for v in pairs[1::2]), strict=True))
    if any(q not in _QUALIFIERS.get(ai, ()) for q in qualifiers):
        raise MalformedEpc(f"AI {ai} takes no qualifier {', '.join(qualifiers)}")
    if ai == "01":
        _check_key(key, 14, "GTIN")
        lot, serial = qualifiers.get("10"), qualifiers.get("21")
        if lot is not None:
            _check_text(lot, MAX_LOT_LENGTH, "lot")
        if serial is not None:
            _check_text(serial, 20, "serial")
            return Epc(instance(key, serial), gtin=key, lot=lot, serial=serial, scheme="sgtin")
        if lot is not None:
            return Epc(lot_class(key, lot), gtin=key, lot=lot, scheme="lgtin")
        return _epc("gtin", key, None, None)
    scheme = _BY_AI[ai]
    spec = _SCHEMES[scheme]
    if scheme == "giai":
        if not 7 <= len(key) <= 30 or not _DIGITS.fullmatch(key[:6]):
            raise MalformedEpc("a GIAI has a company prefix and at most 30 characters")
        _check_text(key, 30, "GIAI")
        return _epc(scheme, key, None, None)
    if scheme in ("grai", "gdti"):
        size = 14 if scheme == "grai" else 13
        _check_key(key[:size], size, scheme.upper(), skip_zero=spec.zero)
        rest = key[size:]
        if scheme == "grai" and key[0] != "0":
            raise MalformedEpc("a GRAI (AI 8003) starts with 0")
        if rest:
            _check_text(rest, spec.tail_max, "serial")
        return _epc(scheme, key[:size], rest or None, None)
    _check_key(key, spec.digits + 1, scheme.upper())
    extension = qualifiers.get("254")
    if extension is not None:
        _check_text(extension, 20, "extension")
    return _epc(scheme, key, extension, None)


def _epc(scheme: str, key: str, tail: str | None, gcp_length: int | None) -> Epc:
    """The canonical Digital Link of a checked key and its serial, lot or extension
    (a GRAI or GDTI without serial is the class ``grai-class``/``gdti-class``)."""
    if scheme == "sgtin":
        return Epc(instance(key, tail or ""), key, None, tail, scheme, gcp_length)
    if scheme == "lgtin":
        return Epc(lot_class(key, tail or ""), key, tail, None, scheme, gcp_length)
    if scheme == "gtin":
        return Epc(f"{CANONICAL_HOST}/01/{key}", key, None, None, scheme, gcp_length)
    spec = _SCHEMES[scheme.removesuffix("-class")]
    if scheme == "sgln":
        uri = f"{CANONICAL_HOST}/414/{key}"
        if tail is not None:
            uri += f"/254/{quote(tail, safe='')}"
    else:
        uri = f"{CANONICAL_HOST}/{spec.ai}/{quote(key + (tail or ''), safe='')}"
    if scheme in ("grai", "gdti") and tail is None:
        scheme += "-class"
    return Epc(uri, scheme=scheme, gcp_length=gcp_length, extra=tail)


def _check_key(key: str, size: int, name: str, *, skip_zero: bool = False) -> None:
    if len(key) != size or not _DIGITS.fullmatch(key):
        raise MalformedEpc(f"a {name} has {size} digits")
    body = key[1:-1] if skip_zero else key[:-1]
    if gtin_check_digit(body) != int(key[-1]):
        raise MalformedEpc(f"wrong {name} check digit")


def _check_text(value: str, max_length: int, name: str) -> None:
    if not 0 < len(value) <= max_length or not CSET82.issuperset(value):
        raise MalformedEpc(f"a {name} has 1 to {max_length} characters of the GS1 character set 82")


def _unescape(value: str, max_length: int, name: str) -> str:
    text = unquote(value)
    _check_text(text, max_length, name)
    return text


def _escape(value: str) -> str:
    return quote(value, safe=_URN_SAFE)


def gcp_length(key: str, prefixes: Iterable[str]) -> int | None:
    """The length of the longest of ``prefixes`` that ``key`` (the digits after a GTIN's
    indicator or SSCC's extension digit, or a GLN) starts with."""
    found = [len(p) for p in prefixes if key.startswith(p)]
    return max(found) if found else None


def spell(
    uri: str,
    epc_format: str = "No_Preference",
    *,
    original: str | None = None,
    prefixes: Iterable[str] = (),
) -> str:
    """A stored canonical identifier as a client asked for it (``GS1-EPC-Format``).

    ``No_Preference`` and ``Always_GS1_Digital_Link`` give the canonical Digital Link;
    ``Never_Translates`` the spelling it was captured in (``original``, when it differed);
    ``Always_EPC_URN`` its EPC URN, with the company prefix length of ``original`` when
    that was a URN, else of the longest matching one of ``prefixes`` (the brand's), else
    the Digital Link unchanged (a URN with a guessed prefix length would name another
    company's object).
    """
    if epc_format == "Never_Translates":
        return original or uri
    if epc_format != "Always_EPC_URN" or not uri.startswith(CANONICAL_HOST):
        return uri
    parsed = canonical(uri)
    if parsed.scheme is None:
        return uri
    length = None
    if original is not None and original[:8].lower() == "urn:epc:":
        length = canonical(original).gcp_length
    if length is None:
        length = gcp_length(_prefix_digits(parsed), prefixes)
    if length is None:
        return uri
    return to_urn(parsed, length) or uri


def _prefix_digits(epc: Epc) -> str:
    """The digits a company prefix of ``epc`` starts."""
    key = _key_of(epc)
    if epc.scheme in ("sgtin", "lgtin", "gtin", "sscc", "grai", "grai-class"):
        return key[1:]
    return key


def _key_of(epc: Epc) -> str:
    """The GS1 key of a canonical ``epc`` (without serial or extension)."""
    if epc.gtin is not None:
        return epc.gtin
    value = unquote(epc.uri.removeprefix(CANONICAL_HOST + "/").split("/")[1])
    if epc.scheme in ("grai", "grai-class"):
        return value[:14]
    if epc.scheme in ("gdti", "gdti-class"):
        return value[:13]
    return value


def to_urn(epc: Epc, length: int) -> str | None:
    """The EPC URN of a canonical ``epc`` with a company prefix of ``length`` digits;
    None when it has no URN or the length does not fit."""
    scheme, key = epc.scheme, _key_of(epc)
    if scheme is None or not 6 <= length <= 12:
        return None
    if scheme in ("sgtin", "lgtin", "gtin"):
        prefix, reference = key[1 : 1 + length], key[0] + key[1 + length : 13]
        if scheme == "sgtin":
            return f"urn:epc:id:sgtin:{prefix}.{reference}.{_escape(epc.serial or '')}"
        if scheme == "lgtin":
            return f"urn:epc:class:lgtin:{prefix}.{reference}.{_escape(epc.lot or '')}"
        return f"urn:epc:idpat:sgtin:{prefix}.{reference}.*"
    if scheme == "sscc":
        return f"urn:epc:id:sscc:{key[1 : 1 + length]}.{key[0]}{key[1 + length : 17]}"
    if scheme == "giai":
        return f"urn:epc:id:giai:{key[:length]}.{_escape(key[length:])}"
    if scheme.endswith("-pattern"):
        return None
    if scheme in ("grai", "grai-class"):
        key = key[1:]  # AI 8003's leading zero
    prefix, reference = key[:length], key[length : len(key) - 1]
    if scheme in ("grai-class", "gdti-class"):
        return f"urn:epc:idpat:{scheme[:4]}:{prefix}.{reference}.*"
    if scheme in ("grai", "gdti"):
        return f"urn:epc:id:{scheme}:{prefix}.{reference}.{_escape(epc.extra or '')}"
    if scheme == "sgln":
        extension = _escape(epc.extra) if epc.extra is not None else "0"
        return f"urn:epc:id:sgln:{prefix}.{reference}.{extension}"
    return f"urn:epc:id:{scheme}:{prefix}.{reference}"
