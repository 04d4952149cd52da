import re

import pytest

from signing import build_url, sign_code
from tests.conftest import PASSPHRASE, forge
from tracemark.codes import issuance, keystore
from tracemark.codes.printing import batch_urls


@pytest.fixture
def issued(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 20, PASSPHRASE)
    with db.sessions() as session:
        batch = session.merge(demo.batch)
        return [url for _serial, url, _pin in batch_urls(session, batch, "http://localhost")]


def _path(url: str) -> str:
    return url[url.index("/01/") :]


def _verdict(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    match = re.search(r'data-verdict="([a-z_]+)" data-reason="([a-z_:]+)"', html)
    assert match, html
    return match.group(1), match.group(2)


def test_issued_code_is_genuine(client, issued):
    response = client.get(_path(issued[0]))
    assert response.status_code == 200
    assert _verdict(response) == ("genuine_first_scan", "first_scan")
    assert "Olive oil 1 l" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_tampered_signature_is_not_genuine(client, issued):
    url = _path(issued[1])
    assert _verdict(client.get(forge(url))) == ("not_genuine", "bad_signature")


def test_signed_but_never_issued_serial_is_not_genuine(client, db, demo, issued):
    with db.sessions() as session:
        key = keystore.private_key_of(keystore.get_key(session, demo.kid), PASSPHRASE)
    forged = sign_code(key, demo.kid, demo.product.gtin, demo.batch.lot, "NEVERISSUED23")
    response = client.get(_path(build_url("http://localhost", forged)))
    assert _verdict(response) == ("not_genuine", "unknown_serial")


def test_revoked_key_is_flagged_at_the_next_request(client, db, demo, issued):
    assert _verdict(client.get(_path(issued[2])))[0] == "genuine_first_scan"
    with db.sessions.begin() as session:
        keystore.revoke_key(session, keystore.get_key(session, demo.kid), "leaked")
    assert _verdict(client.get(_path(issued[2]))) == ("revoked_key", "revoked_key")


@pytest.mark.parametrize(
    "path",
    [
        "/01/09506000134353/10/L2401A/21/X?S=1.ABCDE." + "A" * 103,
        "/01/%00%ff/10/../21/x?S=1",
        "/01/" + "9" * 5000 + "?S=1",
        "/01/09506000134352/10/L2401A/21/X?S=1.ABCDE." + "A" * 103 + "&S=2",
        "/01/%E4%B8%AD/10/%27%20OR%201%3D1--/21/x?S=1.A.B",
    ],
)
def test_malformed_code_urls_get_a_400_page_not_an_error(client, issued, path):
    """(URLs without a signature go to the resolver: tests/portal/test_resolver.py.)"""
    response = client.get(path)
    assert response.status_code == 400
    assert _verdict(response)[0] == "not_genuine"
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_route_is_a_404_page(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.get_data(as_text=True)


def test_key_set_is_published_as_jwks(client, demo):
    response = client.get("/.well-known/tracemark/keys.json")
    assert response.status_code == 200
    kids = {key["kid"]: key for key in response.get_json()["keys"]}
    assert kids[demo.kid]["crv"] == "Ed25519"
    assert kids[demo.kid]["tm_status"] == "active"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_revoked_key_is_told_in_a_shoppers_words(client, db, demo, issued):
    """No talk of signing keys: the brand withdrew the code, and whom to ask."""
    with db.sessions.begin() as session:
        keystore.revoke_key(session, keystore.get_key(session, demo.kid), "leaked")
    html = client.get(_path(issued[3])).get_data(as_text=True)
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    text = re.sub(r"<[^>]+>", " ", main)
    assert "the brand has withdrawn this code" in text and "please contact" in text
    assert not re.search(r"\b(key|signing|signature|revoked)\b", text, re.I), text
    german = client.get(_path(issued[3]), headers={"Accept-Language": "de"})
    assert "Die Marke hat diesen Code zurückgezogen" in german.get_data(as_text=True)
