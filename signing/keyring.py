"""The key ring: key id → public key, with each key's status, and its JWKS form.

Statuses follow a key's life: ``active`` keys sign new codes; ``retired`` keys sign
nothing more but their codes still verify as genuine; ``revoked`` keys are presumed
leaked, so their codes still verify mathematically but must be reported as such.
A key has one purpose: it signs unit codes or provenance statements, never both, so that
the web servers that sign statements never hold a key that could sign codes.
The JWKS document (RFC 7517/8037) is what a brand publishes for offline verifiers;
the non-standard members ``tm_status``, ``tm_use``, ``tm_brand`` and ``tm_revoked_at``
carry what a verifier needs beyond the key itself.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from signing.keys import b64url, b64url_decode, public_key_bytes, public_key_from_bytes

#: A JWKS file larger than this is refused, whatever its source.
MAX_JWKS_BYTES = 1_000_000


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class KeyPurpose(enum.StrEnum):
    """What a key signs; a verifier refuses a key used for the other purpose."""

    CODE = "code"
    STATEMENT = "statement"


class KeyRingError(ValueError):
    """A key set document is not a valid Tracemark JWKS."""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    kid: str
    public_key: Ed25519PublicKey
    status: KeyStatus = KeyStatus.ACTIVE
    brand: str | None = None
    revoked_at: str | None = None
    purpose: KeyPurpose = KeyPurpose.CODE

    def to_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = {
            "kty": "OKP",
            "crv": "Ed25519",
            "alg": "EdDSA",
            "use": "sig",
            "kid": self.kid,
            "x": b64url(public_key_bytes(self.public_key)),
            "tm_status": self.status.value,
            "tm_use": self.purpose.value,
        }
        if self.brand is not None:
            jwk["tm_brand"] = self.brand
        if self.revoked_at is not None:
            jwk["tm_revoked_at"] = self.revoked_at
        return jwk

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> KeyEntry:
        """Build an entry from one JWK; :raises KeyRingError: on any invalid member."""
        if not isinstance(jwk, dict):
            raise KeyRingError("a key must be a JSON object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise KeyRingError("only OKP/Ed25519 keys are supported")
        kid, x = jwk.get("kid"), jwk.get("x")
        if not isinstance(kid, str) or not kid or not isinstance(x, str):
            raise KeyRingError("a key needs string members 'kid' and 'x'")
        try:
            public_key = public_key_from_bytes(b64url_decode(x))
        except ValueError as exc:
            raise KeyRingError(f"key {kid!r}: 'x' is not a 32-byte Ed25519 public key") from exc
        try:
            status = KeyStatus(jwk.get("tm_status", KeyStatus.ACTIVE.value))
        except ValueError as exc:
            raise KeyRingError(f"key {kid!r}: unknown status") from exc
        try:  # key sets published before purposes existed hold code keys only
            purpose = KeyPurpose(jwk.get("tm_use", KeyPurpose.CODE.value))
        except ValueError as exc:
            raise KeyRingError(f"key {kid!r}: unknown purpose (tm_use)") from exc
        brand, revoked_at = jwk.get("tm_brand"), jwk.get("tm_revoked_at")
        return cls(
            kid=kid,
            public_key=public_key,
            status=status,
            brand=brand if isinstance(brand, str) else None,
            revoked_at=revoked_at if isinstance(revoked_at, str) else None,
            purpose=purpose,
        )


class KeyRing:
    """An immutable-by-convention mapping of key id to :class:`KeyEntry`."""

    def __init__(self, entries: Iterable[KeyEntry] = ()) -> None:
        self._entries: dict[str, KeyEntry] = {}
        for entry in entries:
            if entry.kid in self._entries:
                raise KeyRingError(f"duplicate key id {entry.kid!r}")
            self._entries[entry.kid] = entry

    def get(self, kid: str) -> KeyEntry | None:
        return self._entries.get(kid)

    def __iter__(self) -> Iterator[KeyEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def to_jwks(self) -> dict[str, Any]:
        return {"keys": [entry.to_jwk() for entry in self]}

    def dumps(self) -> str:
        return json.dumps(self.to_jwks(), indent=2, sort_keys=True)

    @classmethod
    def from_jwks(cls, document: dict[str, Any]) -> KeyRing:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise KeyRingError("a key set is a JSON object with a 'keys' array")
        return cls(KeyEntry.from_jwk(jwk) for jwk in document["keys"])

    @classmethod
    def loads(cls, text: str | bytes) -> KeyRing:
        """Parse a JWKS document; :raises KeyRingError: if it is not one."""
        if len(text) > MAX_JWKS_BYTES:
            raise KeyRingError("key set document too large")
        try:
            document = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise KeyRingError("key set document is not valid JSON") from exc
        return cls.from_jwks(document)
