"""The PostgreSQL scan statement judges exactly as :func:`risk.judge` does.

The scan tests (``test_scans.py``) run the same scans through the one statement on
PostgreSQL and through the multi-statement path on SQLite; here the statement's
judgement and policy reading are compared with the Python ones over many random
histories and brand overrides, corner cases included.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import psycopg
import pytest
from sqlalchemy import event, select

from tests.conftest import PASSPHRASE, forge
from tracemark.codes import issuance
from tracemark.codes.keycache import KeyCache
from tracemark.codes.keystore import load_keyring
from tracemark.codes.printing import batch_urls
from tracemark.db import make_scan_engine, make_sessionmaker
from tracemark.models import ScanEvent
from tracemark.scanning.counting import is_owner
from tracemark.scanning.risk import PATTERNS, Observation, RiskPolicy, judge
from tracemark.scanning.scan_statement import _policy_defaults, judgement_sql, policy_sql
from tracemark.scanning.scans import Client, Verdict, scan_code

NOW = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
OVERRIDES = [
    None,
    {},
    {"places": 2},
    {"places": 2.9, "countries": 1},
    {"countries": 0.5, "places": 1e9},
    {"countries": True, "places": "2", "networks_per_day": 1},
    {"unknown": 5, "places": -3},
]


def _case(rng: random.Random) -> dict:
    return {
        "places": rng.randint(0, 10),
        "countries": rng.randint(0, 5),
        "owner_devices": rng.choice([None, "", " dev-a ", " dev-b dev-c "]),
        "owner": rng.choice(["dev-a", "dev-b", "dev-c"]),
        "risk_policy": rng.choice(OVERRIDES),
    }


def _python(case: dict) -> list[str]:
    policy = RiskPolicy.from_overrides(case["risk_policy"])
    owner = is_owner(case["owner_devices"], case["owner"])
    return judge(Observation(case["places"], case["countries"], owner), policy)


QUERY = f"""
SELECT {judgement_sql()} FROM
  (SELECT %(places)s::int AS places, %(countries)s::int AS countries,
          %(owner_devices)s::text AS owner_devices) AS s,
  (SELECT {policy_sql()} FROM (SELECT %(risk_policy)s::json AS risk_policy) AS f) AS p
"""


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_the_statements_judgement_is_risk_judge(db):
    rng = random.Random(18)
    cases = [_case(rng) for _ in range(400)]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        for case in cases:
            parameters = {**case, **_policy_defaults()}
            parameters["risk_policy"] = json.dumps(case["risk_policy"])
            cursor.execute(QUERY, parameters)
            assert cursor.fetchone()[0] == _python(case), case
    finally:
        raw.close()
    # the sample reaches every pattern, the owner's exemption, and histories without any
    seen = {pattern for case in cases for pattern in _python(case)}
    assert seen == set(PATTERNS)
    assert any(_python(case) == [] and case["places"] >= 8 for case in cases)
    assert any(_python(case) == [] for case in cases)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_a_scan_is_one_statement_without_sqlalchemy_execution(db, demo, monkeypatch):
    issuance.issue(db.sessions, demo.batch.id, 1, PASSPHRASE)
    with db.sessions() as session:
        url = next(batch_urls(session, session.merge(demo.batch), "http://x"))[1]
        keys = KeyCache()
        keys.remember_all(load_keyring(session))
    scan_engine = make_scan_engine(db.engine)  # autocommit, no ping: the portal's pool
    sessions = make_sessionmaker(scan_engine)
    scan_engine.connect().close()  # the dialect's first-connection queries, done now
    sent, through_sqlalchemy = [], []
    execute = psycopg.Cursor.execute

    def counted(cursor, query, *args, **kwargs):
        sent.append(query)
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    listener = lambda *args: through_sqlalchemy.append(args[2])  # noqa: E731
    event.listen(scan_engine, "before_cursor_execute", listener)
    client = Client(ip="198.51.100.7", user_agent="phone", locale="en")
    other = Client(ip="203.0.113.7", user_agent="tablet", locale="en")
    try:
        first = scan_code(sessions, url, client, secret=b"s", keys=keys, now=NOW)
        assert len(sent) == 1
        again = scan_code(sessions, url, other, secret=b"s", keys=keys, now=NOW)
        assert len(sent) == 2
        forged = scan_code(sessions, forge(url), client, secret=b"s", keys=keys, now=NOW)
        assert len(sent) == 3
    finally:
        event.remove(scan_engine, "before_cursor_execute", listener)
        scan_engine.dispose()
    assert through_sqlalchemy == []
    assert (first.verdict, again.verdict) == (
        Verdict.GENUINE_FIRST_SCAN,
        Verdict.GENUINE_SCANNED_BEFORE,
    )
    assert (forged.verdict, forged.reason) == (Verdict.NOT_GENUINE, "bad_signature")
    with db.sessions() as session:
        events = session.scalars(select(ScanEvent.verdict).order_by(ScanEvent.id.desc()).limit(3))
        assert list(events) == ["not_genuine", "genuine_scanned_before", "genuine_first_scan"]
