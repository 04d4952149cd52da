"""Per-account sign-in throttling: across client addresses, indistinguishable from a wrong
password, and time-limited."""

from __future__ import annotations

import datetime as dt
import secrets

from argon2 import PasswordHasher
from sqlalchemy import update

from tests.helpers.admin import error_of, login
from tracemark.accounts import login_throttle
from tracemark.accounts import users as accounts
from tracemark.models import LoginThrottle

WRONG = "The email address or the password is not correct."


def from_address(app, n: int):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
    return client


def test_failures_from_many_addresses_lock_the_account_with_the_usual_answer(app, people):
    app.config["TRACEMARK_LOGIN_LIMIT"] = "2/day"  # per client: never reached below
    for n in range(5):
        assert error_of(login(from_address(app, n), people.owner, "wrong password!!")) == WRONG
    client = from_address(app, 99)
    refused = login(client, people.owner)  # the right password, from a new address
    assert refused.status_code == 200 and error_of(refused) == WRONG
    assert client.get("/admin/").status_code == 302
    # another account is not affected
    assert login(from_address(app, 98), people.staff).status_code == 302


def test_an_unknown_address_locks_the_same_way(app, people):
    unknown = f"nobody-{secrets.token_hex(4)}@example.com"
    answers = []
    for n in range(6):
        for email in (unknown, people.owner):
            response = login(from_address(app, n), email, "wrong password!!")
            answers.append((response.status_code, error_of(response)))
    assert set(answers) == {(200, WRONG)}


def test_a_locked_account_costs_one_password_hash_like_any_other(app, people, monkeypatch):
    calls = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "hasher", Counting(time_cost=1, memory_cost=8, parallelism=1))
    app.config["TRACEMARK_ACCOUNT_LOCK_FAILURES"] = 1
    login(from_address(app, 1), people.owner, "wrong password!!")
    calls.clear()
    login(from_address(app, 2), people.owner)
    assert len(calls) == 1


def test_the_lock_expires(app, people, db):
    app.config["TRACEMARK_ACCOUNT_LOCK_FAILURES"] = 2
    for n in range(2):
        login(from_address(app, n), people.owner, "wrong password!!")
    assert error_of(login(from_address(app, 10), people.owner)) == WRONG
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with db.sessions.begin() as session:
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == login_throttle._key(people.owner))
            .values(locked_until=past)
        )
    assert login(from_address(app, 11), people.owner).status_code == 302


def test_the_throttle_counts_in_a_window_and_is_never_extended_by_attempts(db):
    policy = login_throttle.Policy(
        failures=3, window=dt.timedelta(minutes=10), lock=dt.timedelta(minutes=15)
    )
    email = f"Someone-{secrets.token_hex(4)}@Example.com"
    start = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    minutes = lambda m: start + dt.timedelta(minutes=m)  # noqa: E731
    with db.sessions.begin() as session:
        assert not login_throttle.record_failure(session, email, policy, minutes(0))
        assert not login_throttle.record_failure(session, email, policy, minutes(5))
        # the window passed: counting starts again
        assert not login_throttle.record_failure(session, email, policy, minutes(11))
        assert not login_throttle.record_failure(session, email, policy, minutes(12))
        assert login_throttle.record_failure(session, email.lower(), policy, minutes(13))
        assert login_throttle.is_locked(session, email, minutes(20))
        # attempts during the lock do not extend it
        assert login_throttle.record_failure(session, email, policy, minutes(27))
        assert login_throttle.is_locked(session, email, minutes(27.9))
        assert not login_throttle.is_locked(session, email, minutes(28))
        assert not login_throttle.record_failure(session, email, policy, minutes(28))
        login_throttle.clear(session, email)
        assert session.get(LoginThrottle, login_throttle._key(email)) is None
