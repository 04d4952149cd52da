"""How a scan is counted: who scans, whether it is a new scan or a view, and which places
and countries it adds to a unit's clone-risk window.

Both scan paths count the same way: the SQLite path through :func:`count_statements`
(marks insert, then one upsert), PostgreSQL through the one statement of
:mod:`tracemark.scanning.scan_statement`. Every value a scan stores about its client is a
keyed hash computed here, in Python, before any statement runs:

* ``device``/``agent`` (per day, under the daily salt): the device cookie, and for a
  request without one the browser's agent, language and /24 network. A request is a
  **scan** when its device mark is new today (and, without a cookie, its agent mark too);
  otherwise it is a **view** (reload, language switch, a second open the same day).
* ``origin``/``place``/``country`` (per window, keyed by the unit's serial so that no
  value links two units): the device, the network at /16 (IPv4) or /32 (IPv6) and the
  country. A scan adds one place only when both its device and its place are new in the
  window, so one device adds at most one place however often it roams, and one network at
  most one place however many devices or agents it fakes; a country counts only with a
  place it came from.

The window slides: each window mark is written for the current window and the next, so
the next window starts already knowing what was seen in this one, and its counters
(``places_next``, ``countries_next``) take over when the window turns. A place therefore
counts for between :data:`WINDOW_DAYS` and twice that.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from functools import cache, lru_cache

from sqlalchemy import String, and_, bindparam, case, func, insert
from sqlalchemy.sql.elements import ColumnElement

from tracemark.db import insert_for
from tracemark.models import ScanEvent, UnitScanMark, UnitScanState

#: Days a place or a country keeps counting for a unit (between one and two windows).
WINDOW_DAYS = 30
#: Window boundaries are counted from this day.
_WINDOWS_FROM = dt.date(1970, 1, 1)
#: Owner devices a unit remembers (the claiming one and those added with the PIN).
MAX_OWNER_DEVICES = 8


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@lru_cache(maxsize=4096)
def _prefix(ip: str | None, v4: int, v6: int) -> str:
    """``ip``'s network of the given prefix lengths; kept for the addresses seen most (a
    scan asks for two grains of the same address, and clients come back)."""
    address = _address(ip)
    if address is None:
        return "unknown"
    prefix = v4 if address.version == 4 else v6
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def network_of(ip: str | None) -> str:
    """The network a client is in: its IPv4 /24 or IPv6 /48 ('unknown' if unparsable).
    What the scan event keeps (hashed daily) and what PIN budgets are per."""
    return _prefix(ip, 24, 48)


def place_of(ip: str | None) -> str:
    """The place a client scans from, for clone risk: its IPv4 /16 or IPv6 /32, a grain
    an attacker cannot cheaply vary (an ISP's block, not a subscriber's)."""
    return _prefix(ip, 16, 32)


def window_of(day: dt.date) -> dt.date:
    """The first day of the clone-risk window holding ``day``."""
    index = (day - _WINDOWS_FROM).days // WINDOW_DAYS
    return _WINDOWS_FROM + dt.timedelta(days=index * WINDOW_DAYS)


def day_hash(secret: bytes, day: dt.date, value: str) -> str:
    digest = hmac.new(_day_salt(secret, day), value.encode("utf-8", "replace"), hashlib.sha256)
    return digest.hexdigest()[:32]


@lru_cache(maxsize=16)
def _day_salt(secret: bytes, day: dt.date) -> bytes:
    """The day's salt, derived once per day (every scan of the day hashes with it)."""
    return hmac.new(
        secret, b"tracemark-scan-salt|" + day.isoformat().encode(), hashlib.sha256
    ).digest()


def window_hash(secret: bytes, window: dt.date, serial: str, value: str) -> str:
    """A value kept for a unit's window: keyed by the window and the unit's serial, so it
    links scans of one unit within the window only."""
    key = f"tracemark-window|{window.isoformat()}|{serial}".encode()
    salt = hmac.new(secret, key, hashlib.sha256)
    return hmac.new(salt.digest(), value.encode("utf-8", "replace"), hashlib.sha256).hexdigest()[
        :32
    ]


def owner_hash(secret: bytes, serial: str, device_id: str) -> str:
    """A claiming device as its unit remembers it (no daily salt: ownership lasts)."""
    message = f"tracemark-owner|{serial}|{device_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:16]


