"""Clone simulation: false positives on genuine units, detection of copied labels, and
what an attacker with a budget can flip, under today's verdict rules and the rules
before them (baseline), on the same synthetic scans.

The population: genuine units scanned by shoppers in the shop, by the buyer's household
on home Wi-Fi and mobile data (carrier NAT pools spread over several /16s), some claimed
with the PIN, some given as gifts to another city or country, taken abroad, or resold;
one phone in five keeps no cookies (in-app camera browsers). Clone campaigns: one code
printed N times and sold in several cities, each buyer on their own networks. Attackers:
addresses inside k /16 networks, any user agent, no or fresh cookies, spoofed country
headers, many requests per unit.

The current rules run for real, in process, on SQLite (``record_and_judge`` and
``pins.claim``); the baseline is the earlier rule set (/24 networks and agent-derived
device hashes per day, countries counted forever from the header, travel, claimed
elsewhere, stale reappearance) replayed in memory over the same scans.

A unit is flipped when its scans with the attack flag it and the same scans without the
attack's requests do not (those are false positives). ``--agent-skew`` draws phones'
browser strings with Zipf weights instead of equally (real browsers are more alike).

    python benchmarks/clone_sim.py --units 3000 --clones 300 --seed 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import machine

from signing import KeyStatus
from tracemark.codes import pins
from tracemark.codes.verify import CodeCheck, Identity, UnitFacts
from tracemark.db import make_engine, make_sessionmaker
from tracemark.models import BatchStatus, Brand
from tracemark.models.base import Base
from tracemark.scanning import counting
from tracemark.scanning.counting import network_of, owner_hash, place_of
from tracemark.scanning.scans import Client, Verdict, record_and_judge

SECRET = b"clone-sim-secret"
PIN_KEY = b"clone-sim-pin-key-0123456789abcdef"
T0 = dt.datetime(2026, 3, 1, 8, tzinfo=dt.UTC)
COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "PL", "PT", "BE"]


# --- the world: cities, networks, people -------------------------------------------------


class World:
    """Cities with home ISPs' /16s and shops; per country mobile carriers whose NAT pools
    span several /16s; every /16 belongs to one country."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._next = 0
        self.country_of: dict[str, str] = {}
        self.cities = []
        self.carriers: dict[str, list[list[str]]] = {}
        for country in COUNTRIES:
            self.carriers[country] = [[self._block(country) for _ in range(6)] for _ in range(3)]
            for _ in range(5):
                homes = [self._block(country) for _ in range(25)]
                shops = [self._block(country) for _ in range(4)]
                self.cities.append((country, homes, shops))

    def _block(self, country: str) -> str:
        self._next += 1
        block = f"{11 + self._next // 250}.{self._next % 250}"
        self.country_of[block] = country
        return block

    def ip(self, block: str) -> str:
        return f"{block}.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"

    def mobile(self, country: str, carrier: int) -> str:
        return self.rng.choice(self.carriers[country][carrier % 3])


COOKIELESS = 0.2
AGENTS = [f"Mozilla/5.0 (Phone {n}) Mobile Safari/605.1" for n in range(40)]
#: How often each agent string is drawn: Zipf weights of exponent ``--agent-skew`` (0:
#: all alike; 1: the commonest string is a quarter of phones, as one iOS version or
#: Chrome's reduced Android string can be in a market).
AGENT_WEIGHTS = [1.0] * len(AGENTS)


@dataclass
class Device:
    id: str
    agent: str
    keeps_cookie: bool
    seen: bool = False


@dataclass
class Household:
    city: tuple
    home: str
    carrier: int
    devices: list[Device]

    @property
    def country(self) -> str:
        return self.city[0]


def skew_agents(exponent: float) -> None:
    """Draw agents with Zipf weights of ``exponent`` (0: uniformly)."""
    AGENT_WEIGHTS[:] = [1 / (rank + 1) ** exponent for rank in range(len(AGENTS))]


def new_device(rng: random.Random) -> Device:
    agent = rng.choices(AGENTS, AGENT_WEIGHTS)[0]
    return Device(f"dev{rng.getrandbits(64):016x}", agent, rng.random() > COOKIELESS)


def household(world: World, rng: random.Random, city=None) -> Household:
    city = city or rng.choice(world.cities)
    devices = [new_device(rng) for _ in range(rng.choice([1, 2, 2, 3, 4]))]
    return Household(city, rng.choice(city[1]), rng.randrange(3), devices)


@dataclass(order=True)
class Scan:
    when: dt.datetime
    ip: str = field(compare=False)
    device: Device = field(compare=False)
    #: The country header sent (a spoofer sends anything).
    header: str | None = field(compare=False, default=None)
    #: Claim with the right PIN after this scan.
    claim: bool = field(compare=False, default=False)
    #: Consumer scan by the people the scenario is about (attacks are counted apart).
    attack: bool = field(compare=False, default=False)


