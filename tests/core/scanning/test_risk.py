import pytest

from tracemark.scanning.risk import Observation, RiskPolicy, judge, policy_overrides


def test_few_places_are_never_a_copy_however_many_scans():
    assert judge(Observation(places=1, countries=1), RiskPolicy()) == []
    assert judge(Observation(places=7, countries=5), RiskPolicy()) == []


def test_many_places_in_the_window_look_copied():
    assert judge(Observation(places=8, countries=1), RiskPolicy()) == ["many_networks"]


def test_many_countries_look_copied():
    assert judge(Observation(places=6, countries=6), RiskPolicy()) == ["many_countries"]
    both = judge(Observation(places=9, countries=7), RiskPolicy())
    assert both == ["many_networks", "many_countries"]


def test_the_owners_scans_never_look_copied():
    assert judge(Observation(places=50, countries=9, owner=True), RiskPolicy()) == []


def test_brand_overrides_apply_and_bad_values_are_ignored():
    policy = RiskPolicy.from_overrides(
        {"places": 12, "countries": "two", "bogus": 1, "networks_per_day": 2, "stale_days": -1}
    )
    assert policy.places == 12
    assert policy.countries == RiskPolicy().countries
    assert judge(Observation(places=9), policy) == []
    assert RiskPolicy.from_overrides({"places": 2.9, "countries": 0.5}) == RiskPolicy(places=2)
    assert RiskPolicy.from_overrides({"places": True}) == RiskPolicy()


def test_policy_settings_are_parsed_and_checked():
    assert policy_overrides({"places": "10"}) == {"places": 10}
    with pytest.raises(ValueError, match="unknown"):
        policy_overrides({"networks_per_day": "4"})
    with pytest.raises(ValueError, match="at least 1"):
        policy_overrides({"countries": "0"})
