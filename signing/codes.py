"""The unit code format, version 1: a GS1 Digital Link URL carrying an Ed25519 signature.

::

    HTTPS://TM.EXAMPLE.COM/01/{gtin14}/10/{lot}/21/{serial}?S=1.{kid}.{signature}

* The path is GS1 Digital Link (AI 01 GTIN-14, AI 10 lot, AI 21 serial), so any Digital
  Link resolver understands it; ``S`` is an extra query attribute, which Digital Link
  allows and resolvers ignore.
* ``S`` holds the format version, the key id and the RFC 4648 base32 signature (103
  characters, no padding). Scheme, host, key id and signature are upper case so that a QR
  code stores them in alphanumeric mode (5.5 bits a character instead of 8).
* The signature covers the ASCII bytes ``TM1|{kid}|{gtin14}|{lot}|{serial}`` (lot and
  serial as decoded values). ``|`` cannot occur in any field, so the message is
  unambiguous. The host is not signed: it names the resolver, which may move; the unit's
  identity does not.
* Every part must be in canonical form (upper-case percent escapes as :func:`build_url`
  writes them, canonical base32), so that any single changed character of the path or
  the signature parameter fails verification.

:func:`parse_and_verify` never raises for bad input: each failure is a typed
:class:`Verification` with a stable ``status`` and ``reason``.
"""

from __future__ import annotations

import base64
import enum
import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.gs1 import MAX_LOT_LENGTH, MAX_SERIAL_LENGTH, is_valid_ai_value, is_valid_gtin14
from signing.keyring import KeyEntry, KeyPurpose, KeyRing, KeyStatus

FORMAT_VERSION = "1"
#: Longest URL considered at all; a version 1 code is about 190 characters.
MAX_URL_LENGTH = 512
SIGNATURE_LENGTH = 103  # base32 characters for 64 bytes, without padding

_KID = re.compile(r"[A-Z2-7]{1,16}")
_SIGNATURE = re.compile(f"[A-Z2-7]{{{SIGNATURE_LENGTH}}}")
_BASE = re.compile(r"(?i)https?://[A-Z0-9.-]+(:[0-9]{1,5})?")


class Status(enum.StrEnum):
    """Outcome of verifying a code; the values are stable machine codes."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    REVOKED_KEY = "revoked_key"
    #: The key id names a key that signs something else (a provenance statement key).
    WRONG_KEY_PURPOSE = "wrong_key_purpose"


@dataclass(frozen=True, slots=True)
class UnitCode:
    """The identity a label carries: GS1 keys plus the key id and signature."""

    gtin: str
    lot: str
    serial: str
    kid: str
    signature: bytes
    version: str = FORMAT_VERSION

    def message(self) -> bytes:
        return signed_message(self.kid, self.gtin, self.lot, self.serial)

    @property
    def signature_b32(self) -> str:
        return base64.b32encode(self.signature).decode("ascii").rstrip("=")


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of :func:`parse_and_verify`.

    ``code`` is set whenever the URL was well formed; ``key`` whenever its key id is in
    the ring. ``reason`` names what was malformed.
    """

    status: Status
    code: UnitCode | None = None
    key: KeyEntry | None = None
    reason: str | None = None

    @property
    def signature_ok(self) -> bool:
        """True when the signature verified (``VALID`` or ``REVOKED_KEY``)."""
        return self.status in (Status.VALID, Status.REVOKED_KEY)