def at_home(world, rng, house: Household, device: Device, when) -> Scan:
    wifi = rng.random() < 0.6
    block = house.home if wifi else world.mobile(house.country, house.carrier)
    return Scan(when, world.ip(block), device, world.country_of[block])


# --- scenarios --------------------------------------------------------------------------


def genuine_life(world: World, rng: random.Random) -> tuple[list[Scan], str]:
    """One genuine unit from the shop to its owners; returns its scans and its story."""
    scans: list[Scan] = []
    country, _homes, shops = city = rng.choice(world.cities)
    shop = rng.choice(shops)
    sold = T0 + dt.timedelta(days=rng.uniform(0, 20))
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):  # shoppers looking at it in the shop
        shopper = household(world, rng, city)
        when = sold - dt.timedelta(days=rng.uniform(0, 10))
        block = shop if rng.random() < 0.4 else world.mobile(country, shopper.carrier)
        scans.append(Scan(when, world.ip(block), shopper.devices[0], world.country_of[block]))
    buyer = household(world, rng, city)
    phone = buyer.devices[0]
    if rng.random() < 0.7:
        block = shop if rng.random() < 0.5 else world.mobile(country, buyer.carrier)
        scans.append(Scan(sold, world.ip(block), phone, world.country_of[block]))
    story = "kept"
    holder = buyer
    roll = rng.random()
    if roll < 0.15:  # a gift, often to another city, sometimes abroad
        story = "gift"
        holder = household(world, rng)
    later = sold + dt.timedelta(days=rng.uniform(0.1, 3))
    claims = rng.random() < 0.3
    for n in range(rng.choice([1, 1, 2, 3, 4])):
        scan = at_home(world, rng, holder, holder.devices[0], later + dt.timedelta(days=n * 2))
        scan.claim = claims and n == 0
        scans.append(scan)
    for device in holder.devices[1:]:
        if rng.random() < 0.35:
            when = later + dt.timedelta(days=rng.uniform(0, 20))
            scans.append(at_home(world, rng, holder, device, when))
    if 0.15 <= roll < 0.25:  # a trip abroad with it
        story = "travel"
        abroad = rng.choice([c for c in COUNTRIES if c != holder.country])
        for n in range(rng.choice([1, 2, 3])):
            block = world.mobile(abroad, rng.randrange(3))
            when = later + dt.timedelta(days=10 + n)
            scans.append(Scan(when, world.ip(block), holder.devices[0], abroad))
    if 0.25 <= roll < 0.30:  # resold, to someone elsewhere
        story = "resale"
        second = household(world, rng)
        when = later + dt.timedelta(days=rng.uniform(30, 80))
        for n in range(rng.choice([1, 2, 3])):
            scans.append(
                at_home(world, rng, second, second.devices[0], when + dt.timedelta(days=n))
            )
    # a fifth of phones keep no cookie: every scan of theirs comes as a new device
    return sorted(scans), story


def clone_campaign(world: World, rng: random.Random, rescans: bool) -> list[Scan]:
    """One code printed N times, sold in several cities over a month: each buyer scans
    on buying (in the shop or on mobile data) and, with ``rescans``, again at home."""
    buyers = rng.randint(8, 20)
    cities = rng.sample(world.cities, rng.randint(3, 6))
    scans, used = [], set()
    start = T0 + dt.timedelta(days=rng.uniform(0, 10))
    for _ in range(buyers):
        city = rng.choice(cities)
        buyer = household(world, rng, city)
        when = start + dt.timedelta(days=rng.uniform(0, 30))
        block = rng.choice(city[2]) if rng.random() < 0.4 else world.mobile(city[0], buyer.carrier)
        while block in used:  # the target: buyers on distinct /16s
            block = (
                world.mobile(city[0], rng.randrange(3))
                if rng.random() < 0.5
                else rng.choice(city[1])
            )
        used.add(block)
        scans.append(Scan(when, world.ip(block), buyer.devices[0], world.country_of[block]))
        if rescans and rng.random() < 0.5:
            again = when + dt.timedelta(days=rng.uniform(0.5, 10))
            scans.append(at_home(world, rng, buyer, buyer.devices[0], again))
    return sorted(scans)


def attack(world: World, rng: random.Random, blocks: list[str], start: dt.datetime) -> list[Scan]:
    """An outsider inside ``blocks`` (k /16s): many requests, any agent, no cookie kept
    (or a fresh one each time), any country header."""
    scans = []
    for n in range(60):
        device = Device(f"atk{rng.getrandbits(64):016x}", f"agent-{rng.getrandbits(32)}", False)
        when = start + dt.timedelta(minutes=n * rng.uniform(1, 30))
        scans.append(
            Scan(
                when, world.ip(blocks[n % len(blocks)]), device, rng.choice(COUNTRIES), attack=True
            )
        )
    return scans


