"""Recording scans and judging them: the step after a code's identity is checked.

Devices and networks are never stored in the clear: each appears as an HMAC under a
salt derived from the deployment secret and the day, so hashes link scans within a day
(which clone detection needs) but not across days, and cannot be reversed to an IP.
Per-unit state changes by single atomic statements (an upsert for counters, insert-or-
ignore for distinct marks), so counts stay exact when many scans of one code race.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import String, bindparam, case, func, insert, literal, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from tracemark.codes.keycache import KeyCache
from tracemark.codes.verify import CodeCheck, Identity, check_url, load_key, verified_code
from tracemark.db import dialect_name, insert_for
from tracemark.models import BatchStatus, ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.base import as_utc, utcnow
from tracemark.scanning import scan_statement
from tracemark.scanning.attribution import claimed_brand
from tracemark.scanning.devices import device_class
from tracemark.scanning.risk import Observation, RiskPolicy, judge

#: The day used for marks that count "ever" rather than "today" (countries).
EVER = dt.date(1970, 1, 1)


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


def network_of(ip: str | None) -> str:
    """The network a client is in: its IPv4 /24 or IPv6 /48 ('unknown' if unparsable)."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def day_hash(secret: bytes, day: dt.date, value: str) -> str:
    salt = hmac.new(secret, b"tracemark-scan-salt|" + day.isoformat().encode(), hashlib.sha256)
    digest = hmac.new(salt.digest(), value.encode("utf-8", "replace"), hashlib.sha256)
    return digest.hexdigest()[:32]


def device_value(client: Client) -> str:
    return f"{client.user_agent[:300]}|{client.accept_language[:100]}|{network_of(client.ip)}"


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
    marks = _marks(client, secret, now)
    code = verified_code(url, keys, lambda kid: _load_key(sessions, kid))
    if isinstance(code, CodeCheck):  # a forged code counts for the brand it names
        scan_statement.record_refused(engine, code.reason, marks, code.code)
        return ScanOutcome(Verdict.NOT_GENUINE, code.reason, code)
    check, row = scan_statement.record(engine, code, marks)
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
    )


def _load_key(sessions: sessionmaker[Session], kid: str):
    with sessions() as session:
        return load_key(session, kid)


