"""Clone risk: is this genuine code being scanned in a way one physical unit cannot be?

A pure judgement over the unit's counted history (:mod:`tracemark.scanning.counting`),
so it is tested without a database. It weighs *spread* that an outsider cannot cheaply
fake, not volume: how many distinct places (IPv4 /16, IPv6 /32), each reached by a
device not counted before, scanned the unit within the sliding window, and in how many
countries those places were. One network adds at most one place however many devices or
agents it fakes, one device at most one place however far it roams, and the owner's
devices add none; so a household on Wi-Fi and mobile data, a gift or a trip stay far
below the thresholds, and an attacker inside two networks cannot push a unit over them.
Raw scan counts are deliberately ignored: rescanning a genuine label a thousand times
must never brand it a copy.

Patterns that an outsider could trigger alone were dropped: two countries within hours
(an attacker with addresses in two countries, or a genuine owner switching a VPN on and
off), a reappearance in a new country after a year (a resale abroad, or one scan from a
stranger), and a scan by someone other than the claiming device (the owner's next phone,
or a shopper looking at a claimed unit: they are told it was claimed, not accused).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class RiskPolicy:
    """Thresholds; a brand may override any of them (``Brand.risk_policy``)."""

    #: Distinct places in the window (each from a new device) at or above which the unit
    #: looks copied.
    places: int = 8
    #: Distinct countries of those places at or above which the unit looks copied.
    countries: int = 6

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> RiskPolicy:
        """Apply a brand's overrides; unknown or ill-typed entries are ignored (so
        settings of earlier rules, still stored, do nothing)."""
        policy = cls()
        if not overrides:
            return policy
        known = {field.name for field in fields(cls)}
        valid = {}
        for name, value in overrides.items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if name in known and number and value >= 1:
                valid[name] = int(value)
        return replace(policy, **valid)


def policy_overrides(settings: dict[str, str]) -> dict[str, int]:
    """Parse ``name=value`` settings for :class:`RiskPolicy` into stored overrides.

    :raises ValueError: an unknown name, or a value that is not a whole number ≥ 1.
    """
    known = {field.name for field in fields(RiskPolicy)}
    overrides: dict[str, int] = {}
    for name, text in settings.items():
        if name not in known:
            raise ValueError(f"unknown risk setting {name!r}; known: {', '.join(sorted(known))}")
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{name} must be a whole number") from None
        if value < 1:
            raise ValueError(f"{name} must be at least 1")
        overrides[name] = value
    return overrides


@dataclass(frozen=True)
class Observation:
    """What the unit's counted history says, this scan included."""

    #: Distinct places in the window, each reached by a device not counted before.
    places: int
    #: Distinct countries of those places in the window.
    countries: int = 0
    #: The scan comes from one of the owner's devices (claimed with the PIN).
    owner: bool = False


#: The patterns :func:`judge` can return, in its order (stable codes).
PATTERNS = ("many_networks", "many_countries")


def judge(observation: Observation, policy: RiskPolicy) -> list[str]:
    """Return the patterns that suggest a copy (stable codes); empty when none. The
    owner's own scans never suggest one: the PIN proved which unit they hold."""
    if observation.owner:
        return []
    patterns = []
    if observation.places >= policy.places:
        patterns.append("many_networks")
    if observation.countries >= policy.countries:
        patterns.append("many_countries")
    return patterns
