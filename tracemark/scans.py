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

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tracemark.models import BatchStatus, ScanEvent, UnitScanMark, UnitScanState
from tracemark.models.base import as_utc, utcnow
from tracemark.risk import Observation, RiskPolicy, judge
from tracemark.verify import CodeCheck, Identity

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


def record_and_judge(
    session: Session,
    check: CodeCheck,
    client: Client,
    *,
    secret: bytes,
    now: dt.datetime | None = None,
) -> ScanOutcome:
    """Store the scan and return the consumer's verdict. The caller commits."""
    now = now or utcnow()
    day = now.date()
    device = day_hash(secret, day, device_value(client))
    network = day_hash(secret, day, network_of(client.ip))
    if check.identity is Identity.NOT_GENUINE or check.unit is None:
        outcome = ScanOutcome(Verdict.NOT_GENUINE, check.reason, check)
        _store_event(session, outcome, client, device, network, now)
        return outcome
    unit_id = check.unit.id
    marks = [("device", day, device), ("network", day, network)]
    if client.country is not None:
        marks.append(("country", EVER, client.country))
    new_country = "country" in _mark(session, unit_id, marks, now)
    state = _count_scan(session, unit_id, client.country, now)
    outcome = _judge(session, check, client, state, device, new_country, now)
    _store_event(session, outcome, client, device, network, now)
    return outcome


def _judge(session, check, client, state, device, new_country, now) -> ScanOutcome:
    unit_id = check.unit.id
    counts = dict(
        session.execute(
            select(UnitScanMark.kind, func.count())
            .where(
                UnitScanMark.unit_id == unit_id,
                ((UnitScanMark.kind != "country") & (UnitScanMark.day == now.date()))
                | (UnitScanMark.kind == "country"),
            )
            .group_by(UnitScanMark.kind)
        ).all()
    )
    policy = RiskPolicy.from_overrides(check.brand.risk_policy)
    observation = Observation(
        now=now,
        first_scan_at=state.first_scan_at,
        networks_today=counts.get("network", 0),
        devices_today=counts.get("device", 0),
        countries_seen=counts.get("country", 0),
        other_country_recently=_other_country_recently(session, unit_id, client, now, policy),
        claimed_elsewhere=state.claimed_at is not None and state.claim_device_hash != device,
        new_country_later=new_country and state.scan_count > 1,
    )
    patterns = judge(observation, policy)
    verdict, reason = _verdict(check, state.scan_count, patterns)
    return ScanOutcome(
        verdict,
        reason,
        check,
        patterns,
        state.scan_count,
        state.first_scan_at,
        state.first_country,
        state.claimed_at,
    )


def _verdict(check: CodeCheck, scan_count: int, patterns: list[str]) -> tuple[Verdict, str]:
    if check.identity is Identity.REVOKED_KEY:
        return Verdict.REVOKED_KEY, "revoked_key"
    if check.batch.status is BatchStatus.RECALLED:
        return Verdict.BATCH_RECALLED, "recalled"
    if check.batch.status is BatchStatus.ON_HOLD:
        return Verdict.BATCH_ON_HOLD, "on_hold"
    if patterns:
        return Verdict.SUSPICIOUS_COPY, patterns[0]
    if scan_count <= 1:
        return Verdict.GENUINE_FIRST_SCAN, "first_scan"
    return Verdict.GENUINE_SCANNED_BEFORE, "scanned_before"


def _insert(session: Session, model):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def _mark(
    session: Session, unit_id: int, marks: list[tuple[str, dt.date, str]], now: dt.datetime
) -> set[str]:
    """Insert distinct marks in one statement; returns the kinds that were new."""
    statement = (
        _insert(session, UnitScanMark)
        .values(
            [
                {"unit_id": unit_id, "kind": kind, "day": day, "value": value, "seen_at": now}
                for kind, day, value in marks
            ]
        )
        .on_conflict_do_nothing()
        .returning(UnitScanMark.kind)
    )
    return set(session.execute(statement).scalars())


def _count_scan(session: Session, unit_id: int, country: str | None, now) -> UnitScanState:
    insert = _insert(session, UnitScanState).values(
        unit_id=unit_id,
        scan_count=1,
        first_scan_at=now,
        first_country=country,
        last_scan_at=now,
        last_country=country,
        pin_failures=0,
    )
    statement = insert.on_conflict_do_update(
        index_elements=[UnitScanState.unit_id],
        set_={
            "scan_count": UnitScanState.scan_count + 1,
            "last_scan_at": insert.excluded.last_scan_at,
            "last_country": insert.excluded.last_country,
        },
    ).returning(
        UnitScanState.scan_count,
        UnitScanState.first_scan_at,
        UnitScanState.first_country,
        UnitScanState.claimed_at,
        UnitScanState.claim_device_hash,
    )
    row = session.execute(statement).one()
    return UnitScanState(
        unit_id=unit_id,
        scan_count=row.scan_count,
        first_scan_at=as_utc(row.first_scan_at),
        first_country=row.first_country,
        claimed_at=as_utc(row.claimed_at),
        claim_device_hash=row.claim_device_hash,
    )


def _other_country_recently(session, unit_id, client: Client, now, policy: RiskPolicy) -> bool:
    if client.country is None:
        return False
    since = now - dt.timedelta(hours=policy.travel_hours)
    return (
        session.scalar(
            select(ScanEvent.id)
            .where(
                ScanEvent.unit_id == unit_id,
                ScanEvent.scanned_at >= since,
                ScanEvent.country.is_not(None),
                ScanEvent.country != client.country,
            )
            .limit(1)
        )
        is not None
    )


def _store_event(session, outcome: ScanOutcome, client: Client, device, network, now) -> None:
    check = outcome.check
    session.add(
        ScanEvent(
            brand_id=check.brand.id if check.brand else None,
            unit_id=check.unit.id if check.unit else None,
            scanned_at=now,
            verdict=outcome.verdict.value,
            reason=outcome.reason[:64],
            country=client.country,
            locale=(client.locale or "")[:16] or None,
            device_hash=device,
            network_hash=network,
        )
    )
    session.flush()
