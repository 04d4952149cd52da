"""Provenance statements: JWS round trip, typed failures, key purposes, interoperability."""

from __future__ import annotations

import base64
import datetime as dt
import json
import warnings

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from signing import KeyEntry, KeyPurpose, KeyRing, KeyStatus, Status, parse_and_verify
from signing.codes import build_url, sign_code
from signing.keyring import KeyRingError
from signing.keys import b64url, b64url_decode
from signing.statements import (
    STATEMENT_TYPE,
    StatementStatus,
    build_statement,
    sign_statement,
    verify_statement,
)

WHEN = dt.datetime(2026, 11, 25, 19, 30, 5, 123, tzinfo=dt.UTC)
FACTS = {
    "product": {"gtin": "09506000134352", "name": "Olive oil 1 l"},
    "batch": {"lot": "L2401A", "status": "released"},
    "documents": [{"title": "Pesticide screen", "sha256": "ab" * 32}],
    "journey": [{"time": "2026-10-02T00:00:00Z", "biz_step": "commissioning"}],
}


def _key(kid: str, purpose=KeyPurpose.STATEMENT, status=KeyStatus.ACTIVE, brand="acme"):
    private = Ed25519PrivateKey.generate()
    entry = KeyEntry(kid, private.public_key(), status, brand, purpose=purpose)
    return private, entry


def _signed(private, kid="STMTA", brand="acme", facts=FACTS) -> str:
    statement = build_statement(facts, brand=brand, brand_name="ACME", issued_at=WHEN)
    return sign_statement(statement, private, kid)


def test_a_signed_statement_verifies_and_states_its_facts():
    private, entry = _key("STMTA")
    check = verify_statement(_signed(private), KeyRing([entry]))
    assert check.status is StatementStatus.VALID and check.kid == "STMTA"
    statement = check.statement
    assert statement["issuer"] == {"brand": "acme", "name": "ACME"}
    assert statement["issued_at"] == "2026-11-25T19:30:05Z" and statement["version"] == 1
    assert statement["batch"]["lot"] == "L2401A" and len(statement["id"]) == 36


def test_one_changed_byte_of_the_payload_is_a_bad_signature():
    private, entry = _key("STMTA")
    document = json.loads(_signed(private))
    payload = bytearray(b64url_decode(document["payload"]))
    payload[payload.index(b"L2401A")] = ord("X")
    document["payload"] = b64url(bytes(payload))
    check = verify_statement(json.dumps(document), KeyRing([entry]))
    assert check.status is StatementStatus.BAD_SIGNATURE and check.statement is None


def test_a_revoked_statement_key_verifies_as_revoked_not_valid():
    private, entry = _key("STMTA", status=KeyStatus.REVOKED)
    check = verify_statement(_signed(private), KeyRing([entry]))
    assert check.status is StatementStatus.REVOKED_KEY and check.statement is not None


def test_a_retired_statement_key_still_verifies():
    private, entry = _key("STMTA", status=KeyStatus.RETIRED)
    assert verify_statement(_signed(private), KeyRing([entry])).status is StatementStatus.VALID


def test_a_statement_signed_by_a_code_key_is_refused():
    private, entry = _key("CODEA", purpose=KeyPurpose.CODE)
    check = verify_statement(_signed(private, "CODEA"), KeyRing([entry]))
    assert check.status is StatementStatus.WRONG_KEY_PURPOSE and check.statement is None


def test_a_statement_key_in_a_code_url_is_refused():
    private, entry = _key("STMTA")
    code = sign_code(private, "STMTA", "09506000134352", "L2401A", "K7Q2M9XW4B3CD")
    result = parse_and_verify(build_url("https://tm.example", code), KeyRing([entry]))
    assert result.status is Status.WRONG_KEY_PURPOSE and not result.signature_ok


def test_a_statement_claiming_another_brand_is_refused():
    private, entry = _key("STMTA", brand="acme")
    check = verify_statement(_signed(private, brand="rival"), KeyRing([entry]))
    assert check.status is StatementStatus.WRONG_BRAND


def test_an_unknown_key_is_reported_as_such():
    private, _entry = _key("STMTA")
    _other, entry = _key("STMTB")
    check = verify_statement(_signed(private), KeyRing([entry]))
    assert (check.status, check.kid) == (StatementStatus.UNKNOWN_KEY, "STMTA")


