"""Recording scans and judging them: the step after a code's identity is checked.

Devices and networks are never stored in the clear: each appears as a keyed hash
(:mod:`tracemark.scanning.counting`): scan events and the new-scan marks under a salt
that rotates daily, a unit's clone-risk marks under a key of the unit and its window,
so no stored value links two units, or one unit's scans beyond its window, and none can
be reversed to an address. Per-unit state changes by single atomic statements (an
upsert for counters, insert-or-ignore for distinct marks), so counts stay exact when
many scans of one code race.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tracemark.codes.keycache import KeyCache
from tracemark.codes.verify import CodeCheck, Identity, check_url, load_key, verified_code
from tracemark.db import dialect_name
from tracemark.models import BatchStatus
from tracemark.models.base import as_utc, utcnow
from tracemark.scanning import counting, scan_statement
from tracemark.scanning.attribution import claimed_brand
from tracemark.scanning.counting import Who, day_hash, network_of, place_of
from tracemark.scanning.devices import device_class
from tracemark.scanning.risk import Observation, RiskPolicy, judge

__all__ = ["Client", "ScanOutcome", "Verdict", "day_hash", "network_of", "place_of", "scan_code"]


class Verdict(enum.StrEnum):
    """What the consumer is told; the values are stable machine codes."""

    GENUINE_FIRST_SCAN = "genuine_first_scan"
    GENUINE_SCANNED_BEFORE = "genuine_scanned_before"
    SUSPICIOUS_COPY = "suspicious_copy"
    NOT_GENUINE = "not_genuine"
    REVOKED_KEY = "revoked_key"
    BATCH_ON_HOLD = "batch_on_hold"
    BATCH_RECALLED = "batch_recalled"
    #: The signature is right but the database could not be asked (degraded service).
    SIGNATURE_ONLY = "genuine_signature_unchecked"
    #: Neither the database nor the remembered keys could decide (degraded service).
    UNAVAILABLE = "verification_unavailable"


@dataclass(frozen=True)
class Client:
    """What a request says about who scans: raw values, hashed before anything is kept."""

    ip: str | None = None
    user_agent: str = ""
    accept_language: str = ""
    #: ISO 3166-1 alpha-2, from a trusted proxy header; None when unknown.
    country: str | None = None
    locale: str | None = None
    #: The device cookie's random id (a fresh one when the request had none; None: make
    #: one up for this request only, as for API clients).
    device_id: str | None = None
    #: The request presented that cookie (a returning device).
    device_known: bool = False
    #: Brands the signed-in user is a member of: their scans of those brands' units are
    #: staff scans, counted apart from consumers'.
    staff_brands: frozenset[int] = frozenset()

    def who(self, brand_id: int | None) -> Who:
        """The client as the counting sees it, for a unit of ``brand_id``."""
        return Who(
            device_id=self.device_id or counting.new_device_id(),
            device_known=self.device_known and self.device_id is not None,
            ip=self.ip,
            agent=counting.agent_value(self.ip, self.user_agent, self.accept_language),
            country=self.country,
            staff=brand_id is not None and brand_id in self.staff_brands,
        )


@dataclass(frozen=True)
class ScanOutcome:
    verdict: Verdict
    reason: str
    check: CodeCheck
    patterns: list[str] = field(default_factory=list)
    scan_count: int = 0
    first_scan_at: dt.datetime | None = None
    first_country: str | None = None
    claimed_at: dt.datetime | None = None
    #: ``scan``, ``view`` or ``staff`` (see ``ScanEvent.kind``); None when not counted.
    kind: str | None = None
    #: The scan comes from one of the devices that claimed the unit with its PIN.
    owner: bool = False


def scan_code(
    sessions: sessionmaker[Session],
    url: str,
    client: Client,
    *,
    secret: bytes,
    keys: KeyCache | None = None,
    now: dt.datetime | None = None,
) -> ScanOutcome:
    """Check ``url``, store the scan and return the consumer's verdict: the one way a scan
    is recorded. Never raises for bad input; database failures raise SQLAlchemy errors.

    On PostgreSQL a code whose signature verifies costs one statement
    (:mod:`tracemark.scanning.scan_statement`: unit facts, marks, counters, judgement and
    event), a refused one a single insert. Elsewhere (SQLite) :func:`check_url` and
    :func:`record_and_judge` run in one transaction, with the same results.
    """
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        with sessions.begin() as session:
            check = check_url(session, url, keys)
            return record_and_judge(session, check, client, secret=secret, now=now)
    now = now or utcnow()
    code = verified_code(url, keys, lambda kid: _load_key(sessions, kid))
    if isinstance(code, CodeCheck):  # a forged code counts for the brand it names
        marks = _event_marks(client, secret, now)
        scan_statement.record_refused(engine, code.reason, marks, code.code)
        return ScanOutcome(Verdict.NOT_GENUINE, code.reason, code)
    who = client.who(None)
    values = {
        **counting.marks(who, code.serial, secret, now),
        **_event_marks(client, secret, now, who.device_id),
        "staff_brands": sorted(client.staff_brands),
    }
    check, row = scan_statement.record(engine, code, values)
    if check.facts is None:
        return ScanOutcome(Verdict.NOT_GENUINE, check.reason, check)
    return ScanOutcome(
        Verdict(row["verdict"]),
        row["reason"],
        check,
        list(row["patterns"]),
        row["scan_count"],
        row["first_scan_at"],
        row["first_country"],
        row["claimed_at"],
        row["kind"],
        row["owner"],
    )


def _load_key(sessions: sessionmaker[Session], kid: str):
    with sessions() as session:
        return load_key(session, kid)


def _event_marks(
    client: Client, secret: bytes, now: dt.datetime, device_id: str | None = None
) -> dict:
    """What a scan event stores about its client, hashed under the day's salt."""
    day = now.date()
    device = device_id or client.device_id
    device_value = (
        counting.device_value(device)
        if device
        else counting.agent_value(client.ip, client.user_agent, client.accept_language)
    )
    return {
        "now": now,
        "event_device": day_hash(secret, day, device_value),
        "network": day_hash(secret, day, network_of(client.ip)),
        "country_code": client.country,
        "locale": (client.locale or "")[:16] or None,
        "device_class": device_class(client.user_agent),
    }


