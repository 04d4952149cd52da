import datetime as dt
import threading

import pytest

from tests.conftest import PASSPHRASE, forge
from tracemark.codes import issuance, pins
from tracemark.codes.printing import batch_urls
from tracemark.codes.verify import check_url
from tracemark.models import BatchStatus, ScanEvent, UnitScanState
from tracemark.scanning.scans import Client, Verdict, network_of, scan_code

SECRET = b"scan-secret"
T0 = dt.datetime(2026, 11, 25, 9, tzinfo=dt.UTC)


@pytest.fixture
def urls(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE, with_pin=True)
    with db.sessions() as session:
        return [url for _s, url, _p in batch_urls(session, session.merge(demo.batch), "http://x")]


def _scan(db, url, *, ip="198.51.100.7", ua="phone-a", country=None, now=T0):
    client = Client(ip=ip, user_agent=ua, accept_language="en", country=country, locale="en")
    return scan_code(db.sessions, url, client, secret=SECRET, now=now)


def test_first_then_repeat_scan(db, urls):
    first = _scan(db, urls[0], country="ES")
    assert (first.verdict, first.scan_count) == (Verdict.GENUINE_FIRST_SCAN, 1)
    again = _scan(db, urls[0], country="ES", now=T0 + dt.timedelta(hours=1))
    assert again.verdict is Verdict.GENUINE_SCANNED_BEFORE
    assert (again.scan_count, again.first_scan_at, again.first_country) == (2, T0, "ES")


@pytest.mark.slow  # 300 scans
def test_scan_pollution_from_one_network_never_marks_a_copy(db, urls):
    outcome = None
    for i in range(300):
        outcome = _scan(
            db,
            urls[1],
            ua=f"agent-{i}",
            ip=f"198.51.100.{i % 250}",
            country="FR",
            now=T0 + dt.timedelta(seconds=i),
        )
    assert outcome.verdict is Verdict.GENUINE_SCANNED_BEFORE
    assert outcome.scan_count == 300


def test_many_networks_in_a_day_is_suspicious(db, urls):
    verdicts = [
        _scan(db, urls[2], ip=f"203.0.{n}.9", ua=f"p{n}", now=T0 + dt.timedelta(minutes=n)).verdict
        for n in range(4)
    ]
    assert verdicts[:3] == [Verdict.GENUINE_FIRST_SCAN] + [Verdict.GENUINE_SCANNED_BEFORE] * 2
    assert verdicts[3] is Verdict.SUSPICIOUS_COPY


def test_impossible_travel_is_suspicious(db, urls):
    _scan(db, urls[0], country="DE", ip="192.0.2.1")
    later = _scan(db, urls[0], country="BR", ip="203.0.113.1", now=T0 + dt.timedelta(hours=2))
    assert later.verdict is Verdict.SUSPICIOUS_COPY and later.patterns == ["impossible_travel"]
    much_later = _scan(db, urls[0], country="BR", ip="203.0.113.1", now=T0 + dt.timedelta(days=3))
    assert much_later.verdict is Verdict.GENUINE_SCANNED_BEFORE


def test_no_raw_address_is_stored(db, urls):
    _scan(db, urls[0], ip="198.51.100.77", ua="Mozilla/5.0 secret-agent")
    with db.sessions() as session:
        event = session.query(ScanEvent).order_by(ScanEvent.id.desc()).first()
    stored = " ".join(str(v) for v in vars(event).values())
    assert "198.51.100" not in stored and "secret-agent" not in stored
    assert len(event.network_hash) == 32


def test_hashes_rotate_daily(db, urls):
    _scan(db, urls[0], now=T0)
    _scan(db, urls[0], now=T0 + dt.timedelta(days=1))
    with db.sessions() as session:
        hashes = [e.network_hash for e in session.query(ScanEvent).order_by(ScanEvent.id)][-2:]
    assert hashes[0] != hashes[1]


def test_network_is_the_24_or_48_prefix():
    assert network_of("198.51.100.77") == "198.51.100.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("garbage") == network_of(None) == "unknown"


