import datetime as dt
import threading

import pytest
from sqlalchemy import select

from tests.conftest import PASSPHRASE, forge
from tracemark.codes import issuance, pins
from tracemark.codes.printing import batch_urls
from tracemark.codes.verify import check_url
from tracemark.models import BatchStatus, ScanEvent, UnitScanMark, UnitScanState
from tracemark.scanning.counting import WINDOW_DAYS, owner_hash
from tracemark.scanning.scans import Client, Verdict, network_of, place_of, scan_code

SECRET = b"scan-secret"
#: In the past, with room: scans dated after the rollups' clock would hold them back.
T0 = dt.datetime(2026, 8, 25, 9, tzinfo=dt.UTC)


@pytest.fixture
def urls(db, demo):
    issuance.issue(db.sessions, demo.batch.id, 3, PASSPHRASE, with_pin=True)
    with db.sessions() as session:
        return [url for _s, url, _p in batch_urls(session, session.merge(demo.batch), "http://x")]


def _scan(db, url, *, ip="198.51.100.7", ua="phone-a", country=None, now=T0, device=None,
          staff=frozenset()):  # fmt: skip
    client = Client(
        ip=ip,
        user_agent=ua,
        accept_language="en",
        country=country,
        locale="en",
        device_id=device,
        device_known=device is not None,
        staff_brands=staff,
    )
    return scan_code(db.sessions, url, client, secret=SECRET, now=now)


def _serial(url: str) -> str:
    return url.split("/21/")[1].split("?")[0]


def _kinds(db, *outcomes) -> list[str]:
    """The kinds of the events of these outcomes' units, in order."""
    units = {o.check.facts.unit_id for o in outcomes}
    with db.sessions() as session:
        events = session.query(ScanEvent).filter(ScanEvent.unit_id.in_(units))
        return [e.kind for e in events.order_by(ScanEvent.id)]


def test_first_scan_then_a_new_device_day_is_a_scan(db, urls):
    first = _scan(db, urls[0], country="ES", device="phone-one-0000000")
    assert (first.verdict, first.scan_count, first.kind) == (Verdict.GENUINE_FIRST_SCAN, 1, "scan")
    next_day = _scan(
        db, urls[0], country="ES", device="phone-one-0000000", now=T0 + dt.timedelta(days=1)
    )
    assert next_day.verdict is Verdict.GENUINE_SCANNED_BEFORE
    assert (next_day.scan_count, next_day.first_scan_at, next_day.first_country) == (2, T0, "ES")
    other = _scan(db, urls[0], device="phone-two-0000000", now=T0 + dt.timedelta(days=1, hours=1))
    assert (other.scan_count, other.kind) == (3, "scan")


def test_reloads_and_reopens_by_one_device_are_views(db, urls):
    """Reloads, language switches (another locale, same cookie) and opens the same day,
    even from another network, never raise the count a consumer sees."""
    first = _scan(db, urls[0], device="reloading-phone-01")
    again = [
        _scan(db, urls[0], device="reloading-phone-01", ip=ip, now=T0 + dt.timedelta(minutes=m))
        for m, ip in ((1, "198.51.100.7"), (5, "203.0.113.50"), (300, "198.51.100.7"))
    ]
    assert first.verdict is Verdict.GENUINE_FIRST_SCAN
    assert [o.verdict for o in again] == [Verdict.GENUINE_FIRST_SCAN] * 3
    assert [o.scan_count for o in again] == [1, 1, 1]
    assert _kinds(db, first) == ["scan", "view", "view", "view"]
    with db.sessions() as session:
        state = session.get(UnitScanState, first.check.facts.unit_id)
        assert (state.scan_count, state.views) == (1, 3)


def test_a_cookieless_reload_is_a_view_by_its_agent(db, urls):
    """Without a cookie (refused, or an API client) the agent, languages and /24 tell
    a reload apart from another device."""
    assert _scan(db, urls[0]).kind == "scan"
    assert _scan(db, urls[0], now=T0 + dt.timedelta(minutes=1)).kind == "view"
    other = _scan(db, urls[0], ua="phone-b", now=T0 + dt.timedelta(minutes=2))
    assert (other.kind, other.scan_count) == ("scan", 2)


