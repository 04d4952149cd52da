"""Signed provenance statements: a batch's facts in a JWS that anyone can check offline.

A statement is a JSON Web Signature (RFC 7515) in the flattened JSON serialization::

    {"payload": B64URL(statement), "protected": B64URL(header), "signature": B64URL(sig)}

with exactly the protected header ``{"alg": "EdDSA", "kid": KID, "typ":
"tracemark-provenance+json"}`` and an Ed25519 signature (RFC 8037) over the ASCII of
``protected + "." + payload``, as for every JWS. The statement is a JSON object
(:func:`build_statement`) naming its issuing brand, id and time of issue; the key set is
the brand's published JWKS, where statement keys carry ``"tm_use": "statement"``.

The JWS is written here over ``cryptography`` (about forty lines) rather than taken from a
JOSE library: offline verifiers then need nothing beyond what verifies unit codes, and
the verifier accepts one algorithm, one header shape and one serialization instead of
narrowing a general library's choices (``alg`` negotiation, ``crit``, ``b64``, unprotected
headers). Tests check the result with an independent JOSE implementation and OpenSSL.

:func:`verify_statement` never raises for bad input: each failure is a typed
:class:`StatementCheck`.
"""

from __future__ import annotations

import binascii
import datetime as dt
import enum
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing.codes import Status
from signing.keyring import KeyEntry, KeyPurpose, KeyRing, KeyStatus
from signing.keys import b64url, b64url_decode

STATEMENT_TYPE = "tracemark-provenance+json"
ALGORITHM = "EdDSA"
STATEMENT_VERSION = 1
#: A statement file larger than this is refused unread.
MAX_STATEMENT_BYTES = 4_000_000
#: Members the envelope puts in every statement; the facts may not use them.
ENVELOPE_MEMBERS = frozenset({"version", "id", "issued_at", "issuer"})
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


#: Outcome of verifying a statement: the outcomes of verifying a code (:class:`Status`,
#: with the same stable machine codes; ``WRONG_KEY_PURPOSE`` is then a key that signs unit
#: codes), and ``WRONG_BRAND``: signed by one brand's key but claiming to be issued by
#: another brand.
StatementStatus = enum.StrEnum(
    "StatementStatus",
    [(status.name, status.value) for status in Status] + [("WRONG_BRAND", "wrong_brand")],
    module=__name__,
)


@dataclass(frozen=True, slots=True)
class StatementCheck:
    """Result of :func:`verify_statement`.

    ``statement`` is set only once the signature verified (``VALID``, ``REVOKED_KEY``,
    ``WRONG_BRAND``): unsigned contents are never handed out. ``kid`` is set whenever the
    header was readable, ``key`` whenever the key set holds it, ``reason`` names what was
    malformed.
    """

    status: StatementStatus
    statement: dict[str, Any] | None = None
    kid: str | None = None
    key: KeyEntry | None = None
    reason: str | None = None