def _rewrap(document: dict, header: dict, private) -> str:
    """``document`` re-signed under another protected header (so only the header is off)."""
    protected = b64url(json.dumps(header).encode())
    signature = private.sign(f"{protected}.{document['payload']}".encode())
    return json.dumps({**document, "protected": protected, "signature": b64url(signature)})


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none", "kid": "STMTA", "typ": STATEMENT_TYPE}, "unsupported_algorithm"),
        ({"alg": "Ed25519", "kid": "STMTA", "typ": STATEMENT_TYPE}, "unsupported_algorithm"),
        ({"alg": "EdDSA", "kid": "STMTA", "typ": "JWT"}, "not_a_statement"),
        ({"alg": "EdDSA", "kid": "STMTA", "typ": STATEMENT_TYPE, "crit": ["b64"], "b64": False},
         "bad_header"),
        ({"alg": "EdDSA", "kid": 7, "typ": STATEMENT_TYPE}, "bad_header"),
        ({"alg": "EdDSA", "typ": STATEMENT_TYPE}, "bad_header"),
    ],
)  # fmt: skip
def test_headers_other_than_the_one_shape_are_malformed(header, reason):
    private, entry = _key("STMTA")
    document = json.loads(_signed(private))
    check = verify_statement(_rewrap(document, header, private), KeyRing([entry]))
    assert (check.status, check.reason) == (StatementStatus.MALFORMED, reason)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda d: "not json", "not_a_jws"),
        (lambda d: json.dumps([d]), "not_a_jws"),
        (lambda d: json.dumps({**d, "header": {"kid": "X"}}), "not_a_jws"),
        (lambda d: json.dumps({**d, "signature": d["signature"] + "=="}), "bad_signature_encoding"),
        (lambda d: json.dumps({**d, "signature": d["signature"][:-4]}), "bad_signature_encoding"),
        (lambda d: json.dumps({**d, "payload": d["payload"] + "+"}), "bad_payload"),
        (lambda d: json.dumps({**d, "protected": ""}), "bad_header"),
        (lambda d: json.dumps(d)[:-1] + ',"payload":"e30"}', "not_a_jws"),
        (lambda d: "{" * 100_000, "not_a_jws"),
        (lambda d: " " * 5_000_000, "too_large"),
        (lambda d: b"\xff\xfe", "not_a_jws"),
    ],
)
def test_malformed_files_are_typed_failures(mangle, reason):
    private, entry = _key("STMTA")
    check = verify_statement(mangle(json.loads(_signed(private))), KeyRing([entry]))
    assert (check.status, check.reason) == (StatementStatus.MALFORMED, reason)


def test_a_signed_payload_that_is_no_statement_is_malformed():
    private, entry = _key("STMTA")
    document = json.loads(_signed(private))
    payload = b64url(b'{"version": 2}')
    signature = private.sign(f"{document['protected']}.{payload}".encode())
    forged = json.dumps({**document, "payload": payload, "signature": b64url(signature)})
    check = verify_statement(forged, KeyRing([entry]))
    assert (check.status, check.reason) == (StatementStatus.MALFORMED, "unsupported_version")


def test_facts_cannot_overwrite_the_envelope():
    with pytest.raises(ValueError):
        build_statement({"issuer": {"brand": "x"}}, brand="a", brand_name="A", issued_at=WHEN)
    with pytest.raises(ValueError):
        build_statement({}, brand="a", brand_name="A", issued_at=WHEN.replace(tzinfo=None))


def test_the_signature_checks_with_cryptography_alone():
    """Independent of signing.statements: RFC 7515 signing input, RFC 8037 key from the JWK."""
    private, entry = _key("STMTA")
    document = json.loads(_signed(private))
    jwk = KeyRing([entry]).to_jwks()["keys"][0]
    assert (jwk["tm_use"], jwk["alg"], jwk["crv"]) == ("statement", "EdDSA", "Ed25519")

    def unb64(text: str) -> bytes:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    public = Ed25519PublicKey.from_public_bytes(unb64(jwk["x"]))
    signing_input = (document["protected"] + "." + document["payload"]).encode("ascii")
    public.verify(unb64(document["signature"]), signing_input)  # raises if wrong
    header = json.loads(unb64(document["protected"]))
    assert header == {"alg": "EdDSA", "kid": "STMTA", "typ": "tracemark-provenance+json"}
    assert json.loads(unb64(document["payload"]))["product"]["gtin"] == "09506000134352"


def test_a_jose_library_reads_the_statement_and_its_key():
    """joserfc, an independent JOSE implementation, verifies the file with the published JWK."""
    from joserfc import jws
    from joserfc.jwk import OKPKey

    private, entry = _key("STMTA")
    jwk = {k: v for k, v in entry.to_jwk().items() if not k.startswith("tm_")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RFC 9864 deprecates the name "EdDSA"
        result = jws.deserialize_json(
            json.loads(_signed(private)), OKPKey.import_key(jwk), algorithms=["EdDSA"]
        )
    assert result.headers()["kid"] == "STMTA"
    assert json.loads(result.payload)["batch"]["lot"] == "L2401A"


def test_key_sets_carry_the_purpose_and_older_sets_mean_code_keys():
    _private, statement = _key("STMTA")
    _private, code = _key("CODEA", purpose=KeyPurpose.CODE)
    ring = KeyRing.loads(KeyRing([statement, code]).dumps())
    assert ring.get("STMTA").purpose is KeyPurpose.STATEMENT
    assert ring.get("CODEA").purpose is KeyPurpose.CODE
    old = KeyRing([code]).to_jwks()
    del old["keys"][0]["tm_use"]
    assert KeyRing.from_jwks(old).get("CODEA").purpose is KeyPurpose.CODE
    old["keys"][0]["tm_use"] = "anything"
    with pytest.raises(KeyRingError):
        KeyRing.from_jwks(old)