def test_staff_scans_count_nowhere(db, demo, urls):
    staff = frozenset({demo.brand.id})
    checkpoint = _scan(db, urls[0], device="warehouse-scanner1", staff=staff)
    assert (checkpoint.kind, checkpoint.scan_count) == ("staff", 0)
    consumer = _scan(db, urls[0], device="consumer-phone-001", now=T0 + dt.timedelta(days=3))
    assert (consumer.verdict, consumer.scan_count) == (Verdict.GENUINE_FIRST_SCAN, 1)
    assert consumer.first_scan_at == T0 + dt.timedelta(days=3)  # not the staff scan's time
    # a member of another brand is a consumer here
    stranger = _scan(
        db, urls[1], device="other-brand-staff1", staff=frozenset({demo.brand.id + 99})
    )
    assert stranger.kind == "scan"
    assert _kinds(db, consumer) == ["staff", "scan"]
    assert _kinds(db, stranger) == ["scan"]


@pytest.mark.slow  # 300 scans
def test_pollution_from_one_network_never_marks_a_copy(db, urls):
    """Hundreds of devices and agents inside one /16 are one place."""
    outcome = None
    for i in range(300):
        outcome = _scan(
            db,
            urls[1],
            ua=f"agent-{i}",
            ip=f"198.51.{i % 250}.{i % 7}",
            country="FR",
            now=T0 + dt.timedelta(seconds=i),
        )
    assert outcome.verdict is Verdict.GENUINE_SCANNED_BEFORE
    assert outcome.scan_count == 300 and outcome.patterns == []


def test_many_places_from_many_devices_is_suspicious(db, urls):
    outcomes = [
        _scan(
            db,
            urls[2],
            ip=f"203.{n}.7.9",
            device=f"buyer-device-{n:04}",
            now=T0 + dt.timedelta(days=n),
        )
        for n in range(8)
    ]
    assert [o.verdict for o in outcomes[:7]] == [Verdict.GENUINE_FIRST_SCAN] + [
        Verdict.GENUINE_SCANNED_BEFORE
    ] * 6
    assert outcomes[7].verdict is Verdict.SUSPICIOUS_COPY
    assert outcomes[7].patterns == ["many_networks"]


def test_one_device_roaming_adds_one_place(db, urls):
    """A phone on mobile data changes /16 often: it adds one place however far it roams."""
    outcomes = [
        _scan(
            db,
            urls[2],
            ip=f"100.{n}.1.1",
            device="roaming-phone-0001",
            now=T0 + dt.timedelta(days=n),
        )
        for n in range(20)
    ]
    assert all(o.patterns == [] for o in outcomes)
    with db.sessions() as session:
        assert session.get(UnitScanState, outcomes[0].check.facts.unit_id).places == 1


def test_places_are_counted_in_a_sliding_window(db, urls):
    """Places older than the window stop counting: spread over months is no copy."""
    for n in range(6):
        _scan(
            db,
            urls[2],
            ip=f"203.{n}.7.9",
            device=f"early-device-{n:04}",
            now=T0 + dt.timedelta(days=n),
        )
    later = T0 + dt.timedelta(days=2 * WINDOW_DAYS + 1)
    outcomes = [
        _scan(
            db,
            urls[2],
            ip=f"198.{n}.7.9",
            device=f"late-device-{n:04}",
            now=later + dt.timedelta(hours=n),
        )
        for n in range(7)
    ]
    assert all(o.patterns == [] for o in outcomes)
    with db.sessions() as session:
        assert session.get(UnitScanState, outcomes[0].check.facts.unit_id).places == 7


def test_the_window_carries_the_places_just_seen(db, urls):
    """Scans just before a window turns still count just after it."""
    from tracemark.scanning.counting import window_of

    turn = dt.datetime.combine(window_of(T0.date()), dt.time(), dt.UTC) + dt.timedelta(
        days=WINDOW_DAYS
    )
    for n in range(4):
        _scan(
            db,
            urls[2],
            ip=f"203.{n}.7.9",
            device=f"before-turn-{n:05}",
            now=turn - dt.timedelta(hours=4 - n),
        )
    outcomes = [
        _scan(
            db,
            urls[2],
            ip=f"198.{n}.7.9",
            device=f"after-turn-{n:05}",
            now=turn + dt.timedelta(hours=n),
        )
        for n in range(4)
    ]
    assert outcomes[-1].patterns == ["many_networks"]


