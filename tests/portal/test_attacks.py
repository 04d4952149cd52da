"""Attacks on the public side: scan pollution, serial guessing, a leaked key."""

from __future__ import annotations

import base64
import itertools
import random
from dataclasses import replace

import pytest

from signing.codes import new_serial
from tests.conftest import PASSPHRASE
from tracemark.app import close, create_app
from tracemark.codes import issuance, keystore
from tracemark.codes.keycache import KeyCache
from tracemark.codes.printing import batch_urls
from tracemark.db import make_scan_engine, make_sessionmaker
from tracemark.models import Unit
from tracemark.scanning.lookup import scan
from tracemark.scanning.scans import Client, Verdict


@pytest.fixture
def codes(db, demo) -> list[str]:
    issuance.issue(db.sessions, demo.batch.id, 200, PASSPHRASE)
    with db.sessions() as session:
        return [url for _s, url, _p in batch_urls(session, session.merge(demo.batch), "http://x")]


@pytest.mark.slow
def test_ten_thousand_rescans_from_one_network_never_mark_a_copy(db, codes):
    """One attacker, one network, a new user agent and address each time: volume without
    spread. Run through the scan flow the portal uses, on its scan pool."""
    engine = make_scan_engine(db.engine)
    sessions, keys = make_sessionmaker(engine), KeyCache()
    verdicts = set()
    try:
        for i in range(10_000):
            client = Client(ip=f"203.0.113.{i % 254 + 1}", user_agent=f"scanner/{i}", locale="en")
            result = scan(sessions, codes[0], client, secret=b"s", keys=keys, locale="en")
            verdicts.add(result.outcome.verdict)
    finally:
        if engine is not db.engine:
            engine.dispose()
    assert verdicts == {Verdict.GENUINE_FIRST_SCAN, Verdict.GENUINE_SCANNED_BEFORE}
    assert result.outcome.scan_count == 10_000


def _with_serial(url: str, serial: str) -> str:
    head, tail = url.split("/21/")
    return f"{head}/21/{serial}?{tail.split('?', 1)[1]}"


@pytest.mark.slow  # hundreds of guesses
def test_guessing_serials_finds_nothing_and_is_throttled(settings, codes):
    """Another unit's serial under a known code's signature never verifies: not random
    guesses, not neighbours of a real serial. And an enumerator soon hits the limit."""
    genuine = codes[0]
    serial = genuine.split("/21/")[1].split("?")[0]
    number = int.from_bytes(base64.b32decode(serial + "==="), "big")
    neighbours = [
        base64.b32encode((number + step).to_bytes(8, "big")).decode()[:13]
        for step in range(-50, 51)
        if step
    ]
    guesses = [new_serial() for _ in range(300)] + neighbours + [codes[1].split("/21/")[1][:13]]
    app = create_app(replace(settings, scan_rate_limit="100000/day"), {"TESTING": True})
    try:
        client = app.test_client()
        for guess in guesses:
            url = _with_serial(genuine, guess)
            answer = client.get("/api/v1/verify", query_string={"url": url})
            assert answer.status_code == 200, guess
            assert (answer.json["verdict"], answer.json["reason"]) == (
                "not_genuine",
                "bad_signature",
            )
    finally:
        close(app)
    app = create_app(settings, {"TESTING": True})  # the default budget: 60 a minute
    try:
        client = app.test_client()
        statuses = [
            client.get("/api/v1/verify", query_string={"url": _with_serial(genuine, guess)})
            for guess in guesses[:61]
        ]
        assert [answer.status_code for answer in statuses].count(429) >= 1
    finally:
        close(app)


def test_issued_serials_follow_no_pattern(db, demo, codes):
    """Knowing one code tells nothing about the next: consecutive serials of a job share
    no prefix worth guessing (64 random bits each)."""
    with db.sessions() as session:
        units = session.query(Unit).filter_by(batch_id=demo.batch.id).order_by(Unit.seq)
        serials = [unit.serial for unit in units]
    numbers = [int.from_bytes(base64.b32decode(s + "==="), "big") for s in serials]
    assert len(set(numbers)) == len(numbers) == 200
    assert all(a >> 32 != b >> 32 for a, b in itertools.pairwise(numbers))
    assert len({n % 1000 for n in random.sample(numbers, 100)}) > 80  # no common stride


def test_a_leaked_key_revoked_flags_its_codes_at_the_next_request(client, db, demo, codes):
    assert client.get("/api/v1/verify", query_string={"url": codes[0]}).json["verdict"] == (
        "genuine_first_scan"
    )
    with db.sessions.begin() as session:  # the owner revokes it, elsewhere (CLI, admin)
        key = keystore.get_key(session, demo.kid)
        keystore.revoke_key(session, key, "private key leaked")
    for url in (codes[0], codes[1]):  # scanned before, and never scanned
        answer = client.get("/api/v1/verify", query_string={"url": url})
        assert answer.json["verdict"] == "revoked_key", url
    keys = client.get("/.well-known/tracemark/keys.json").json["keys"]
    assert {k["kid"]: k["tm_status"] for k in keys}[demo.kid] == "revoked"