class MalformedCode(ValueError):
    """Raised by :func:`parse`; ``reason`` is a stable machine code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def message_prefix(kid: str, gtin: str, lot: str) -> bytes:
    """The signed bytes up to the serial, shared by every code of one batch and key."""
    return f"TM{FORMAT_VERSION}|{kid}|{gtin}|{lot}|".encode("ascii")


def signed_message(kid: str, gtin: str, lot: str, serial: str) -> bytes:
    return message_prefix(kid, gtin, lot) + serial.encode("ascii")


def new_serial() -> str:
    """A fresh serial: 64 random bits as 13 base32 characters, so serials are unguessable."""
    return base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:13]


def sign_code(
    private_key: Ed25519PrivateKey, kid: str, gtin: str, lot: str, serial: str
) -> UnitCode:
    """Sign a unit identity. Fields must already be valid (see :func:`check_fields`)."""
    check_fields(gtin, lot, serial, kid)
    signature = private_key.sign(signed_message(kid, gtin, lot, serial))
    return UnitCode(gtin=gtin, lot=lot, serial=serial, kid=kid, signature=signature)


def check_fields(gtin: str, lot: str, serial: str, kid: str) -> None:
    """:raises MalformedCode: if any field is outside the format."""
    if not is_valid_gtin14(gtin):
        raise MalformedCode("bad_gtin")
    if not is_valid_ai_value(lot, MAX_LOT_LENGTH):
        raise MalformedCode("bad_lot")
    if not is_valid_ai_value(serial, MAX_SERIAL_LENGTH):
        raise MalformedCode("bad_serial")
    if not _KID.fullmatch(kid):
        raise MalformedCode("bad_kid")


def _escape(value: str) -> str:
    return quote(value, safe="")


def build_url(base: str, code: UnitCode) -> str:
    """The label URL of ``code`` under ``base`` (``scheme://host[:port]``, no path).

    :raises ValueError: if ``base`` is not an http(s) origin.
    """
    if not _BASE.fullmatch(base):
        raise ValueError("base must be http(s)://host[:port]")
    return (
        f"{base.upper()}/01/{code.gtin}/10/{_escape(code.lot)}/21/{_escape(code.serial)}"
        f"?S={code.version}.{code.kid}.{code.signature_b32}"
    )


def parse(url: str) -> UnitCode:
    """Parse a code URL (absolute, or the path and query a server received).

    :raises MalformedCode: with a stable ``reason`` for every kind of bad input.
    """
    if not isinstance(url, str):
        raise MalformedCode("not_text")
    if len(url) > MAX_URL_LENGTH:
        raise MalformedCode("too_long")
    if not url.isascii() or not url.isprintable():
        raise MalformedCode("bad_characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise MalformedCode("bad_url") from exc
    if parts.scheme not in ("http", "https", "") or parts.fragment:
        raise MalformedCode("bad_url")
    if bool(parts.scheme) != bool(parts.netloc):
        raise MalformedCode("bad_url")
    segments = parts.path.split("/")
    if len(segments) != 7 or segments[0] or segments[1::2] != ["01", "10", "21"]:
        raise MalformedCode("bad_path")
    gtin, raw_lot, raw_serial = segments[2], segments[4], segments[6]
    query = parts.query
    if not query.startswith("S=") or "&" in query:
        raise MalformedCode("missing_signature")
    return parse_fields(
        gtin, _unescape(raw_lot), _unescape(raw_serial), query[2:], raw_lot, raw_serial
    )


def _unescape(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError as exc:
        raise MalformedCode("bad_characters") from exc


def parse_fields(
    gtin: str,
    lot: str,
    serial: str,
    s_param: str,
    raw_lot: str | None = None,
    raw_serial: str | None = None,
) -> UnitCode:
    """Parse decoded path values and the ``S`` parameter, as a web route receives them.

    ``raw_lot``/``raw_serial``, when given, are the escaped forms from the URL and must be
    canonical.

    :raises MalformedCode: as :func:`parse`.
    """
    if not is_valid_gtin14(gtin):
        raise MalformedCode(
            "bad_gtin" if len(gtin) != 14 or not gtin.isdigit() else "bad_check_digit"
        )
    if not is_valid_ai_value(lot, MAX_LOT_LENGTH):
        raise MalformedCode("bad_lot")
    if not is_valid_ai_value(serial, MAX_SERIAL_LENGTH):
        raise MalformedCode("bad_serial")
    if (raw_lot is not None and raw_lot != _escape(lot)) or (
        raw_serial is not None and raw_serial != _escape(serial)
    ):
        raise MalformedCode("non_canonical")
    pieces = s_param.split(".")
    if len(pieces) != 3:
        raise MalformedCode("bad_signature_parameter")
    version, kid, signature_b32 = pieces
    if version != FORMAT_VERSION:
        raise MalformedCode("unsupported_version")
    if not _KID.fullmatch(kid):
        raise MalformedCode("bad_kid")
    if not _SIGNATURE.fullmatch(signature_b32):
        raise MalformedCode("bad_signature_encoding")
    signature = _b32_signature(signature_b32)
    code = UnitCode(gtin=gtin, lot=lot, serial=serial, kid=kid, signature=signature)
    return code


#: RFC 4648 base32 letters mapped to the digits of Python's base-32 ``int`` parser.
_B32_TO_INT_DIGITS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"
)


def _b32_signature(text: str) -> bytes:
    """Decode the 103-character signature (already matched against ``_SIGNATURE``).

    ``int(..., 32)`` runs in C where ``base64.b32decode`` is a Python loop: verification
    is the portal's hot path. The 3 bits past the 512th must be zero (canonical form).
    """
    number = int(text.translate(_B32_TO_INT_DIGITS), 32)
    if number & 0b111:
        raise MalformedCode("non_canonical")
    return (number >> 3).to_bytes(64, "big")


def verify_code(code: UnitCode, keyring: KeyRing) -> Verification:
    """Check ``code``'s signature against ``keyring``; only code keys are accepted."""
    entry = keyring.get(code.kid)
    if entry is None:
        return Verification(Status.UNKNOWN_KEY, code=code)
    if entry.purpose is not KeyPurpose.CODE:
        return Verification(Status.WRONG_KEY_PURPOSE, code=code, key=entry)
    try:
        entry.public_key.verify(code.signature, code.message())
    except InvalidSignature:
        return Verification(Status.BAD_SIGNATURE, code=code, key=entry)
    if entry.status is KeyStatus.REVOKED:
        return Verification(Status.REVOKED_KEY, code=code, key=entry)
    return Verification(Status.VALID, code=code, key=entry)


def parse_and_verify(url: str, keyring: KeyRing) -> Verification:
    """Parse and verify a code URL; never raises for any input string."""
    try:
        code = parse(url)
    except MalformedCode as exc:
        return Verification(Status.MALFORMED, reason=exc.reason)
    return verify_code(code, keyring)