def test_countries_count_only_with_new_places_within_the_window(db, urls):
    countries = ["DE", "FR", "IT", "ES", "PT", "NL"]
    outcomes = [
        _scan(
            db,
            urls[0],
            country=c,
            ip=f"81.{n}.0.1",
            device=f"traveller-{n:07}",
            now=T0 + dt.timedelta(days=n),
        )
        for n, c in enumerate(countries)
    ]
    assert outcomes[-1].patterns == ["many_countries"]
    # one network claiming many countries adds one
    more = [
        _scan(
            db,
            urls[1],
            country=c,
            ip="81.0.0.1",
            device=f"spoofer-{n:08}",
            now=T0 + dt.timedelta(hours=n),
        )
        for n, c in enumerate(countries * 3)
    ]
    assert all(o.patterns == [] for o in more)


def test_no_raw_address_is_stored(db, urls):
    _scan(
        db, urls[0], ip="198.51.100.77", ua="Mozilla/5.0 secret-agent", device="private-device-0001"
    )
    with db.sessions() as session:
        event = session.query(ScanEvent).order_by(ScanEvent.id.desc()).first()
        stored = " ".join(str(v) for v in vars(event).values())
        marks = " ".join(session.scalars(select(UnitScanMark.value)))
    assert "198.51.100" not in stored and "secret-agent" not in stored
    assert "private-device" not in stored + marks
    assert len(event.network_hash) == 32


def test_hashes_rotate_daily(db, urls):
    _scan(db, urls[0], now=T0)
    _scan(db, urls[0], now=T0 + dt.timedelta(days=1))
    with db.sessions() as session:
        hashes = [e.network_hash for e in session.query(ScanEvent).order_by(ScanEvent.id)][-2:]
    assert hashes[0] != hashes[1]


def test_network_is_the_24_or_48_prefix_and_place_the_16_or_32():
    assert network_of("198.51.100.77") == "198.51.100.0/24"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("garbage") == network_of(None) == "unknown"
    assert place_of("198.51.100.77") == "198.51.0.0/16"
    assert place_of("::ffff:198.51.100.77") == "198.51.0.0/16"
    assert place_of("2001:db8:1:2::5") == "2001:db8::/32"


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


def _claimant(url: str, device: str, ip: str = "198.51.100.7") -> pins.Claimant:
    return pins.Claimant(owner_hash(SECRET, _serial(url), device), "net|" + ip.rsplit(".", 1)[0],
                         "place|" + ip.rsplit(".", 2)[0])  # fmt: skip


