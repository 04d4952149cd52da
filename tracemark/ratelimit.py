"""Per-client rate budgets: fixed windows of the ``limits`` library, one Redis round trip
per request whatever the number of windows.

A budget is a flask-limiter style limit string (``"60/minute;1000/hour"``); each of its
windows is a counter in ``limits``' fixed-window layout (its keys, its ``incr_expire``
script), so :meth:`Budgets.retry_after` and every other ``limits`` tool read the same
counters. What this adds is the batching: the increments of all windows of a request go
to Redis in one pipelined round trip (flask-limiter sends one script call per window and
walks its registry of limits twice per request, which cost a scan more than its own
statement did). Counters live in Redis, shared by every worker and host, and Redis's
atomic increments keep them exact across workers.

A request spends one unit from every window of its budget, refused or not: a client that
keeps knocking after a refusal keeps filling its longer windows, which is what a budget
against guessing and scraping is for.

If Redis fails, each worker counts in memory until Redis answers again (probed with a
growing back-off on the requests that follow), rather than failing requests or dropping
limits altogether.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

#: Seconds a Redis call may take before the worker counts in memory instead.
REDIS_TIMEOUT = 1.0
#: The longest pause between two probes of a failed Redis, seconds.
MAX_BACKOFF = 8.0


@lru_cache(maxsize=64)
def windows(limit: str) -> tuple[RateLimitItem, ...]:
    """The windows of a limit string, parsed once per string."""
    return tuple(parse_many(limit))


class Budgets:
    """The rate budgets of one app: counters in ``storage_uri`` (Redis) or in memory."""

    def __init__(self, storage_uri: str | None) -> None:
        options = {}
        if storage_uri and storage_uri.startswith(("redis", "rediss")):
            options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT}
        self.storage: Storage = storage_from_string(storage_uri or "memory://", **options)
        self._fallback = MemoryStorage()
        self._lock = threading.Lock()
        #: While Redis is failing: when to probe it next, and the pause after that.
        self._probe_at: float | None = None
        self._backoff = 1.0

    # ------------------------------------------------------------------ spending

    def spend(self, limit: str, scope: str, key: str) -> RateLimitItem | None:
        """Spend one unit of every window of ``limit`` for ``key`` in ``scope``; return
        the first window that is now over its amount (the request is refused), or None."""
        items = windows(limit)
        storage = self._storage()
        if storage is self.storage and isinstance(storage, RedisStorage):
            try:
                counts = self._incr_redis(storage, items, scope, key)
            except storage.base_exceptions:
                self._failed()
                return self.spend(limit, scope, key)  # in memory now
            if self._probe_at is not None:
                self._recovered()
        else:
            counts = [storage.incr(item.key_for(key, scope), item.get_expiry()) for item in items]
        return next((item for item, n in zip(items, counts, strict=True) if n > item.amount), None)

    def exhausted(self, limit: str, scope: str, key: str) -> RateLimitItem | None:
        """The first window of ``limit`` that ``key`` has used up in ``scope`` (nothing is
        spent), or None."""
        limiter = self._limiter()
        return next((item for item in windows(limit) if not limiter.test(item, key, scope)), None)

    def retry_after(self, item: RateLimitItem, scope: str, key: str) -> int:
        """Whole seconds until ``item``'s current window for ``key`` ends (at least 1)."""
        try:
            reset = self._limiter().get_window_stats(item, key, scope).reset_time
        except Exception:
            log.warning("rate limit storage unavailable for Retry-After", exc_info=True)
            return item.get_expiry()
        return max(1, int(reset - time.time()) + 1)

    def clear(self) -> None:
        """Forget every counter (tests, and ``tracemark`` tooling after a limit change)."""
        self.storage.reset()
        self._fallback.reset()

    # ------------------------------------------------------------------ storage

    @staticmethod
    def _incr_redis(
        storage: RedisStorage, items: tuple[RateLimitItem, ...], scope: str, key: str
    ) -> list[int]:
        """One round trip: ``limits``' ``incr_expire`` script for each window."""
        script = storage.lua_incr_expire
        keys = [storage.prefixed_key(item.key_for(key, scope)) for item in items]
        if len(items) == 1:  # the script object reloads itself if Redis lost it
            return [int(script(keys, [items[0].get_expiry(), 1]))]
        # By SHA, not through the script object, which would add a SCRIPT EXISTS
        # round trip to every pipeline.
        pipe = storage.get_connection().pipeline(transaction=False)
        for redis_key, item in zip(keys, items, strict=True):
            pipe.evalsha(script.sha, 1, redis_key, item.get_expiry(), 1)
        try:
            return [int(n) for n in pipe.execute()]
        except storage.dependency.exceptions.NoScriptError:
            # Redis restarted without its scripts: nothing was counted; load and count.
            return [int(script([k], [i.get_expiry(), 1])) for k, i in zip(keys, items, strict=True)]

    def _storage(self) -> Storage:
        """Redis (or the configured storage), or memory while Redis is failing and its
        next probe is not due."""
        probe_at = self._probe_at
        if probe_at is None or time.monotonic() >= probe_at:
            return self.storage
        return self._fallback

    def _limiter(self) -> FixedWindowRateLimiter:
        return FixedWindowRateLimiter(self._storage())

    def _failed(self) -> None:
        with self._lock:
            if self._probe_at is None:
                log.warning("rate limit storage unreachable: counting in memory")
            else:
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
            self._probe_at = time.monotonic() + self._backoff

    def _recovered(self) -> None:
        with self._lock:
            log.info("rate limit storage recovered")
            self._probe_at, self._backoff = None, 1.0
