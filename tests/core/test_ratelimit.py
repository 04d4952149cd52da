"""Rate budgets (tracemark.ratelimit): exact across workers through Redis, one round trip
per request whatever the number of windows, and counting in memory while Redis fails."""

from __future__ import annotations

import secrets
import threading
import time

import pytest
import redis
from redis.connection import Connection

from tracemark.ratelimit import Budgets

URL = "redis://127.0.0.1:6379/12"


@pytest.fixture
def scope() -> str:
    """A scope no other test (or test run sharing this Redis) counts in."""
    return f"test-{secrets.token_hex(6)}"


@pytest.fixture
def budgets() -> Budgets:
    try:
        redis.Redis.from_url(URL).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    return Budgets(URL)


@pytest.fixture
def round_trips(monkeypatch) -> list[int]:
    """How many times a command (or a pipeline of them) was sent to Redis."""
    sent = [0]
    original = Connection.send_packed_command

    def counted(self, command, check_health=True):
        sent[0] += 1
        return original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


def test_every_window_is_spent_in_one_round_trip(budgets, scope, round_trips):
    budgets.spend("1/day", scope, "warm-up")  # the connection is opened outside the count
    round_trips[0] = 0
    limit = "2/minute;3/hour;100/day"
    assert [budgets.spend(limit, scope, "10.0.0.1") for _ in range(2)] == [None, None]
    assert round_trips[0] == 2
    refused = budgets.spend(limit, scope, "10.0.0.1")
    assert round_trips[0] == 3
    assert (refused.amount, refused.GRANULARITY.name) == (2, "minute")
    # the refused request was spent in the longer windows too
    assert budgets.spend(limit, scope, "10.0.0.1").amount == 2
    assert budgets.exhausted("3/hour", scope, "10.0.0.1") is not None
    assert budgets.exhausted("100/day", scope, "10.0.0.1") is None
    # another client has its own budget
    assert budgets.spend(limit, scope, "10.0.0.2") is None


def test_workers_share_one_exact_budget(scope):
    try:
        redis.Redis.from_url(URL).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running")
    workers = [Budgets(URL) for _ in range(3)]
    allowed = []

    def scan(budgets: Budgets) -> None:
        for _ in range(40):
            if budgets.spend("50/hour;70/day", scope, "10.0.0.1") is None:
                allowed.append(1)

    threads = [threading.Thread(target=scan, args=(w,)) for w in workers for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 50  # 480 requests from 12 threads in 3 workers


def test_refusal_says_when_the_window_ends(budgets, scope):
    assert budgets.spend("1/minute", scope, "k") is None
    breached = budgets.spend("1/minute", scope, "k")
    assert 0 < budgets.retry_after(breached, scope, "k") <= 61


def test_a_lost_script_is_loaded_again_and_counted_once(budgets, scope):
    budgets.spend("5/day", scope, "warm-up")
    budgets.storage.lua_incr_expire.sha = "0" * 40  # as if Redis restarted without it
    assert budgets.spend("2/minute;3/day", scope, "k") is None
    assert budgets.spend("2/minute;3/day", scope, "k") is None
    assert budgets.spend("2/minute;3/day", scope, "k") is not None


def test_without_redis_each_worker_counts_in_memory_then_probes_redis(scope, monkeypatch):
    budgets = Budgets("redis://127.0.0.1:1/0")  # nothing listens there
    assert [budgets.spend("2/day", scope, "k") is None for _ in range(3)] == [True, True, False]
    assert budgets._probe_at is not None
    # the next probe of Redis is due: it fails again, and the pause doubles
    monkeypatch.setattr(budgets, "_probe_at", time.monotonic() - 1)
    assert budgets.spend("2/day", scope, "k") is not None
    assert budgets._backoff == 2.0


def test_without_a_redis_url_counters_are_in_memory(scope):
    budgets = Budgets(None)
    assert [budgets.spend("1/minute;5/day", scope, "k") is None for _ in range(2)] == [True, False]
