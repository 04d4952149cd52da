"""Clone risk: is this genuine code being scanned in a way one physical unit cannot be?

A pure judgement over what the scan history shows, so it is tested without a database.
It weighs *spread*, not volume: how many networks and devices scanned the unit in one day,
in how many countries it has been seen, whether it moved between countries faster than
goods travel, whether it was claimed by someone else, and how long ago it was first
scanned. Raw scan counts are deliberately ignored: one person rescanning a genuine label
a thousand times from one place must never brand it a copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class RiskPolicy:
    """Thresholds; a brand may override any of them (``Brand.risk_policy``)."""

    #: Distinct networks (≈ places) in one day at or above which the unit looks copied.
    networks_per_day: int = 4
    #: Distinct devices in one day, counted only together with ``devices_networks``.
    devices_per_day: int = 6
    devices_networks: int = 2
    #: Distinct countries ever seen at or above which the unit looks copied.
    countries: int = 3
    #: Two countries within this many hours: faster than goods travel.
    travel_hours: float = 6.0
    #: After this many days since the first scan, a scan from a new country is suspect.
    stale_days: int = 365

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> RiskPolicy:
        """Apply a brand's overrides; unknown or ill-typed entries are ignored."""
        policy = cls()
        if not overrides:
            return policy
        known = {field.name: field.type for field in fields(cls)}
        valid = {}
        for name, value in overrides.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if name in known and number and value > 0:
                valid[name] = float(value) if name == "travel_hours" else int(value)
        return replace(policy, **valid)


def policy_overrides(settings: dict[str, str]) -> dict[str, float | int]:
    """Parse ``name=value`` settings for :class:`RiskPolicy` into stored overrides.

    :raises ValueError: an unknown name, or a value that is not a positive number.
    """
    known = {field.name for field in fields(RiskPolicy)}
    overrides: dict[str, float | int] = {}
    for name, text in settings.items():
        if name not in known:
            raise ValueError(f"unknown risk setting {name!r}; known: {', '.join(sorted(known))}")
        try:
            value = float(text) if name == "travel_hours" else int(text)
        except ValueError:
            raise ValueError(f"{name} must be a number") from None
        if value <= 0:
            raise ValueError(f"{name} must be positive")
        overrides[name] = value
    return overrides


@dataclass(frozen=True)
class Observation:
    """What the scan history says, this scan included."""

    now: dt.datetime
    first_scan_at: dt.datetime
    networks_today: int
    devices_today: int
    countries_seen: int
    #: A different country seen within ``travel_hours`` of this scan.
    other_country_recently: bool = False
    #: The unit was claimed with its PIN from another device.
    claimed_elsewhere: bool = False
    #: This scan comes from a country never seen for this unit, after earlier scans.
    new_country_later: bool = False


def judge(observation: Observation, policy: RiskPolicy) -> list[str]:
    """Return the patterns that suggest a copy (stable codes); empty when none."""
    patterns = []
    if observation.networks_today >= policy.networks_per_day:
        patterns.append("many_networks")
    if (
        observation.devices_today >= policy.devices_per_day
        and observation.networks_today >= policy.devices_networks
    ):
        patterns.append("many_devices")
    if observation.countries_seen >= policy.countries:
        patterns.append("many_countries")
    if observation.other_country_recently:
        patterns.append("impossible_travel")
    if observation.claimed_elsewhere:
        patterns.append("claimed_elsewhere")
    age = observation.now - observation.first_scan_at
    if observation.new_country_later and age > dt.timedelta(days=policy.stale_days):
        patterns.append("stale_reappearance")
    return patterns
