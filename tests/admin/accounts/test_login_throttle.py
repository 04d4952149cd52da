"""Sign-in throttling: per address and network with exponential backoff, an account-wide
ceiling that a known device or a correct second factor passes, every refusal
indistinguishable from a wrong password."""

from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from sqlalchemy import update

from admin.auth import DEVICE_COOKIE
from tests.helpers.admin import audit_actions, code_at, enrol, error_of, login, send_code
from tracemark.accounts import login_throttle
from tracemark.accounts import users as accounts
from tracemark.accounts.login_throttle import Attempt, Gate, KnownDevice, Policy
from tracemark.models import LoginThrottle

WRONG = "The email address or the password is not correct."


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def network(n: int) -> str:
    """An address in the n-th of many /24 networks."""
    return f"198.{18 + n // 250}.{n % 250}.7"


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(app, people):
    for n in range(12):  # more failures than the per-network allowance, spread out
        assert error_of(login(from_address(app, network(n)), people.owner, "wrong!!")) == WRONG
    owner = from_address(app, "203.0.113.20")
    assert login(owner, people.owner).status_code == 302
    assert owner.get("/admin/").status_code == 200


def test_failures_from_one_network_lock_that_network_only(app, people):
    for host in range(5):  # different hosts of one /24
        login(from_address(app, f"192.0.2.{host + 1}"), people.owner, "wrong password!!")
    refused = login(from_address(app, "192.0.2.200"), people.owner)  # the right password
    assert refused.status_code == 200 and error_of(refused) == WRONG
    # the same address from another network, and another address from this one, sign in
    assert login(from_address(app, "203.0.113.9"), people.owner).status_code == 302
    assert login(from_address(app, "192.0.2.201"), people.staff).status_code == 302


def test_ipv6_clients_are_counted_per_64(app, people):
    for host in range(5):
        login(from_address(app, f"2001:db8:1:2::{host + 1}"), people.owner, "wrong password!!")
    assert error_of(login(from_address(app, "2001:db8:1:2:ffff::9"), people.owner)) == WRONG
    assert login(from_address(app, "2001:db8:1:3::1"), people.owner).status_code == 302


def test_the_networks_of_client_addresses():
    assert login_throttle.network_of("192.0.2.77") == "192.0.2.0/24"
    assert login_throttle.network_of("::ffff:192.0.2.77") == "192.0.2.0/24"
    assert login_throttle.network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert login_throttle.network_of("fe80::1%eth0") == "fe80::/64"
    assert login_throttle.network_of(None) == login_throttle.network_of("junk") == "unknown"


def test_the_backoff_doubles_is_capped_and_is_forgotten(db):
    policy = Policy(
        free=3,
        backoff=dt.timedelta(seconds=30),
        max_lock=dt.timedelta(minutes=2),
        forget=dt.timedelta(hours=24),
        ceiling=1000,
    )
    attempt = Attempt.of(f"Someone-{secrets.token_hex(4)}@Example.com", "192.0.2.1", None)
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    at = lambda seconds: start + dt.timedelta(seconds=seconds)  # noqa: E731
    with db.sessions.begin() as session:
        assert login_throttle.record_failure(session, attempt, policy, at(0)) is Gate.OPEN
        assert login_throttle.record_failure(session, attempt, policy, at(1)) is Gate.OPEN
        assert login_throttle.record_failure(session, attempt, policy, at(2)) is Gate.BACKOFF
        assert login_throttle.gate(session, attempt, at(31.9)) is Gate.BACKOFF
        # an attempt during the lock is not counted and does not extend it
        assert login_throttle.record_failure(session, attempt, policy, at(20)) is Gate.BACKOFF
        assert login_throttle.gate(session, attempt, at(32)) is Gate.OPEN
        # the next failure locks for twice as long, then four times, then the cap
        login_throttle.record_failure(session, attempt, policy, at(32))
        assert login_throttle.gate(session, attempt, at(91.9)) is Gate.BACKOFF
        assert login_throttle.gate(session, attempt, at(92)) is Gate.OPEN
        login_throttle.record_failure(session, attempt, policy, at(92))
        assert login_throttle.gate(session, attempt, at(211.9)) is Gate.BACKOFF
        login_throttle.record_failure(session, attempt, policy, at(212))
        assert login_throttle.gate(session, attempt, at(331.9)) is Gate.BACKOFF
        assert login_throttle.gate(session, attempt, at(332)) is Gate.OPEN  # capped at 2 min
        # another network of the same address was never slowed
        elsewhere = Attempt.of(attempt.email, "203.0.113.1", None)
        assert login_throttle.gate(session, elsewhere, at(100)) is Gate.OPEN
        # a day after the streak began it is forgotten: the allowance is back
        day = 24 * 3600 + 1
        assert login_throttle.record_failure(session, attempt, policy, at(day)) is Gate.OPEN
        login_throttle.record_failure(session, attempt, policy, at(day + 1))
        assert login_throttle.record_failure(session, attempt, policy, at(day + 2)) is Gate.BACKOFF
        login_throttle.succeeded(session, attempt)
        assert login_throttle.gate(session, attempt, at(day + 3)) is Gate.OPEN


