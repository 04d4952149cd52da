"""The clone simulation's own arithmetic: what counts as a unit flipped by an attack."""

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import clone_sim as cs

WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Flags:
    """Rules that flag every scan ``flag`` says is a copy."""

    def __init__(self, flag) -> None:
        self.flag = flag

    def new_unit(self) -> dict:
        return {"count": 0}

    def scan(self, unit: dict, scan: cs.Scan) -> tuple[bool, int]:
        unit["count"] += 1
        return self.flag(scan), unit["count"]


def _units(n: int) -> list[tuple[list[cs.Scan], list[cs.Scan]]]:
    device = cs.Device("d", "agent", True)
    genuine = [cs.Scan(WHEN, "11.1.2.3", device)]
    attack = [cs.Scan(WHEN + dt.timedelta(hours=1), "12.1.2.3", device, attack=True)]
    return [(genuine, genuine + attack) for _ in range(n)]


def test_a_flip_is_what_only_the_attack_changes():
    assert cs.flips(Flags(lambda scan: scan.attack), _units(3)) == (3, 0)


def test_a_unit_flagged_without_the_attack_is_no_flip():
    assert cs.flips(Flags(lambda scan: True), _units(3)) == (0, 3)
    assert cs.flips(Flags(lambda scan: False), _units(3)) == (0, 0)