class _Malformed(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_statement_id() -> str:
    return str(uuid.uuid4())


def build_statement(
    facts: Mapping[str, Any],
    *,
    brand: str,
    brand_name: str,
    issued_at: dt.datetime,
    statement_id: str | None = None,
) -> dict[str, Any]:
    """The statement: ``facts`` (JSON values) under the envelope members.

    :raises ValueError: if ``facts`` uses an envelope member or ``issued_at`` is naive.
    """
    clash = ENVELOPE_MEMBERS & set(facts)
    if clash:
        raise ValueError(f"facts may not use the envelope members {sorted(clash)}")
    if issued_at.utcoffset() is None:
        raise ValueError("issued_at must carry its time zone")
    moment = issued_at.astimezone(dt.UTC).replace(microsecond=0)
    return {
        "version": STATEMENT_VERSION,
        "id": statement_id or new_statement_id(),
        "issued_at": moment.isoformat().replace("+00:00", "Z"),
        "issuer": {"brand": brand, "name": brand_name},
        **facts,
    }


def sign_statement(statement: Mapping[str, Any], private_key: Ed25519PrivateKey, kid: str) -> str:
    """The statement file: ``statement`` signed by ``kid`` as a flattened JWS (JSON text)."""
    header = {"alg": ALGORITHM, "kid": kid, "typ": STATEMENT_TYPE}
    protected = b64url(_compact_json(header))
    payload = b64url(_compact_json(statement))
    signature = private_key.sign(f"{protected}.{payload}".encode("ascii"))
    document = {"payload": payload, "protected": protected, "signature": b64url(signature)}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def verify_statement(text: str | bytes, keyring: KeyRing) -> StatementCheck:
    """Verify a statement file against ``keyring``; never raises for any input.

    Only a ``statement`` key of the issuing brand makes it ``VALID``; a revoked one makes it
    ``REVOKED_KEY`` (the signature is right, but the key may have been stolen).
    """
    try:
        protected, payload, signature, kid = _parse_envelope(text)
    except _Malformed as exc:
        return StatementCheck(StatementStatus.MALFORMED, reason=exc.reason)
    entry = keyring.get(kid)
    if entry is None:
        return StatementCheck(StatementStatus.UNKNOWN_KEY, kid=kid)
    if entry.purpose is not KeyPurpose.STATEMENT:
        return StatementCheck(StatementStatus.WRONG_KEY_PURPOSE, kid=kid, key=entry)
    try:
        entry.public_key.verify(signature, f"{protected}.{payload}".encode("ascii"))
    except InvalidSignature:
        return StatementCheck(StatementStatus.BAD_SIGNATURE, kid=kid, key=entry)
    try:
        statement = _parse_statement(payload)
    except _Malformed as exc:
        return StatementCheck(StatementStatus.MALFORMED, kid=kid, key=entry, reason=exc.reason)
    if entry.brand is None or statement["issuer"]["brand"] != entry.brand:
        return StatementCheck(StatementStatus.WRONG_BRAND, statement, kid, entry)
    if entry.status is KeyStatus.REVOKED:
        return StatementCheck(StatementStatus.REVOKED_KEY, statement, kid, entry)
    return StatementCheck(StatementStatus.VALID, statement, kid, entry)


def _compact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _decode(part: Any, reason: str) -> bytes:
    """Decode canonical unpadded base64url (one encoding per value, as JWS requires)."""
    if not isinstance(part, str) or not _B64URL.fullmatch(part):
        raise _Malformed(reason)
    try:
        raw = b64url_decode(part)
    except (binascii.Error, ValueError):
        raise _Malformed(reason) from None
    if b64url(raw) != part:
        raise _Malformed(reason)
    return raw


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse duplicate members: two readers could pick different ones."""
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("duplicate member")
    return members


def _json_object(raw: bytes, reason: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_members)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Malformed(reason) from None
    if not isinstance(value, dict):
        raise _Malformed(reason)
    return value


def _parse_envelope(text: str | bytes) -> tuple[str, str, bytes, str]:
    if not isinstance(text, str | bytes):
        raise _Malformed("not_text")
    if len(text) > MAX_STATEMENT_BYTES:
        raise _Malformed("too_large")
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    envelope = _json_object(raw, "not_a_jws")
    if set(envelope) != {"payload", "protected", "signature"}:
        raise _Malformed("not_a_jws")
    protected, payload = envelope["protected"], envelope["payload"]
    header = _json_object(_decode(protected, "bad_header"), "bad_header")
    _decode(payload, "bad_payload")
    signature = _decode(envelope["signature"], "bad_signature_encoding")
    if set(header) != {"alg", "kid", "typ"}:
        raise _Malformed("bad_header")  # no crit, b64, jku, x5u…: nothing to misread
    if header["alg"] != ALGORITHM:
        raise _Malformed("unsupported_algorithm")
    if header["typ"] != STATEMENT_TYPE:
        raise _Malformed("not_a_statement")
    kid = header["kid"]
    if not isinstance(kid, str) or not 0 < len(kid) <= 64:
        raise _Malformed("bad_header")
    if len(signature) != 64:
        raise _Malformed("bad_signature_encoding")
    return protected, payload, signature, kid


def _parse_statement(payload: str) -> dict[str, Any]:
    statement = _json_object(b64url_decode(payload), "bad_payload")
    if statement.get("version") != STATEMENT_VERSION:
        raise _Malformed("unsupported_version")
    issuer = statement.get("issuer")
    if not isinstance(issuer, dict) or not isinstance(issuer.get("brand"), str):
        raise _Malformed("bad_payload")
    if not isinstance(statement.get("id"), str) or not isinstance(statement.get("issued_at"), str):
        raise _Malformed("bad_payload")
    return statement
