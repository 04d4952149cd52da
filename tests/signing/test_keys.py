import json

import pytest

from signing import KeyEntry, KeyRing, KeyStatus
from signing.keyring import KeyRingError
from signing.keys import (
    KID_ALPHABET,
    KeyLoadError,
    encrypt_private_key,
    generate_private_key,
    load_private_key,
    new_kid,
    public_key_bytes,
)


def test_private_key_is_encrypted_at_rest_and_round_trips():
    key = generate_private_key()
    pem = encrypt_private_key(key, "correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert public_key_bytes(load_private_key(pem, "correct horse")) == public_key_bytes(key)


def test_wrong_passphrase_is_a_typed_error():
    pem = encrypt_private_key(generate_private_key(), "correct horse")
    with pytest.raises(KeyLoadError):
        load_private_key(pem, "battery staple")
    with pytest.raises(KeyLoadError):
        load_private_key(b"-----BEGIN garbage", "x")


def test_empty_passphrase_is_refused():
    with pytest.raises(ValueError):
        encrypt_private_key(generate_private_key(), "")


def test_key_ids_are_short_base32():
    kids = {new_kid() for _ in range(200)}
    assert len(kids) > 190
    assert all(len(k) == 5 and set(k) <= set(KID_ALPHABET) for k in kids)


def test_jwks_round_trip_keeps_status_and_brand():
    entries = [
        KeyEntry("AAAAA", generate_private_key().public_key(), KeyStatus.ACTIVE, "acme"),
        KeyEntry(
            "BBBBB",
            generate_private_key().public_key(),
            KeyStatus.REVOKED,
            "acme",
            "2026-01-01T00:00:00+00:00",
        ),
    ]
    text = KeyRing(entries).dumps()
    jwk = json.loads(text)["keys"][0]
    assert {jwk["kty"], jwk["crv"], jwk["alg"]} == {"OKP", "Ed25519", "EdDSA"}
    ring = KeyRing.loads(text)
    assert [(e.kid, e.status, e.brand) for e in ring] == [
        (e.kid, e.status, e.brand) for e in entries
    ]
    assert public_key_bytes(ring.get("BBBBB").public_key) == public_key_bytes(entries[1].public_key)
    assert ring.get("BBBBB").revoked_at == "2026-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        '{"keys": {}}',
        '{"keys": [{"kty": "RSA", "kid": "A"}]}',
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "A", "x": "short"}]}',
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "A", "x": "%s", "tm_status": "lost"}]}'
        % ("A" * 43),
        "{" * 10,
    ],
)
def test_bad_key_sets_are_refused_with_a_typed_error(document):
    with pytest.raises(KeyRingError):
        KeyRing.loads(document)


def test_duplicate_kids_are_refused():
    public = generate_private_key().public_key()
    with pytest.raises(KeyRingError):
        KeyRing([KeyEntry("A", public), KeyEntry("A", public)])