def record_and_judge(
    session: Session,
    check: CodeCheck,
    client: Client,
    *,
    secret: bytes,
    now: dt.datetime | None = None,
) -> ScanOutcome:
    """Store the scan and return the consumer's verdict. The caller commits.

    For a known unit: the distinct marks (insert-or-ignore, reporting which were new),
    the counters (one upsert that also returns the history the judgement needs), then the
    scan event; the counting rule is :func:`tracemark.scanning.counting.tally`.
    """
    now = now or utcnow()
    facts = check.facts
    if check.identity is Identity.NOT_GENUINE or facts is None:
        outcome = ScanOutcome(Verdict.NOT_GENUINE, check.reason, check)
        _store_event(session, outcome, _event_marks(client, secret, now), "scan")
        return outcome
    who = client.who(facts.brand_id)
    values = counting.marks(who, check.code.serial, secret, now)
    state = _count_scan(session, facts.unit_id, values, now)
    owner = counting.is_owner(state.owner_devices, values["owner"])
    policy = RiskPolicy.from_overrides(facts.risk_policy)
    patterns = judge(Observation(state.places, state.countries, owner), policy)
    verdict, reason = _verdict(check, state.scan_count, patterns)
    kind = "staff" if who.staff else "scan" if state.scan else "view"
    outcome = ScanOutcome(
        verdict,
        reason,
        check,
        patterns,
        state.scan_count,
        state.first_scan_at,
        state.first_country,
        state.claimed_at,
        kind,
        owner,
    )
    _store_event(session, outcome, _event_marks(client, secret, now, who.device_id), kind)
    return outcome


def _verdict(check: CodeCheck, scan_count: int, patterns: list[str]) -> tuple[Verdict, str]:
    if check.identity is Identity.REVOKED_KEY:
        return Verdict.REVOKED_KEY, "revoked_key"
    if check.facts.batch_status is BatchStatus.RECALLED:
        return Verdict.BATCH_RECALLED, "recalled"
    if check.facts.batch_status is BatchStatus.ON_HOLD:
        return Verdict.BATCH_ON_HOLD, "on_hold"
    if patterns:
        return Verdict.SUSPICIOUS_COPY, patterns[0]
    if scan_count <= 1:
        return Verdict.GENUINE_FIRST_SCAN, "first_scan"
    return Verdict.GENUINE_SCANNED_BEFORE, "scanned_before"


@dataclass(frozen=True, slots=True)
class _State:
    scan_count: int
    first_scan_at: dt.datetime
    first_country: str | None
    claimed_at: dt.datetime | None
    owner_devices: str | None
    places: int
    countries: int
    #: This open was a new scan (not a view).
    scan: bool


def _count_scan(session: Session, unit_id: int, values: dict, now: dt.datetime) -> _State:
    """Mark the scan, count it (:func:`counting.tally`) and return the unit's state: the
    day's marks, then for a scan (not a view) its window marks, then the upsert.

    SET expressions see the row as it was; concurrent scans of one unit serialise on the
    row, and a mark raced by two scans is inserted (and counted) by one of them only.
    """
    connection = session.connection()
    marks, count, _event = counting.count_statements(dialect_name(session))
    new = _insert_marks(connection, marks, counting.day_mark_rows(unit_id, values, now))
    if counting.is_scan(values, new):  # not a view: the device and place in the window
        new |= _insert_marks(connection, marks, counting.window_mark_rows(unit_id, values, now))
    added = counting.tally(values, new)
    flags = {name: int(getattr(added, name)) for name in added.__slots__}
    parameters = {
        "unit_id": unit_id,
        "now": now,
        "window": values["window"],
        "window_prev": values["window_prev"],
        "country_code": values["country_code"],
        "owner": values["owner"],
        **flags,
    }
    row = connection.execute(count, parameters).one()
    return _State(
        row.scan_count,
        as_utc(row.first_scan_at),
        row.first_country,
        as_utc(row.claimed_at),
        row.owner_devices,
        row.places,
        row.countries,
        added.scan,
    )


def _insert_marks(connection, marks, rows: list[dict]) -> set[tuple[str, dt.date]]:
    """Insert-or-ignore ``rows``; the (kind, day) of those that were new."""
    return {(kind, day) for kind, day in connection.execute(marks, rows)} if rows else set()


def _store_event(session, outcome: ScanOutcome, event: dict, kind: str) -> None:
    facts, code = outcome.check.facts, outcome.check.code
    if facts is not None:
        brand_id = facts.brand_id
    else:  # a forged code counts for the brand it names (its key id, GTIN or prefix)
        brand_id = claimed_brand(session, code.gtin, code.kid) if code is not None else None
    session.connection().execute(
        counting.count_statements(dialect_name(session))[2],
        {
            "brand_id": brand_id,
            "unit_id": facts.unit_id if facts else None,
            "scanned_at": event["now"],
            "verdict": outcome.verdict.value,
            "reason": outcome.reason[:64],
            "country": event["country_code"],
            "locale": event["locale"],
            "device_hash": event["event_device"],
            "network_hash": event["network"],
            "device_class": event["device_class"],
            "kind": kind,
        },
    )
