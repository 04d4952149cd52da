import datetime as dt

from tracemark.scanning.risk import Observation, RiskPolicy, judge

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)


def _obs(**changes):
    values = dict(
        now=NOW,
        first_scan_at=NOW - dt.timedelta(days=2),
        networks_today=1,
        devices_today=1,
        countries_seen=1,
    )
    values.update(changes)
    return Observation(**values)


def test_one_place_rescanning_is_never_a_copy():
    # thousands of scans from one network with rotating user agents: devices pile up
    assert judge(_obs(devices_today=500, networks_today=1), RiskPolicy()) == []


def test_spread_over_networks_in_a_day_is_a_copy():
    assert judge(_obs(networks_today=4), RiskPolicy()) == ["many_networks"]
    assert judge(_obs(networks_today=3), RiskPolicy()) == []


def test_many_devices_count_only_across_networks():
    assert judge(_obs(devices_today=6, networks_today=2), RiskPolicy()) == ["many_devices"]


def test_countries_travel_claims_and_stale_reappearance():
    policy = RiskPolicy()
    assert judge(_obs(countries_seen=3), policy) == ["many_countries"]
    assert judge(_obs(other_country_recently=True), policy) == ["impossible_travel"]
    assert judge(_obs(claimed_elsewhere=True), policy) == ["claimed_elsewhere"]
    old = NOW - dt.timedelta(days=400)
    assert judge(_obs(first_scan_at=old, new_country_later=True), policy) == ["stale_reappearance"]
    assert judge(_obs(new_country_later=True), policy) == []


def test_brand_overrides_apply_and_bad_values_are_ignored():
    policy = RiskPolicy.from_overrides(
        {
            "networks_per_day": 10,
            "countries": "two",
            "travel_hours": 2,
            "bogus": 1,
            "stale_days": -1,
        }
    )
    assert policy.networks_per_day == 10
    assert policy.countries == RiskPolicy().countries
    assert policy.travel_hours == 2.0
    assert policy.stale_days == RiskPolicy().stale_days
    assert judge(_obs(networks_today=5), policy) == []