def _marks(client: Client, secret: bytes, now: dt.datetime) -> dict:
    """What a scan stores about its client, hashed: the one statement's parameters."""
    day = now.date()
    return {
        "now": now,
        "day": day,
        "device": day_hash(secret, day, device_value(client)),
        "network": day_hash(secret, day, network_of(client.ip)),
        "country": client.country,
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

    For a known unit: the distinct marks (insert-or-ignore, reporting which were new)
    and the counters (one upsert that also returns the history the judgement needs) —
    one statement on PostgreSQL, two on SQLite — then the scan event.
    """
    now = now or utcnow()
    day = now.date()
    device = day_hash(secret, day, device_value(client))
    network = day_hash(secret, day, network_of(client.ip))
    facts = check.facts
    if check.identity is Identity.NOT_GENUINE or facts is None:
        outcome = ScanOutcome(Verdict.NOT_GENUINE, check.reason, check)
        _store_event(session, outcome, client, device, network, now)
        return outcome
    state, new = _count_scan(session, facts.unit_id, device, network, client.country, now)
    policy = RiskPolicy.from_overrides(facts.risk_policy)
    observation = Observation(
        now=now,
        first_scan_at=state.first_scan_at,
        networks_today=state.networks_today,
        devices_today=state.devices_today,
        countries_seen=state.countries,
        other_country_recently=_travelled(state, client.country, now, policy),
        claimed_elsewhere=state.claimed_at is not None and state.claim_device_hash != device,
        new_country_later="country" in new and state.scan_count > 1,
    )
    patterns = judge(observation, policy)
    verdict, reason = _verdict(check, state.scan_count, patterns)
    outcome = ScanOutcome(
        verdict,
        reason,
        check,
        patterns,
        state.scan_count,
        state.first_scan_at,
        state.first_country,
        state.claimed_at,
    )
    _store_event(session, outcome, client, device, network, now)
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


def _travelled(state, country: str | None, now: dt.datetime, policy: RiskPolicy) -> bool:
    """Seen in another country within ``travel_hours`` before this scan."""
    if country is None or state.prev_country in (None, country):
        return False
    return now - state.prev_country_at <= dt.timedelta(hours=policy.travel_hours)


#: The kinds of distinct mark, each counted by a column of the scan state.
KINDS = ("device", "network", "country")


@cache
def _statements(dialect: str) -> tuple:
    """The scan path's statements, built once per dialect with bind parameters: building
    SQLAlchemy expressions costs more than running them, and these run on every scan.

    On PostgreSQL the marks insert is a data-modifying CTE of the counters upsert, so a
    scan of a known unit is one round trip; its ``RETURNING`` says which marks were new.
    """
    insert_ = insert_for(dialect)
    mark = UnitScanMark.__table__.c
    if dialect == "postgresql":
        unit_id, now = bindparam("unit_id", type_=mark.unit_id.type), bindparam("now")
        day, country = bindparam("day", type_=mark.day.type), bindparam("country", type_=String)

        def row(kind: str, when, value):
            return select(unit_id, literal(kind, String), when, value, now)

        rows = union_all(
            row("device", day, bindparam("device", type_=String)),
            row("network", day, bindparam("network", type_=String)),
            row("country", literal(EVER), country).where(country.is_not(None)),
        )
        marks = (
            insert_(UnitScanMark)
            .from_select(["unit_id", "kind", "day", "value", "seen_at"], rows)
            .on_conflict_do_nothing()
            .returning(mark.kind)
            .cte("new_marks")
        )
        new = {
            kind: select(func.count())
            .select_from(marks)
            .where(marks.c.kind == kind)
            .scalar_subquery()
            for kind in KINDS
        }
        state = _upsert(insert_, new).cte("state")
        count = select(state, *(new[kind].label(f"new_{kind}") for kind in KINDS))
        return None, count, insert(ScanEvent.__table__)
    marks = insert_(UnitScanMark).on_conflict_do_nothing().returning(mark.kind)
    new = {kind: bindparam(f"new_{kind}") for kind in KINDS}
    return marks, _upsert(insert_, new), insert(ScanEvent.__table__)


def _upsert(insert_, new: dict):
    """Count one scan of a unit, with ``new`` giving how many of each mark were new."""
    state = UnitScanState.__table__.c
    now, day = bindparam("now"), bindparam("day")
    country = bindparam("country", type_=state.last_country.type)
    upsert = insert_(UnitScanState).values(
        unit_id=bindparam("unit_id"),
        scan_count=1,
        first_scan_at=now,
        first_country=country,
        last_scan_at=now,
        last_country=country,
        last_country_at=bindparam("country_at"),
        day=day,
        devices_today=new["device"],
        networks_today=new["network"],
        countries=new["country"],
        pin_failures=0,
    )
    same_day = state.day == day
    return upsert.on_conflict_do_update(
        index_elements=[state.unit_id],
        set_={
            "scan_count": state.scan_count + 1,
            "last_scan_at": now,
            "day": day,
            "devices_today": case((same_day, state.devices_today), else_=0) + new["device"],
            "networks_today": case((same_day, state.networks_today), else_=0) + new["network"],
            "countries": state.countries + new["country"],
            "prev_country": state.last_country,
            "prev_country_at": state.last_country_at,
            "last_country": func.coalesce(upsert.excluded.last_country, state.last_country),
            "last_country_at": func.coalesce(
                upsert.excluded.last_country_at, state.last_country_at
            ),
        },
    ).returning(
        state.scan_count,
        state.first_scan_at,
        state.first_country,
        state.claimed_at,
        state.claim_device_hash,
        state.devices_today,
        state.networks_today,
        state.countries,
        state.prev_country,
        state.prev_country_at,
    )


@dataclass(frozen=True, slots=True)
class _State:
    scan_count: int
    first_scan_at: dt.datetime
    first_country: str | None
    claimed_at: dt.datetime | None
    claim_device_hash: str | None
    devices_today: int
    networks_today: int
    countries: int
    prev_country: str | None
    prev_country_at: dt.datetime | None


def _count_scan(
    session: Session,
    unit_id: int,
    device: str,
    network: str,
    country: str | None,
    now: dt.datetime,
) -> tuple[_State, set[str]]:
    """Mark the scan's device, network and country, count the scan and the new marks,
    keep the country history; returns the state and the kinds of mark that were new.

    SET expressions see the row as it was, so ``prev_country`` takes the old
    ``last_country``; concurrent scans of one unit serialise on the row, and a mark
    raced by two scans is inserted (and counted) by one of them only.
    """
    connection = session.connection()
    marks, count, _event = _statements(dialect_name(session))
    parameters = {
        "unit_id": unit_id,
        "now": now,
        "day": now.date(),
        "country": country,
        "country_at": now if country else None,
    }
    if marks is None:
        row = connection.execute(count, {**parameters, "device": device, "network": network})
        row = row.one()
        new = {kind for kind in KINDS if getattr(row, f"new_{kind}")}
    else:
        rows = [
            {"unit_id": unit_id, "kind": kind, "day": day, "value": value, "seen_at": now}
            for kind, day, value in (
                ("device", now.date(), device),
                ("network", now.date(), network),
                ("country", EVER, country),
            )
            if value is not None
        ]
        new = set(connection.execute(marks, rows).scalars())
        flags = {f"new_{kind}": int(kind in new) for kind in KINDS}
        row = connection.execute(count, {**parameters, **flags}).one()
    state = _State(
        row.scan_count,
        as_utc(row.first_scan_at),
        row.first_country,
        as_utc(row.claimed_at),
        row.claim_device_hash,
        row.devices_today,
        row.networks_today,
        row.countries,
        row.prev_country,
        as_utc(row.prev_country_at),
    )
    return state, new


def _store_event(session, outcome: ScanOutcome, client: Client, device, network, now) -> None:
    facts, code = outcome.check.facts, outcome.check.code
    if facts is not None:
        brand_id = facts.brand_id
    else:  # a forged code counts for the brand it names (its key id, GTIN or prefix)
        brand_id = claimed_brand(session, code.gtin, code.kid) if code is not None else None
    session.connection().execute(
        _statements(dialect_name(session))[2],
        {
            "brand_id": brand_id,
            "unit_id": facts.unit_id if facts else None,
            "scanned_at": now,
            "verdict": outcome.verdict.value,
            "reason": outcome.reason[:64],
            "country": client.country,
            "locale": (client.locale or "")[:16] or None,
            "device_hash": device,
            "network_hash": network,
            "device_class": device_class(client.user_agent),
        },
    )