# --- the current rules, for real --------------------------------------------------------


class Current:
    """``record_and_judge`` and ``pins.claim`` on a SQLite database; the country comes
    from the /16's geography (a trusted proxy's header), never from the client."""

    def __init__(self, world: World, policy: dict) -> None:
        self.world = world
        self.policy = policy
        self.directory = tempfile.TemporaryDirectory()
        self.engine = make_engine(f"sqlite:///{self.directory.name}/sim.db")
        Base.metadata.create_all(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        with self.sessions.begin() as session:
            session.add(Brand(id=1, slug="sim", name="Sim"))
        self.next_unit = 0

    def new_unit(self) -> UnitFacts:
        self.next_unit += 1
        return UnitFacts(self.next_unit, f"SERIAL{self.next_unit:08}", True, 1, "L1",
                         BatchStatus.RELEASED, {}, "09506000134352", 1, "Sim", None, self.policy,
                         KeyStatus.ACTIVE)  # fmt: skip

    def scan(self, unit: UnitFacts, scan: Scan) -> tuple[bool, int]:
        """Whether the scan shows the unit as a copy, and the consumer scan count."""
        block = ".".join(scan.ip.split(".")[:2])
        device = scan.device
        known = device.keeps_cookie and device.seen
        device_id = device.id if device.keeps_cookie else f"tmp{random.getrandbits(64):016x}"
        device.seen = True
        client = Client(ip=scan.ip, user_agent=device.agent, accept_language="en",
                        country=self.world.country_of[block], locale="en",
                        device_id=device_id, device_known=known)  # fmt: skip
        check = CodeCheck(Identity.GENUINE, "genuine", _Code(unit.serial), unit)
        with self.sessions.begin() as session:
            outcome = record_and_judge(session, check, client, secret=SECRET, now=scan.when)
            if scan.claim:
                claimant = pins.Claimant(
                    owner_hash(SECRET, unit.serial, device_id),
                    "n" + network_of(scan.ip),
                    "p" + place_of(scan.ip),
                )
                pins.claim(session, unit, pins.pin_for(PIN_KEY, unit.serial), claimant,
                           PIN_KEY, now=scan.when)  # fmt: skip
        return outcome.verdict is Verdict.SUSPICIOUS_COPY, outcome.scan_count


@dataclass(frozen=True)
class _Code:
    serial: str


# --- the baseline: the earlier rules, replayed ------------------------------------------


class Baseline:
    """The rules before: per day distinct devices (agent|languages|/24) and /24
    networks, countries ever from the header, two countries within 6 h, a claim tied to
    the claiming day's device hash, a new country after a year. Defaults 4 networks a
    day; 6 devices with 2 networks; 3 countries."""

    def new_unit(self):
        return {"marks": set(), "countries": set(), "count": 0, "first": None,
                "last_country": None, "last_country_at": None, "claim": None}  # fmt: skip

    def scan(self, unit: dict, scan: Scan) -> tuple[bool, int]:
        day = scan.when.date()
        network = network_of(scan.ip)
        device = (day, f"{scan.device.agent}|en|{network}")
        unit["marks"].update({("d", device), ("n", (day, network))})
        unit["count"] += 1
        unit["first"] = unit["first"] or scan.when
        country = scan.header
        new_country = country is not None and country not in unit["countries"]
        if country:
            unit["countries"].add(country)
        devices = sum(1 for kind, (d, _v) in unit["marks"] if kind == "d" and d == day)
        networks = sum(1 for kind, (d, _v) in unit["marks"] if kind == "n" and d == day)
        travelled = (
            country is not None
            and unit["last_country"] not in (None, country)
            and scan.when - unit["last_country_at"] <= dt.timedelta(hours=6)
        )
        if country:
            unit["last_country"], unit["last_country_at"] = country, scan.when
        suspicious = (
            networks >= 4
            or (devices >= 6 and networks >= 2)
            or len(unit["countries"]) >= 3
            or travelled
            or (unit["claim"] is not None and unit["claim"] != device)
            or (new_country and unit["count"] > 1
                and scan.when - unit["first"] > dt.timedelta(days=365))
        )  # fmt: skip
        if scan.claim and unit["claim"] is None:
            unit["claim"] = device
        return suspicious, unit["count"]


# --- running ----------------------------------------------------------------------------


def run(rules, scans: list[Scan]) -> tuple[bool, int | None, bool]:
    """Replay one unit's scans: (ever flagged by a non-attack scan, consumer scan number
    at the first flag, flagged during or after an attack). Its devices start without
    cookies, whatever an earlier replay of the same people left them."""
    for scan in scans:
        scan.device.seen = False
    unit = rules.new_unit()
    first_flag, flagged, attacked = None, False, False
    for scan in scans:
        suspicious, count = rules.scan(unit, scan)
        if suspicious and scan.attack:
            attacked = True
        if suspicious and not scan.attack:
            flagged = True
            first_flag = first_flag or count
    return flagged, first_flag, attacked


def attacked_units(world: World, rng: random.Random, genuine: list, k: int) -> list:
    """Each genuine unit's scans (with its story) without and with an attacker inside k
    /16s (one per country, on a mobile carrier's network), who starts a day before the
    unit's last scan; both end with a newcomer's scan two days after the attack began."""
    units = []
    for scans, _story in genuine:
        blocks = [rng.choice(world.carriers[c][0]) for c in rng.sample(COUNTRIES, k)]
        start = scans[-1].when - dt.timedelta(days=1) if scans else T0
        extra = attack(world, rng, blocks, start)
        after = Scan(start + dt.timedelta(days=2), world.ip(rng.choice(world.cities)[1][0]),
                     new_device(rng), None)  # fmt: skip
        units.append((sorted([*scans, after]), sorted([*scans, *extra, after])))
    return units


def flips(rules, units: list[tuple[list[Scan], list[Scan]]]) -> tuple[int, int]:
    """Of attacked units (their scans without and with the attack): how many the attack
    turned into a copy, and how many were flagged without it (not the attacker's doing)."""
    flipped = already = 0
    for clean, attacked in units:
        alone = run(rules, clean)[0]
        flagged, _n, during = run(rules, attacked)
        already += alone
        flipped += (flagged or during) and not alone
    return flipped, already


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000)
    parser.add_argument("--clones", type=int, default=300)
    parser.add_argument("--attacked", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--places", type=int, help="the brand's places threshold")
    parser.add_argument("--countries", type=int, help="the brand's countries threshold")
    parser.add_argument(
        "--cookieless", type=float, default=COOKIELESS, help="share of phones keeping no cookie"
    )
    parser.add_argument("--window", type=int, help="what-if: the window in days")
    parser.add_argument(
        "--agent-skew", type=float, default=0.0, help="Zipf exponent of the agents' shares"
    )
    args = parser.parse_args()
    globals()["COOKIELESS"] = args.cookieless
    skew_agents(args.agent_skew)
    if args.window:
        counting.WINDOW_DAYS = args.window
    policy = {
        name: value
        for name, value in (("places", args.places), ("countries", args.countries))
        if value is not None
    }
    rng = random.Random(args.seed)
    world = World(rng)
    started = time.perf_counter()
    genuine = [genuine_life(world, rng) for _ in range(args.units)]
    clones = [clone_campaign(world, rng, rescans=False) for _ in range(args.clones)]
    clones_rescanned = [clone_campaign(world, rng, rescans=True) for _ in range(args.clones)]
    attacks = {k: attacked_units(world, rng, genuine[: args.attacked], k) for k in (1, 2, 4)}

    print(
        f"clone_sim: seed {args.seed}, {args.units:,} genuine units, {args.clones} clone "
        f"campaigns per scenario, {args.attacked} units attacked per budget ({machine()})"
    )
    for name, make in (("current", lambda: Current(world, policy)), ("baseline", Baseline)):
        rules = make()
        stories: dict[str, list[bool]] = {}
        for scans, story in genuine:
            flagged = run(rules, scans)[0]
            stories.setdefault(story, []).append(flagged)
            stories.setdefault("all", []).append(flagged)
        print(f"\n[{name}]")
        for story, flags in sorted(stories.items()):
            print(f"  genuine {story:<8} units {len(flags):>6,}  false positives "
                  f"{sum(flags):>5} = {sum(flags) / len(flags):.2%}")  # fmt: skip
        for label, campaigns in (("first scans", clones), ("with rescans", clones_rescanned)):
            results = [run(rules, scans) for scans in campaigns]
            by8 = sum(1 for f, n, _a in results if f and n <= 8)
            found = [n for f, n, _a in results if f]
            found.sort()
            median = found[len(found) // 2] if found else None
            print(f"  clones ({label:<12}) detected {len(found) / len(results):.1%}, by 8th scan "
                  f"{by8 / len(results):.1%}, median scan at detection {median}")  # fmt: skip
        for k, units in attacks.items():
            flipped, already = flips(rules, units)
            print(f"  attacker inside {k} /16s: {flipped} of {len(units)} units flipped "
                  f"({already} flagged without the attack)")  # fmt: skip
    print(f"\n  elapsed {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
