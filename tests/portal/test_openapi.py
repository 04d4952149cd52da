"""portal/openapi.yaml: a valid OpenAPI 3.1 document that real responses conform to."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate as validate_spec
from referencing import Registry
from sqlalchemy.exc import OperationalError

from tests.conftest import JOURNEY, PASSPHRASE, forge, furnish, make_brand
from tests.openapi_support import OpenApiDocument, schema_errors
from tracemark.app import close, create_app
from tracemark.codes import issuance, keystore
from tracemark.codes.printing import batch_urls
from tracemark.models import (
    BatchStatus,
)
from tracemark.scanning.scans import Verdict

SPEC_PATH = Path(__file__).resolve().parents[2] / "portal" / "openapi.yaml"
PDF = b"%PDF-1.4\n% openapi test\n%%EOF\n"


@pytest.fixture(scope="module")
def document() -> OpenApiDocument:
    return OpenApiDocument.load(SPEC_PATH)


@pytest.fixture(scope="module")
def spec(document) -> dict:
    return document.spec


@pytest.fixture(scope="module")
def registry(document) -> Registry:
    return document.registry


@pytest.fixture
def conforms(db, spec, registry):
    """``conforms(response, path, method="get")``: assert the response is as documented."""

    def check(response, path: str = "/api/v1/verify", method: str = "get") -> dict:
        errors = schema_errors(spec, registry, response, path, method)
        assert not errors, "\n".join(errors)
        return response.get_json()

    return check


@pytest.fixture
def issued(db, demo) -> list[str]:
    """Codes of a batch with everything the API can show: site, story, document, journey."""
    issuance.issue(db.sessions, demo.batch.id, 6, PASSPHRASE)
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        furnish(session, batch, journey=JOURNEY[:2])
        batch.expiry_date = dt.date(2028, 10, 1)
        urls = [url for _serial, url, _pin in batch_urls(session, batch, "http://x")]
    return [url[url.index("/01/") :] for url in urls]


VERIFY = "/api/v1/verify"


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1")
    validate_spec(spec)


def test_document_lists_every_verdict(spec):
    documented = spec["components"]["schemas"]["Verdict"]["enum"]
    assert sorted(documented) == sorted(v.value for v in Verdict)
    description = spec["components"]["schemas"]["Verdict"]["description"]
    assert all(f"`{v.value}`" in description for v in Verdict)


def test_document_is_served_and_equal_to_the_file(client, spec):
    response = client.get("/api/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.mimetype == "application/yaml"
    assert yaml.safe_load(response.get_data(as_text=True)) == spec


def test_genuine_then_repeat_then_forged(client, conforms, issued):
    first = client.get(VERIFY, query_string={"url": "https://t.example" + issued[0]})
    body = conforms(first)
    assert body["verdict"] == "genuine_first_scan" and "reason_explanation" not in body
    assert body["batch"]["documents"] and len(body["batch"]["journey"]) == 2
    assert body["batch"]["origin"]["country"] == "ES"
    assert first.headers["Cache-Control"] == "no-store"

    reload = conforms(client.post(VERIFY, json={"url": issued[0]}), method="post")
    assert reload["verdict"] == "genuine_first_scan" and reload["scans"]["count"] == 1

    other = {"User-Agent": "another phone"}
    again = conforms(client.post(VERIFY, json={"url": issued[0]}, headers=other), method="post")
    assert again["verdict"] == "genuine_scanned_before" and again["scans"]["count"] == 2
    assert (again["scans"]["claimed_at"], again["scans"]["owner"]) == (None, False)

    third = {"User-Agent": "a third phone"}
    form = conforms(client.post(VERIFY, data={"url": issued[0]}, headers=third), method="post")
    assert form["scans"]["count"] == 3

    forged = conforms(client.post(VERIFY, json={"url": forge(issued[1])}), method="post")
    assert (forged["verdict"], forged["reason"]) == ("not_genuine", "bad_signature")
    assert forged["reason_explanation"] and forged["brand"] is None
    assert forged["code"]["gtin"] == "09506000134352" and forged["batch"] is None


def test_suspicious_copy_lists_its_patterns(client, conforms, issued):
    for network in range(8):  # one code from eight places: a copied label
        response = client.get(
            VERIFY,
            query_string={"url": issued[5]},
            environ_base={"REMOTE_ADDR": f"198.{network}.51.7"},
        )
    body = conforms(response)
    assert body["verdict"] == "suspicious_copy" and "many_networks" in body["patterns"]
    assert len(body["pattern_explanations"]) == len(body["patterns"])
    assert body["reason"] == body["patterns"][0]


def test_recalled_batch_shows_the_notice(db, demo, client, conforms, issued):
    with db.sessions.begin() as session:
        batch = session.merge(demo.batch)
        batch.status = BatchStatus.RECALLED
        batch.notice = {"en": "Return it to the shop."}
    body = conforms(client.get(VERIFY, query_string={"url": issued[4]}))
    assert body["verdict"] == "batch_recalled" and body["reason"] == "recalled"
    assert body["batch"]["notice"] == "Return it to the shop."
    assert body["batch"]["story"] == {"title": "Harvest 2026", "body": "Picked in October."}


def test_minimal_batch_has_nulls_where_documented(db, client, conforms):
    bare = make_brand(db.sessions, lot="BARE1")
    issuance.issue(db.sessions, bare.batch.id, 1, PASSPHRASE)
    with db.sessions() as session:
        batch = session.merge(bare.batch)
        url = next(url for _s, url, _p in batch_urls(session, batch, "http://x"))
    body = conforms(client.get(VERIFY, query_string={"url": url}))
    assert body["verdict"] == "genuine_first_scan"
    assert body["brand"]["contact"] is None
    assert body["batch"]["origin"] is None and body["batch"]["story"] is None
    assert body["batch"]["production_date"] is None and body["batch"]["documents"] == []


@pytest.mark.parametrize(
    "url",
    [
        "not a code",
        "/01/09506000134352/10/L2401A/21/X",
        "/01/09506000134353/10/L2401A/21/X?S=1.ABCDE." + "A" * 103,
        "https://tm.example.com/01/%00/10/x/21/y?S=1.A.B",
        "/01/\u4e2d/10/x/21/y?S=1.A.B",
        "../../etc/passwd\x00",
    ],
)
def test_malformed_url_is_a_not_genuine_verdict(client, conforms, url):
    response = client.post(VERIFY, json={"url": url})
    assert response.status_code == 200
    body = conforms(response, method="post")
    assert body["verdict"] == "not_genuine" and body["reason"].startswith("malformed:")
    assert body["reason_explanation"]
    assert body["code"] is None and body["batch"] is None and body["scans"] is None


@pytest.mark.parametrize(
    ("method", "kwargs", "error"),
    [
        ("get", {}, "missing_url"),
        ("get", {"query_string": {"url": ""}}, "missing_url"),
        ("post", {}, "missing_url"),
        ("post", {"json": {"url": 5}}, "missing_url"),
        ("post", {"json": ["x"]}, "missing_url"),
        ("post", {"data": b"{", "content_type": "application/json"}, "missing_url"),
        ("get", {"query_string": {"url": "x" * 513}}, "url_too_long"),
        ("post", {"json": {"url": "x" * 513}}, "url_too_long"),
    ],
)
def test_bad_requests_have_the_error_schema(client, conforms, method, kwargs, error):
    response = getattr(client, method)(VERIFY, **kwargs)
    assert response.status_code == 400
    assert conforms(response, method=method)["error"] == error


def test_rate_limited_answer_has_the_error_schema(settings, conforms, issued):
    app = create_app(replace(settings, scan_rate_limit="1/day"), {"TESTING": True})
    try:
        client = app.test_client()
        allowed = client.get(VERIFY, query_string={"url": issued[2]})
        assert allowed.status_code == 200 and "Retry-After" not in allowed.headers
        limited = client.get(VERIFY, query_string={"url": issued[2]})
        assert limited.status_code == 429
        assert conforms(limited)["error"] == "too_many_requests"
        assert 0 < int(limited.headers["Retry-After"]) <= 24 * 3600 + 1  # the window, rounded up
        assert conforms(client.post(VERIFY, json={"url": "x"}), method="post")["error"] == (
            "too_many_requests"
        )
    finally:
        close(app)


def test_degraded_verdicts_conform(client, conforms, issued, monkeypatch):
    client.get(VERIFY, query_string={"url": issued[3]})  # the key is known from now on

    def unavailable(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("tracemark.scanning.lookup.scan_code", unavailable)
    body = conforms(client.post(VERIFY, json={"url": issued[3]}), method="post")
    assert body["verdict"] == "genuine_signature_unchecked" and body["degraded"] is True
    unknown = issued[3].replace(f"?S=1.{_kid_of(issued[3])}.", "?S=1.ZZZZZZZZ.")
    body = conforms(client.post(VERIFY, json={"url": unknown}), method="post")
    assert body["verdict"] == "verification_unavailable" and body["degraded"] is True


KEYS = "/.well-known/tracemark/keys.json"


def _revoked_brand_code(db) -> tuple[str, str]:
    """A brand whose key is revoked, and one code it had issued: (kid, code URL)."""
    revoked = make_brand(db.sessions, lot="REV1")
    issuance.issue(db.sessions, revoked.batch.id, 1, PASSPHRASE)
    with db.sessions.begin() as session:
        keystore.revoke_key(session, keystore.get_key(session, revoked.kid), "leaked")
        batch = session.merge(revoked.batch)
        url = next(url for _s, url, _p in batch_urls(session, batch, "http://x"))
    return revoked.kid, url


def test_revoked_key_verdict_and_key_set(db, client, conforms, issued):
    kid, url = _revoked_brand_code(db)
    assert conforms(client.get(VERIFY, query_string={"url": url}))["verdict"] == "revoked_key"

    response = client.get(KEYS)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    by_kid = {key["kid"]: key for key in conforms(response, KEYS)["keys"]}
    assert by_kid[kid]["tm_status"] == "revoked" and "tm_revoked_at" in by_kid[kid]
    active = by_kid[_kid_of(issued[0])]
    assert active["tm_status"] == "active" and "tm_revoked_at" not in active
    assert active["tm_brand"].startswith("brand-")


def test_timestamps_have_an_offset(db, client, spec, registry, issued):
    """``journey[].time`` and ``tm_revoked_at`` are RFC 3339 date-times, on every backend
    (SQLite returns naive datetimes: they must be given their UTC offset)."""
    _revoked_brand_code(db)
    journey = client.get(VERIFY, query_string={"url": issued[4]})
    errors = schema_errors(spec, registry, journey, VERIFY)
    errors += schema_errors(spec, registry, client.get(KEYS), KEYS)
    assert not errors, "\n".join(errors)


def _kid_of(path: str) -> str:
    return path.split("?S=1.")[1].split(".")[0]
