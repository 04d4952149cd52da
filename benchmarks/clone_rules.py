"""What-if replay of candidate counting rules over clone_sim's synthetic scans.

``clone_sim.py`` runs the real scan path on SQLite; this replays the same rule in memory
(the places and countries of :mod:`tracemark.scanning.counting`, the owner binding and the
first claim's reset), which reproduces its figures exactly for the current rules, and
adds candidate rules on top, so each candidate is measured on the same scans in seconds:

* ``daycap N``: at most N places counted per unit and calendar day;
* ``burst H xN``: at most N places counted per unit within any H hours;
* ``agent N``: requests without a cookie and with one agent (and languages) add at most
  N places in the window (one cookie-less browser adds at most N places);
* ``flood N``: a place from which N or more devices new in the window scanned the unit
  stops counting (withdrawn, also retroactively);
* ``adopt before`` / ``adopt all``: an implicit claim, once per unit: when a device with
  its cookie comes back on a later day, the places counted before its first scan (or all
  counted until then) stop counting, as the first claim with the PIN does;
* ``places=N`` / ``countries=N``: a brand's thresholds.

``--spaced`` replaces the attacker's burst of 60 requests with one request per /16 two
hours apart (the cheapest way around a rule on how fast places arrive). ``--hidden``
lets each copy's counterfeiter send five cookie-less requests from every mobile /16 of
the copy's countries before its first buyer scans, and reports the copies still flagged
at all (the flood raises the scan count, so "by the 8th scan" says nothing there).

    python benchmarks/clone_rules.py --units 3000 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import clone_sim as cs

CANDIDATES: list[tuple[str, dict]] = [
    ("current rules", {}),
    ("countries=7", {"countries": 7}),
    ("places=7", {"places": 7}),
    ("places=9", {"places": 9}),
    ("daycap 3", {"daycap": 3}),
    ("daycap 2", {"daycap": 2}),
    ("daycap 1", {"daycap": 1}),
    ("burst 1h x1", {"burst": (1, 1)}),
    ("burst 1h x2", {"burst": (1, 2)}),
    ("burst 6h x2", {"burst": (6, 2)}),
    ("burst 24h x1", {"burst": (24, 1)}),
    ("daycap 2 + places=7", {"daycap": 2, "places": 7}),
    ("burst 1h x1 + places=7", {"burst": (1, 1), "places": 7}),
    ("adopt before", {"adopt": "before"}),
    ("adopt all", {"adopt": "all"}),
    ("agent 1", {"agentcap": 1}),
    ("agent 2", {"agentcap": 2}),
    ("agent 3", {"agentcap": 3}),
    ("agent 4", {"agentcap": 4}),
    ("flood 3", {"flood": 3}),
    ("flood 5", {"flood": 5}),
    ("agent 3 + flood 5", {"agentcap": 3, "flood": 5}),
    ("agent 3 + burst 1h x2", {"agentcap": 3, "burst": (1, 2)}),
    ("agent 3 + burst 1h x1", {"agentcap": 3, "burst": (1, 1)}),
    ("agent 3 + burst 6h x2", {"agentcap": 3, "burst": (6, 2)}),
]


class Replay:
    """The counting rule in memory, with a candidate's extra caps (``rule``)."""

    def __init__(self, world: cs.World, rule: dict) -> None:
        self.world, self.rule = world, rule
        self.places = rule.get("places", 8)
        self.countries = rule.get("countries", 6)

    def new_unit(self) -> dict:
        return {"day": set(), "window": set(), "state": None, "owners": set(),
                "claimed": False, "count": 0, "counted": [], "agents": {},
                "origins": {}, "places": set(), "first": {}, "adopted": False}  # fmt: skip

    def scan(self, unit: dict, scan: cs.Scan) -> tuple[bool, int]:
        rule = self.rule
        block = ".".join(scan.ip.split(".")[:2])
        network = ".".join(scan.ip.split(".")[:3])
        device = scan.device
        known = device.keeps_cookie and device.seen
        device_id = device.id if device.keeps_cookie else f"tmp{random.getrandbits(64):016x}"
        device.seen = True
        day, country = scan.when.date(), self.world.country_of[block]
        new_today = set()
        agent = None if known else (device.agent, network)
        for mark in (("device", day, device_id), ("agent", day, agent)):
            if mark[2] is not None and mark not in unit["day"]:
                unit["day"].add(mark)
                new_today.add(mark[0])
        is_scan = "device" in new_today and (known or "agent" in new_today)
        window = (day - dt.date(1970, 1, 1)).days // cs.counting.WINDOW_DAYS
        state = unit["state"] = unit["state"] or [window, 0, 0, 0, 0]
        if state[0] != window:  # places, places_next, countries, countries_next
            following = state[0] == window - 1
            state[:] = [window, state[2], 0, state[4], 0] if following else [window, 0, 0, 0, 0]
        owner = device_id in unit["owners"]
        if is_scan and rule.get("adopt") and known and not unit["adopted"]:
            first = unit["first"].get(device_id)
            if first is not None and first.date() < day:  # back on a later day: adopted
                unit["adopted"] = True
                before = first if rule["adopt"] == "before" else scan.when
                for i, start in enumerate((state[0], state[0] + 1)):
                    state[1 + i] -= sum(1 for t, w in unit["counted"] if w == start and t <= before)
                unit["counted"] = [(t, w) for t, w in unit["counted"] if t > before]
        if is_scan:
            unit["first"].setdefault(device_id, scan.when)
            unit["count"] += 1
            for i, start in enumerate((window, window + 1)):
                keys = [("origin", device_id), ("place", block), ("country", country)]
                new = {}
                for kind, value in keys:
                    new[kind] = (kind, start, value) not in unit["window"]
                    unit["window"].add((kind, start, value))
                place = new["origin"] and new["place"]
                agent = (start, device.agent)
                if place and rule.get("agentcap") and not known:
                    place = unit["agents"].get(agent, 0) < rule["agentcap"]
                counted = [t for t, w in unit["counted"] if w == start]
                if place and "daycap" in rule:
                    place = sum(1 for t in counted if t.date() == day) < rule["daycap"]
                if place and "burst" in rule:
                    hours, most = rule["burst"]
                    recent = [t for t in counted if scan.when - t < dt.timedelta(hours=hours)]
                    place = len(recent) < most
                if new["origin"] and not owner:
                    key = (start, block)
                    unit["origins"][key] = unit["origins"].get(key, 0) + 1
                    flooded = rule.get("flood") and unit["origins"][key] == rule["flood"]
                    if flooded and key in unit["places"]:  # the place is withdrawn
                        state[1 + i] -= 1
                if place and not owner:
                    unit["places"].add((start, block))
                    if rule.get("flood") and unit["origins"][(start, block)] >= rule["flood"]:
                        continue
                    unit["counted"].append((scan.when, start))
                    if not known:
                        unit["agents"][agent] = unit["agents"].get(agent, 0) + 1
                    state[1 + i] += 1
                    state[3 + i] += new["country"]
        suspicious = (
            is_scan and not owner and (state[1] >= self.places or state[3] >= self.countries)
        )
        if scan.claim:
            unit["owners"].add(device_id)
            if not unit["claimed"]:
                unit["claimed"] = True
                state[1:] = [0, 0, 0, 0]
        return suspicious, unit["count"]


