"""docs/provenance-statement.md must stay true: its example is rebuilt and its OpenSSL
block run (an independent check of the signature format)."""

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing import KeyRing
from signing.statements import StatementStatus, build_statement, sign_statement, verify_statement

DOC = Path(__file__).parents[2] / "docs" / "provenance-statement.md"
SEED = hashlib.sha256(b"tracemark provenance-statement worked example").digest()


def _json_blocks() -> list[str]:
    return re.findall(r"```json\n(.*?)```", DOC.read_text(), re.S)


def _shell_block() -> str:
    text = DOC.read_text()
    section = text[text.index("### Check it with OpenSSL") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_doc_example_is_what_the_code_produces():
    statement_text, jwks_text, signed_text = _json_blocks()
    statement = json.loads(statement_text)
    facts = {key: value for key, value in statement.items()
             if key not in {"version", "id", "issued_at", "issuer"}}  # fmt: skip
    rebuilt = build_statement(
        facts,
        brand="example",
        brand_name="Example Olive Oil Co.",
        issued_at=dt.datetime(2026, 11, 25, 19, 30, tzinfo=dt.UTC),
        statement_id=statement["id"],
    )
    assert rebuilt == statement
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    assert SEED.hex() in DOC.read_text()
    assert sign_statement(rebuilt, key, "DOCST").strip() == signed_text.strip()
    ring = KeyRing.loads(jwks_text)
    check = verify_statement(signed_text, ring)
    assert check.status is StatementStatus.VALID and check.statement == statement
    assert ring.get("DOCST").public_key.public_bytes_raw() == key.public_key().public_bytes_raw()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_doc_openssl_block_verifies_and_detects_tampering(tmp_path):
    script = _shell_block()
    ok = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert "Signature Verified Successfully" in ok.stdout, ok.stderr
    payload = re.search(r"payload='([^']+)'", script).group(1)
    i = len(payload) // 2
    changed = payload[:i] + ("B" if payload[i] == "A" else "A") + payload[i + 1 :]
    tampered = script.replace(payload, changed)
    bad = subprocess.run(["bash", "-c", tampered], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "Signature Verified Successfully" not in bad.stdout
