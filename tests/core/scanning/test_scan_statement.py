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
from tracemark.scanning.risk import Observation, RiskPolicy, judge
from tracemark.scanning.scan_statement import _policy_defaults, judgement_sql, policy_sql
from tracemark.scanning.scans import Client, Verdict, scan_code

NOW = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)
OVERRIDES = [
    None,
    {},
    {"networks_per_day": 2},
    {"networks_per_day": 2.9, "countries": 1},
    {"devices_per_day": 3, "devices_networks": 1, "travel_hours": 0.5},
    {"stale_days": 30, "travel_hours": 48},
    {"countries": True, "networks_per_day": "2", "stale_days": -1, "devices_per_day": 0},
    {"unknown": 5, "travel_hours": 1e-3},
]


def _case(rng: random.Random) -> dict:
    first = NOW - dt.timedelta(days=rng.choice([0, 1, 29, 31, 364, 366, 800]))
    prev_country = rng.choice([None, "ES", "FR"])
    return {
        "scan_count": rng.choice([1, 2, 3, 50]),
        "first_scan_at": first,
        "devices_today": rng.randint(0, 8),
        "networks_today": rng.randint(0, 6),
        "countries": rng.randint(0, 4),
        "prev_country": prev_country,
        "prev_country_at": None
        if prev_country is None
        else NOW - dt.timedelta(hours=rng.choice([0, 0.25, 1, 5.9, 6, 6.1, 47, 49])),
        "claimed_at": rng.choice([None, NOW - dt.timedelta(days=2)]),
        "claim_device_hash": rng.choice([None, "dev-a", "dev-b"]),
        "new_country": rng.randint(0, 1),
        "country": rng.choice([None, "ES", "FR", "DE"]),
        "device": rng.choice(["dev-a", "dev-b"]),
        "risk_policy": rng.choice(OVERRIDES),
    }


def _python(case: dict) -> list[str]:
    policy = RiskPolicy.from_overrides(case["risk_policy"])
    travelled = (
        case["country"] is not None
        and case["prev_country"] not in (None, case["country"])
        and NOW - case["prev_country_at"] <= dt.timedelta(hours=policy.travel_hours)
    )
    observation = Observation(
        now=NOW,
        first_scan_at=case["first_scan_at"],
        networks_today=case["networks_today"],
        devices_today=case["devices_today"],
        countries_seen=case["countries"],
        other_country_recently=travelled,
        claimed_elsewhere=case["claimed_at"] is not None
        and case["claim_device_hash"] != case["device"],
        new_country_later=bool(case["new_country"]) and case["scan_count"] > 1,
    )
    return judge(observation, policy)


QUERY = f"""
SELECT {judgement_sql()} FROM
  (SELECT %(scan_count)s::int AS scan_count, %(first_scan_at)s::timestamptz AS first_scan_at,
          %(devices_today)s::int AS devices_today, %(networks_today)s::int AS networks_today,
          %(countries)s::int AS countries, %(prev_country)s::text AS prev_country,
          %(prev_country_at)s::timestamptz AS prev_country_at,
          %(claimed_at)s::timestamptz AS claimed_at,
          %(claim_device_hash)s::text AS claim_device_hash) AS s,
  (SELECT {policy_sql()} FROM (SELECT %(risk_policy)s::json AS risk_policy) AS f) AS p,
  (SELECT %(new_country)s::int AS country) AS n
"""


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_the_statements_judgement_is_risk_judge(db):
    rng = random.Random(18)
    cases = [_case(rng) for _ in range(400)]
    raw = db.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        for case in cases:
            parameters = {**case, **_policy_defaults(), "now": NOW}
            parameters["risk_policy"] = json.dumps(case["risk_policy"])
            cursor.execute(QUERY, parameters)
            assert cursor.fetchone()[0] == _python(case), case
    finally:
        raw.close()
    # the sample reaches every pattern, and histories without any
    seen = {pattern for case in cases for pattern in _python(case)}
    assert seen == {
        "many_networks",
        "many_devices",
        "many_countries",
        "impossible_travel",
        "claimed_elsewhere",
        "stale_reappearance",
    }
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
    try:
        first = scan_code(sessions, url, client, secret=b"s", keys=keys, now=NOW)
        assert len(sent) == 1
        again = scan_code(sessions, url, client, secret=b"s", keys=keys, now=NOW)
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
