"""docs/code-format.md must stay true: its example is rebuilt and its OpenSSL block run."""

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from signing import KeyRing, Status, build_url, parse_and_verify, sign_code

DOC = Path(__file__).parents[2] / "docs" / "code-format.md"
SEED = hashlib.sha256(b"tracemark code-format worked example").digest()


def _shell_block() -> str:
    text = DOC.read_text()
    section = text[text.index("### Check it with OpenSSL") :]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def test_doc_example_is_what_the_code_produces():
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    code = sign_code(key, "DOCKY", "09506000134352", "L2401A", "K7Q2M9XW4B3CD")
    url = build_url("https://tm.example-brand-name.com", code)
    text = DOC.read_text()
    assert SEED.hex() in text
    assert url in text
    assert code.message().decode() in text
    ring = KeyRing.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    assert parse_and_verify(url, ring).status is Status.VALID
    assert ring.get("DOCKY").public_key.public_bytes_raw() == key.public_key().public_bytes_raw()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_doc_openssl_block_verifies_and_detects_tampering(tmp_path):
    script = _shell_block()
    ok = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert "Signature Verified Successfully" in ok.stdout, ok.stderr
    tampered = script.replace("K7Q2M9XW4B3CD' > msg.bin", "K7Q2M9XW4B3CE' > msg.bin")
    assert tampered != script
    bad = subprocess.run(["bash", "-c", tampered], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "Signature Verified Successfully" not in bad.stdout