def test_the_account_wide_ceiling_counts_every_network(db):
    policy = Policy(free=100, ceiling=3, ceiling_window=dt.timedelta(minutes=10))
    email = f"someone-{secrets.token_hex(4)}@example.com"
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    at = lambda minutes: start + dt.timedelta(minutes=minutes)  # noqa: E731
    device = KnownDevice("device-1", frozenset({login_throttle.account_tag(email)}))
    with db.sessions.begin() as session:
        for n, address in enumerate(("192.0.2.1", "198.51.100.1", "203.0.113.1")):
            gate = login_throttle.record_failure(
                session, Attempt.of(email, address, None), policy, at(n)
            )
        assert gate is Gate.CEILING
        assert (
            login_throttle.gate(session, Attempt.of(email, "10.9.9.9", None), at(5)) is Gate.CEILING
        )
        known = Attempt.of(email, "10.9.9.9", device)
        assert known.known_device and login_throttle.gate(session, known, at(5)) is Gate.OPEN
        # a device known for another address is not known for this one
        other = KnownDevice("device-1", frozenset({login_throttle.account_tag("x@example.com")}))
        assert not Attempt.of(email, "10.9.9.9", other).known_device
        assert (
            login_throttle.gate(session, Attempt.of(email, "10.9.9.9", None), at(63)) is Gate.OPEN
        )


def _ceiling_reached(app, email: str, failures: int = 4) -> None:
    app.config["TRACEMARK_ACCOUNT_CEILING_FAILURES"] = failures
    for n in range(failures):
        login(from_address(app, network(100 + n)), email, "wrong password!!")


def test_past_the_ceiling_a_password_alone_from_a_new_device_is_refused(app, people, db):
    _ceiling_reached(app, people.owner)
    stranger = from_address(app, "203.0.113.50")
    refused = login(stranger, people.owner)  # the right password
    assert refused.status_code == 200 and error_of(refused) == WRONG
    assert stranger.get("/admin/").status_code == 302
    assert DEVICE_COOKIE not in refused.headers.get("Set-Cookie", "")
    assert audit_actions(db, "user.login_failed")[-1].details == {
        "email": people.owner,
        "ceiling": True,
    }
    # another account is not affected
    assert login(from_address(app, "203.0.113.51"), people.staff).status_code == 302


def test_a_known_device_passes_the_ceiling(app, people):
    owner = from_address(app, "203.0.113.60")
    assert login(owner, people.owner).status_code == 302
    assert owner.get_cookie(DEVICE_COOKIE, path="/admin/") is not None
    owner.post("/admin/logout", data={"csrf_token": _token(owner)})
    _ceiling_reached(app, people.owner)
    # the owner's browser, even from another network
    owner.environ_base["REMOTE_ADDR"] = "198.51.100.60"
    assert login(owner, people.owner).status_code == 302
    assert owner.get("/admin/").status_code == 200
    # a forged or altered cookie is no known device
    forger = from_address(app, "198.51.100.61")
    cookie = owner.get_cookie(DEVICE_COOKIE, path="/admin/").value
    forger.set_cookie(
        DEVICE_COOKIE,
        cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1],
        path="/admin/",
    )
    assert error_of(login(forger, people.owner)) == WRONG


def test_a_correct_second_factor_passes_the_ceiling(app, people):
    setup = from_address(app, "203.0.113.70")
    login(setup, people.owner)
    secret, _codes = enrol(setup)
    _ceiling_reached(app, people.owner)
    new_device = from_address(app, "198.51.100.70")
    response = login(new_device, people.owner)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/login/code"
    assert error_of(send_code(new_device, "000000"))  # a wrong code does not
    assert new_device.get("/admin/").status_code == 302
    assert send_code(new_device, code_at(secret, 1)).status_code == 302
    assert new_device.get("/admin/").status_code == 200


def _token(client) -> str:
    from tests.helpers.admin import csrf_token

    return csrf_token(client, "/admin/")


def test_an_unknown_address_is_throttled_the_same_way(app, people):
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    answers = []
    for n in range(7):  # hosts of one network
        for email in (unknown, people.owner):
            response = login(from_address(app, f"192.0.2.{n + 1}"), email, "wrong password!!")
            answers.append((response.status_code, error_of(response)))
    assert set(answers) == {(200, WRONG)}


def test_a_throttled_attempt_costs_one_password_hash_like_any_other(app, people, monkeypatch):
    calls = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "hasher", Counting(time_cost=1, memory_cost=8, parallelism=1))
    app.config["TRACEMARK_LOGIN_FREE_FAILURES"] = 1
    login(from_address(app, "192.0.2.1"), people.owner, "wrong password!!")
    calls.clear()
    login(from_address(app, "192.0.2.2"), people.owner)
    assert len(calls) == 1
    _ceiling_reached(app, people.staff, 2)
    calls.clear()
    login(from_address(app, "203.0.113.80"), people.staff)
    assert len(calls) == 1


def test_the_backoff_expires(app, people, db):
    app.config["TRACEMARK_LOGIN_FREE_FAILURES"] = 2
    for host in range(2):
        login(from_address(app, f"192.0.2.{host + 1}"), people.owner, "wrong password!!")
    assert error_of(login(from_address(app, "192.0.2.10"), people.owner)) == WRONG
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with db.sessions.begin() as session:
        session.execute(update(LoginThrottle).values(locked_until=past))
    assert login(from_address(app, "192.0.2.11"), people.owner).status_code == 302