def spaced_attack(world, rng, blocks, start):
    """One request per /16, two hours apart: the cheapest way around a rate rule."""
    scans = []
    for n, block in enumerate(blocks):
        device = cs.Device(f"atk{rng.getrandbits(64):016x}", f"agent-{rng.getrandbits(32)}", False)
        when = start + dt.timedelta(hours=2 * n)
        scans.append(cs.Scan(when, world.ip(block), device, rng.choice(cs.COUNTRIES), attack=True))
    return scans


def hidden(world, rng, scans: list[cs.Scan]) -> list[cs.Scan]:
    """The copy's scans after its counterfeiter sent 5 cookie-less requests from every
    mobile /16 of the copy's countries the day before the first buyer scanned (as an
    attack: what they see themselves does not count)."""
    countries = {world.country_of[".".join(s.ip.split(".")[:2])] for s in scans}
    start = scans[0].when - dt.timedelta(days=1)
    extra = []
    for country in sorted(countries):
        for pool in world.carriers[country]:
            for block in pool:
                for _n in range(5):
                    agent = f"agent-{rng.getrandbits(32)}"
                    device = cs.Device(f"atk{rng.getrandbits(64):016x}", agent, False)
                    when = start + dt.timedelta(minutes=len(extra))
                    extra.append(cs.Scan(when, world.ip(block), device, country, attack=True))
    return sorted(scans + extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--clones", type=int, default=200)
    parser.add_argument("--attacked", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--spaced", action="store_true", help="attacker: one request per /16")
    parser.add_argument("--hidden", action="store_true", help="copies hidden by a flood")
    parser.add_argument(
        "--agent-skew", type=float, default=0.0, help="Zipf exponent of the agents' shares"
    )
    args = parser.parse_args()
    cs.skew_agents(args.agent_skew)
    if args.spaced:
        cs.attack = spaced_attack
    rng = random.Random(args.seed)
    world = cs.World(rng)
    genuine = [cs.genuine_life(world, rng) for _ in range(args.units)]
    clones = [cs.clone_campaign(world, rng, rescans=False) for _ in range(args.clones)]
    rescanned = [cs.clone_campaign(world, rng, rescans=True) for _ in range(args.clones)]
    if args.hidden:
        clones = [hidden(world, rng, scans) for scans in clones]
        rescanned = [hidden(world, rng, scans) for scans in rescanned]
    attacks = {  # the same draws as clone_sim
        k: cs.attacked_units(world, rng, genuine[: args.attacked], k) for k in (1, 2, 4)
    }
    print(f"clone_rules: seed {args.seed}, {args.units:,} genuine units, {args.clones} clones, "
          f"{args.attacked} attacked{' (spaced attacker)' if args.spaced else ''}")  # fmt: skip
    print(f"  {'rule':<24} {'FP all':>7} {'abroad':>7}  {'clones by 8th':>13}  "
          f"{'rescans by 8th':>14}  flipped by 1/2/4 /16s")  # fmt: skip
    for name, rule in CANDIDATES:
        replay = Replay(world, rule)
        flags = [(story, cs.run(replay, scans)[0]) for scans, story in genuine]
        travel = [f for story, f in flags if story == "travel"]
        share = sum(f for _s, f in flags) / len(flags)
        by8 = []
        for campaigns in (clones, rescanned):
            results = [cs.run(replay, scans) for scans in campaigns]
            # hidden copies: the flood's requests raise the scan count, so: flagged at all
            by8.append(
                sum(1 for f, n, _a in results if f and (args.hidden or n <= 8)) / len(results)
            )
        flipped = [cs.flips(replay, units)[0] for units in attacks.values()]
        print(f"  {name:<24} {share:>7.2%} {sum(travel):>3}/{len(travel):<3}  {by8[0]:>13.1%}  "
              f"{by8[1]:>14.1%}  {'/'.join(map(str, flipped))}")  # fmt: skip


if __name__ == "__main__":
    main()