def test_forged_code_is_recorded_without_a_unit(db, urls):
    outcome = _scan(db, forge(urls[0]))
    assert outcome.verdict is Verdict.NOT_GENUINE
    with db.sessions() as session:
        event = session.query(ScanEvent).order_by(ScanEvent.id.desc()).first()
    assert (event.unit_id, event.verdict, event.reason) == (None, "not_genuine", "bad_signature")


def test_recall_and_hold_take_precedence(db, demo, urls):
    with db.sessions.begin() as session:
        session.merge(demo.batch).status = BatchStatus.RECALLED
    assert _scan(db, urls[0]).verdict is Verdict.BATCH_RECALLED
    with db.sessions.begin() as session:
        session.merge(demo.batch).status = BatchStatus.ON_HOLD
    assert _scan(db, urls[0]).verdict is Verdict.BATCH_ON_HOLD


def test_pin_claim_and_claimed_elsewhere(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    serial = urls[0].split("/21/")[1].split("?")[0]
    right = pins.pin_for(key, serial)
    with db.sessions.begin() as session:
        unit = check_url(session, urls[0]).facts
        wrong = pins.claim(session, unit, "00000000" if right != "00000000" else "1", "dev1", key)
        assert wrong.status is pins.ClaimStatus.WRONG_PIN and wrong.attempts_left == 4
        done = pins.claim(session, unit, right, "dev1", key, now=T0)
        assert done.status is pins.ClaimStatus.CLAIMED
        again = pins.claim(session, unit, right, "dev2", key)
        assert again.status is pins.ClaimStatus.ALREADY_CLAIMED
    other_device = _scan(db, urls[0], ua="someone-else", now=T0 + dt.timedelta(hours=1))
    assert other_device.verdict is Verdict.SUSPICIOUS_COPY
    assert "claimed_elsewhere" in other_device.patterns
    assert other_device.claimed_at == T0


def test_wrong_pins_lock_the_unit(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    serial = urls[1].split("/21/")[1].split("?")[0]
    wrong = "1" * 8 if pins.pin_for(key, serial) != "1" * 8 else "2" * 8
    with db.sessions.begin() as session:
        unit = check_url(session, urls[1]).facts
        results = [pins.claim(session, unit, wrong, "d", key, now=T0).status for _ in range(5)]
        assert results[-1] is pins.ClaimStatus.LOCKED
        right = pins.pin_for(key, serial)
        assert pins.claim(session, unit, right, "d", key, now=T0).status is pins.ClaimStatus.LOCKED
        later = T0 + pins.LOCK_TIME + dt.timedelta(seconds=1)
        assert (
            pins.claim(session, unit, right, "d", key, now=later).status is pins.ClaimStatus.CLAIMED
        )


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_concurrent_scans_of_one_code_count_exactly(db, urls):
    threads, outcomes, errors = 16, [], []
    barrier = threading.Barrier(threads)

    def worker(n):
        try:
            barrier.wait()
            for i in range(5):
                outcomes.append(
                    _scan(
                        db,
                        urls[2],
                        ua=f"t{n}",
                        ip="198.51.100.1",
                        now=T0 + dt.timedelta(milliseconds=n * 10 + i),
                    )
                )
        except Exception as exc:  # surfaced below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    counts = sorted(outcome.scan_count for outcome in outcomes)
    assert counts == list(range(1, threads * 5 + 1))
    assert [o.verdict for o in outcomes].count(Verdict.GENUINE_FIRST_SCAN) == 1
    with db.sessions() as session:
        state = (
            session.query(UnitScanState).filter_by(unit_id=outcomes[0].check.facts.unit_id).one()
        )
        assert state.scan_count == threads * 5


def test_reappearance_in_a_new_country_long_after_is_suspicious(db, urls):
    _scan(db, urls[1], country="ES")
    _scan(db, urls[1], country="ES", now=T0 + dt.timedelta(days=10))
    late = _scan(db, urls[1], country="FR", ip="203.0.113.9", now=T0 + dt.timedelta(days=400))
    assert late.verdict is Verdict.SUSPICIOUS_COPY and late.patterns == ["stale_reappearance"]
    back_home = _scan(db, urls[1], country="ES", now=T0 + dt.timedelta(days=800))
    assert back_home.patterns == []
