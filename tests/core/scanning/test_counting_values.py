"""The hashed and coarsened values the counting keeps: the same whether computed afresh
or taken from the per-day salt and per-address caches."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from tracemark.scanning.counting import day_hash, network_of, place_of


def _direct(secret: bytes, day: dt.date, value: str) -> str:
    salt = hmac.new(secret, b"tracemark-scan-salt|" + day.isoformat().encode(), hashlib.sha256)
    return hmac.new(salt.digest(), value.encode(), hashlib.sha256).hexdigest()[:32]


def test_day_hash_is_the_hmac_under_the_days_salt():
    day, other = dt.date(2026, 12, 6), dt.date(2026, 12, 7)
    for _ in range(2):  # the second time from the cached salt
        assert day_hash(b"s1", day, "v") == _direct(b"s1", day, "v")
        assert day_hash(b"s1", other, "v") == _direct(b"s1", other, "v")
        assert day_hash(b"s2", day, "v") == _direct(b"s2", day, "v")
    assert day_hash(b"s1", day, "v") != day_hash(b"s1", other, "v")
    assert day_hash(b"s1", day, "v") != day_hash(b"s2", day, "v")


def test_networks_and_places_of_addresses():
    for _ in range(2):
        assert network_of("192.0.2.77") == "192.0.2.0/24"
        assert place_of("192.0.2.77") == "192.0.0.0/16"
        assert network_of("::ffff:192.0.2.77") == "192.0.2.0/24"
        assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
        assert place_of("2001:db8:1:2::5") == "2001:db8::/32"
        assert network_of(None) == place_of("junk") == "unknown"