def test_the_owner_is_never_claimed_elsewhere_and_others_see_the_claim(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    right = pins.pin_for(key, _serial(urls[0]))
    _scan(db, urls[0], device="owner-phone-000001")
    with db.sessions.begin() as session:
        unit = check_url(session, urls[0]).facts
        done = pins.claim(
            session, unit, right, _claimant(urls[0], "owner-phone-000001"), key, now=T0
        )
        assert done.status is pins.ClaimStatus.CLAIMED
    # the owner's phone on mobile data, abroad, days later: theirs, never a copy
    for n in range(12):
        mine = _scan(db, urls[0], device="owner-phone-000001", ip=f"10.{n}.3.4", country="PT",
                     now=T0 + dt.timedelta(days=n + 1))  # fmt: skip
        assert mine.owner and mine.patterns == [] and mine.verdict is Verdict.GENUINE_SCANNED_BEFORE
    other = _scan(db, urls[0], device="shopper-phone-0001", now=T0 + dt.timedelta(days=20))
    assert (other.owner, other.claimed_at, other.patterns) == (False, T0, [])
    assert other.verdict is Verdict.GENUINE_SCANNED_BEFORE
    # the owner adds a second phone by entering the PIN on it
    with db.sessions.begin() as session:
        added = pins.claim(session, unit, right, _claimant(urls[0], "owner-tablet-00001"), key)
        assert (added.status, added.claimed_at) == (pins.ClaimStatus.DEVICE_ADDED, T0)
    assert _scan(db, urls[0], device="owner-tablet-00001", now=T0 + dt.timedelta(days=21)).owner


def test_wrong_pins_from_strangers_never_lock_out_the_buyer(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    right = pins.pin_for(key, _serial(urls[1]))
    wrong = "1" * 8 if right != "1" * 8 else "2" * 8
    with db.sessions.begin() as session:
        unit = check_url(session, urls[1]).facts
        # strangers from 30 networks in 30 places
        for n in range(30):
            pins.claim(
                session,
                unit,
                wrong,
                _claimant(urls[1], f"stranger-{n:09}", f"203.{n}.0.1"),
                key,
                now=T0,
            )
        # the buyer at home, with the right PIN, right now
        buyer = pins.claim(
            session, unit, right, _claimant(urls[1], "buyer-phone-00001"), key, now=T0
        )
        assert buyer.status is pins.ClaimStatus.CLAIMED


def test_wrong_pins_back_off_per_network_and_per_unit(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    right = pins.pin_for(key, _serial(urls[1]))
    wrong = "1" * 8 if right != "1" * 8 else "2" * 8
    me = _claimant(urls[1], "guessing-phone-001")
    with db.sessions.begin() as session:
        unit = check_url(session, urls[1]).facts
        first = pins.claim(session, unit, wrong, me, key, now=T0)
        assert (first.status, first.attempts_left) == (pins.ClaimStatus.WRONG_PIN, 2)
        pins.claim(session, unit, wrong, me, key, now=T0)
        third = pins.claim(session, unit, wrong, me, key, now=T0)
        assert third.status is pins.ClaimStatus.LOCKED
        assert third.retry_at == T0 + pins.NETWORK_BACKOFF
        # even the right PIN waits, from this network
        held = pins.claim(session, unit, right, me, key, now=T0 + dt.timedelta(seconds=30))
        assert held.status is pins.ClaimStatus.LOCKED
        # the wait doubles
        later = T0 + pins.NETWORK_BACKOFF
        assert (
            pins.claim(session, unit, wrong, me, key, now=later).retry_at
            == later + 2 * pins.NETWORK_BACKOFF
        )
        # the unit's own budget: many failing networks make the failing ones wait
        for n in range(pins.UNIT_FREE):
            pins.claim(
                session,
                unit,
                wrong,
                _claimant(urls[1], f"bot-{n:012}", f"198.18.{n}.1"),
                key,
                now=later,
            )
        bot = _claimant(urls[1], "bot-000000000000", "198.18.0.1")
        assert (
            pins.claim(session, unit, right, bot, key, now=later).status is pins.ClaimStatus.LOCKED
        )
        # a place nobody failed from is not held by the unit's wait
        fresh = _claimant(urls[1], "buyer-phone-00002", "192.0.2.1")
        assert (
            pins.claim(session, unit, right, fresh, key, now=later).status
            is pins.ClaimStatus.CLAIMED
        )


def test_backoff_doubles_up_to_its_cap():
    base, cap = dt.timedelta(minutes=1), dt.timedelta(days=1)
    assert pins.backoff(2, 3, base, cap) == dt.timedelta(0)
    assert [pins.backoff(n, 3, base, cap).total_seconds() for n in (3, 4, 5)] == [60, 120, 240]
    assert pins.backoff(400, 3, base, cap) == cap


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
                        device=f"thread-{n:03}-device-{i}",
                        ip=f"198.{n}.100.1",
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
        assert state.places == threads  # one place per /16, however many devices raced


def test_the_first_claim_explains_the_places_seen_before_it(db, demo, urls):
    key = pins.brand_pin_key("pin-secret", demo.brand.id)
    for n in range(6):  # shoppers and the buyer, before the claim
        _scan(
            db,
            urls[2],
            ip=f"203.{n}.7.9",
            device=f"shop-device-{n:05}",
            now=T0 + dt.timedelta(hours=n),
        )
    with db.sessions.begin() as session:
        unit = check_url(session, urls[2]).facts
        claimant = _claimant(urls[2], "shop-device-00005", "203.5.7.9")
        pins.claim(session, unit, pins.pin_for(key, _serial(urls[2])), claimant, key, now=T0)
    later = [
        _scan(
            db,
            urls[2],
            ip=f"198.{n}.7.9",
            device=f"later-device-{n:04}",
            now=T0 + dt.timedelta(days=1, hours=n),
        )
        for n in range(8)
    ]
    assert [o.patterns for o in later[:7]] == [[]] * 7
    assert later[7].patterns == ["many_networks"]  # copies after the claim still show


def test_a_view_writes_no_window_marks(db, urls):
    """Reloads are the commonest request: they add a day-mark probe, nothing more."""
    first = _scan(db, urls[0], device="mark-counting-0001", country="ES")

    def marks() -> int:
        with db.sessions() as session:
            query = select(UnitScanMark).where(UnitScanMark.unit_id == first.check.facts.unit_id)
            return len(session.scalars(query).all())

    assert marks() == 1 + 6  # the device today; device, place, country for two windows
    _scan(
        db, urls[0], device="mark-counting-0001", ip="203.0.113.9", now=T0 + dt.timedelta(minutes=3)
    )
    assert marks() == 7