def new_device_id() -> str:
    """A fresh random device id (128 bits), what the device cookie carries."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Who:
    """Who a scan comes from, as the counting needs it: raw values, hashed by
    :func:`marks` before anything is kept."""

    device_id: str
    #: The device presented its cookie (False: first visit, cookies refused, API client).
    device_known: bool
    ip: str | None
    agent: str
    country: str | None
    #: A signed-in member of the unit's brand: a staff scan, counted nowhere.
    staff: bool = False


def device_value(device_id: str) -> str:
    return f"c|{device_id}"


def agent_value(ip: str | None, user_agent: str, accept_language: str) -> str:
    """What tells apart cookie-less requests: agent, languages and /24 network."""
    return f"{user_agent[:300]}|{accept_language[:100]}|{network_of(ip)}"


def marks(who: Who, serial: str, secret: bytes, now: dt.datetime) -> dict:
    """The hashed marks of one scan, the parameters of both scan paths: ``device`` and
    ``agent`` (None with a cookie) for today; ``origin``, ``place``, ``country`` (None
    when unknown) for the ``window`` and as ``*_next`` for the window after; ``owner``,
    the device as an owner; ``staff``, ``known`` (the cookie was presented) and
    ``country_code`` (the raw country, kept as the unit's first country)."""
    day = now.date()
    window = window_of(day)
    following = window + dt.timedelta(days=WINDOW_DAYS)
    place = place_of(who.ip)
    values = {
        "day": day,
        "window": window,
        "window_next": following,
        "window_prev": window - dt.timedelta(days=WINDOW_DAYS),
        "device": day_hash(secret, day, device_value(who.device_id)),
        "agent": None if who.device_known else day_hash(secret, day, who.agent),
        "owner": owner_hash(secret, serial, who.device_id),
        "staff": who.staff,
        "known": who.device_known,
        "country_code": who.country,
    }
    for suffix, start in (("", window), ("_next", following)):
        values["origin" + suffix] = window_hash(secret, start, serial, "o|" + who.device_id)
        values["place" + suffix] = window_hash(secret, start, serial, "p|" + place)
        values["country" + suffix] = (
            window_hash(secret, start, serial, "c|" + who.country) if who.country else None
        )
    return values


#: The kinds of window mark, each written for this window and the next.
WINDOW_KINDS = ("origin", "place", "country")


def day_mark_rows(unit_id: int, values: dict, now: dt.datetime) -> list[dict]:
    """The day's marks a request inserts (insert-or-ignore), which tell a scan from a
    view (:func:`is_scan`): none for a staff scan."""
    if values["staff"]:
        return []
    rows = [("device", values["day"], values["device"]), ("agent", values["day"], values["agent"])]
    return _rows(unit_id, rows, now)


def window_mark_rows(unit_id: int, values: dict, now: dt.datetime) -> list[dict]:
    """The window marks a scan inserts (insert-or-ignore), for this window and the next;
    written for scans only, since a view is a device already counted today."""
    rows = []
    for kind in WINDOW_KINDS:
        rows.append((kind, values["window"], values[kind]))
        rows.append((kind, values["window_next"], values[kind + "_next"]))
    return _rows(unit_id, rows, now)


def _rows(unit_id: int, rows: list[tuple], now: dt.datetime) -> list[dict]:
    return [
        {"unit_id": unit_id, "kind": kind, "day": day, "value": value, "seen_at": now}
        for kind, day, value in rows
        if value is not None
    ]


def is_scan(values: dict, new: set[tuple[str, dt.date]]) -> bool:
    """Whether a request is a scan, given its new day marks: a device new today (without
    a cookie, with agent, languages and /24 new today too), not a staff member's."""
    day = values["day"]
    if values["staff"] or ("device", day) not in new:
        return False
    return values["known"] or ("agent", day) in new


@dataclass(frozen=True, slots=True)
class Counted:
    """What one scan adds, from which of its marks were new; :func:`tally` says how."""

    scan: bool
    view: bool
    place: bool
    place_next: bool
    country: bool
    country_next: bool


def tally(values: dict, new: set[tuple[str, dt.date]]) -> Counted:
    """What a scan adds given its ``new`` marks (kind, day): the one rule, also written as
    SQL in :mod:`tracemark.scanning.scan_statement`. The owner's devices add no place;
    that is checked against the stored owners by the upsert."""
    if values["staff"]:
        return Counted(False, False, False, False, False, False)
    window, following = values["window"], values["window_next"]
    scan = is_scan(values, new)
    place = scan and ("origin", window) in new and ("place", window) in new
    place_next = scan and ("origin", following) in new and ("place", following) in new
    return Counted(
        scan=scan,
        view=not scan,
        place=place,
        place_next=place_next,
        country=place and ("country", window) in new,
        country_next=place_next and ("country", following) in new,
    )


def _owned(column: ColumnElement, owner: ColumnElement) -> ColumnElement:
    """Whether ``owner`` is one of the space-separated hashes in ``column``."""
    return func.coalesce(column, "").like("% " + owner + " %")


@cache
def count_statements(dialect: str) -> tuple:
    """The SQLite path's statements (marks insert, counting upsert, event insert), built
    once per dialect: building SQLAlchemy expressions costs more than running them."""
    insert_ = insert_for(dialect)
    mark = UnitScanMark.__table__.c
    marks_insert = insert_(UnitScanMark).on_conflict_do_nothing().returning(mark.kind, mark.day)
    return marks_insert, _upsert(insert_), insert(ScanEvent.__table__)


def _flag(name: str) -> ColumnElement:
    return bindparam(name, type_=UnitScanState.__table__.c.places.type)


def _upsert(insert_):
    """Count one scan of a unit: the flags of :class:`Counted` as 0/1 parameters; the
    owner's devices (``owner`` in ``owner_devices``) add no place."""
    state = UnitScanState.__table__.c
    now, window = bindparam("now"), bindparam("window", type_=state.window_start.type)
    window_prev = bindparam("window_prev", type_=state.window_start.type)
    country = bindparam("country_code", type_=state.first_country.type)
    owner = bindparam("owner", type_=String)
    scan, view = _flag("scan"), _flag("view")
    counted = {name: _flag(name) for name in ("place", "place_next", "country", "country_next")}
    upsert = insert_(UnitScanState).values(
        unit_id=bindparam("unit_id"),
        scan_count=scan,
        views=view,
        first_scan_at=now,
        first_country=country,
        last_scan_at=now,
        window_start=window,
        places=counted["place"],
        places_next=counted["place_next"],
        countries=counted["country"],
        countries_next=counted["country_next"],
        pin_failures=0,
    )
    owned = _owned(state.owner_devices, owner)

    def add(name: str) -> ColumnElement:
        return case((owned, 0), else_=counted[name])

    def rolled(current, following) -> ColumnElement:
        """The window's count as it stands before this scan adds to it."""
        return case(
            (state.window_start == window, current),
            (state.window_start == window_prev, following),
            else_=0,
        )

    first = and_(state.scan_count == 0, scan == 1)
    return upsert.on_conflict_do_update(
        index_elements=[state.unit_id],
        set_={
            "scan_count": state.scan_count + scan,
            "views": state.views + view,
            "first_scan_at": case((first, now), else_=state.first_scan_at),
            "first_country": case((first, country), else_=state.first_country),
            "last_scan_at": case((scan + view > 0, now), else_=state.last_scan_at),
            "window_start": window,
            "places": rolled(state.places, state.places_next) + add("place"),
            "places_next": case((state.window_start == window, state.places_next), else_=0)
            + add("place_next"),
            "countries": rolled(state.countries, state.countries_next) + add("country"),
            "countries_next": case((state.window_start == window, state.countries_next), else_=0)
            + add("country_next"),
        },
    ).returning(
        state.scan_count,
        state.first_scan_at,
        state.first_country,
        state.claimed_at,
        state.owner_devices,
        state.places,
        state.countries,
    )


def is_owner(owner_devices: str | None, owner: str) -> bool:
    return f" {owner} " in (owner_devices or "")


def add_owner(owner_devices: str | None, owner: str) -> str:
    """``owner_devices`` with ``owner`` added (the oldest dropped beyond the limit)."""
    devices = [d for d in (owner_devices or "").split() if d != owner] + [owner]
    return " " + " ".join(devices[-MAX_OWNER_DEVICES:]) + " "


__all__ = [
    "WINDOW_DAYS",
    "Counted",
    "Who",
    "add_owner",
    "agent_value",
    "count_statements",
    "day_hash",
    "day_mark_rows",
    "is_owner",
    "is_scan",
    "marks",
    "network_of",
    "new_device_id",
    "owner_hash",
    "place_of",
    "tally",
    "window_mark_rows",
    "window_of",
]
