"""Ed25519 key material: generation, key ids, and private keys encrypted at rest.

Private keys never leave this module unencrypted except as in-memory key objects: the
stored form is PKCS#8 PEM encrypted with a passphrase (PBES2), so a copied database or
backup alone does not let anyone sign codes.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

#: Key ids are short upper-case base32 strings, so they cost little in a QR code's
#: alphanumeric mode. Five characters give 2**25 ids; uniqueness is enforced where keys
#: are stored.
KID_LENGTH = 5
KID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class KeyLoadError(ValueError):
    """A key could not be loaded: wrong passphrase, corrupt data or not an Ed25519 key."""


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def new_kid() -> str:
    """Return a random key id of :data:`KID_LENGTH` base32 characters."""
    return "".join(secrets.choice(KID_ALPHABET) for _ in range(KID_LENGTH))


def encrypt_private_key(key: Ed25519PrivateKey, passphrase: str | bytes) -> bytes:
    """Serialise ``key`` as passphrase-encrypted PKCS#8 PEM.

    :raises ValueError: if the passphrase is empty (an unencrypted key must never be
        stored by accident).
    """
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    if not secret:
        raise ValueError("a non-empty passphrase is required to store a private key")
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )


def load_private_key(pem: bytes, passphrase: str | bytes) -> Ed25519PrivateKey:
    """Decrypt a key written by :func:`encrypt_private_key`.

    :raises KeyLoadError: wrong passphrase, damaged PEM, or a key of another type.
    """
    secret = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyLoadError("cannot decrypt the private key (wrong passphrase?)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyLoadError("not an Ed25519 private key")
    return key


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of the public key (RFC 8032 encoding)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    """Inverse of :func:`public_key_bytes`.

    :raises ValueError: if ``raw`` is not 32 bytes.
    """
    return Ed25519PublicKey.from_public_bytes(raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
