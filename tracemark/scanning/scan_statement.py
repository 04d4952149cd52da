"""A scan on PostgreSQL in one statement: unit facts, distinct marks, counters, the
clone-risk judgement and the scan event, in one round trip and one (autocommit)
transaction.

The statement is plain SQL text built once per process by :func:`scan_sql` (the one place
that builds it) and run through psycopg directly as a prepared statement, with no ORM or
Core compilation on the hot path. It computes exactly what the SQLite path computes in
several statements (:func:`tracemark.scanning.scans.record_and_judge`); the same scan
tests run on both databases, and :func:`judgement_sql` is checked against
:func:`tracemark.scanning.risk.judge` over many observations.

Concurrent scans of one unit serialise on its ``unit_scan_state`` row (the upsert) and on
the mark rows (insert-or-ignore waits for the inserter of a raced mark, then ignores it),
so counts stay exact; the data-modifying CTEs all see the statement's one snapshot, which
is why the counters read the marks through the ``RETURNING`` of ``day_marks`` and
``window_marks`` (the latter written for scans only, not views).
"""

from __future__ import annotations

import re
from dataclasses import fields
from functools import cache
from typing import Any

from psycopg import RawCursor
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from signing import KeyStatus, UnitCode
from tracemark.codes.verify import CodeCheck, Identity, UnitFacts
from tracemark.models import BatchStatus
from tracemark.models.base import as_utc
from tracemark.scanning.risk import RiskPolicy


def _threshold(name: str) -> str:
    """``name``'s threshold from the brand's overrides, as ``RiskPolicy.from_overrides``
    reads it: a JSON number (never a boolean) of at least 1, truncated; otherwise the
    default, passed as the parameter ``policy_<name>``."""
    value = f"(f.risk_policy ->> '{name}')::numeric"
    usable = f"json_typeof(f.risk_policy -> '{name}') = 'number' AND {value} >= 1"
    return f"CASE WHEN {usable} THEN trunc({value}) ELSE %(policy_{name})s::numeric END AS {name}"


def owned_sql(column: str) -> str:
    """Whether the parameter ``owner`` is one of the hashes in ``column``
    (:func:`tracemark.scanning.counting.is_owner`)."""
    return f"(strpos(coalesce({column}, ''), ' ' || %(owner)s::text || ' ') > 0)"


def judgement_sql() -> str:
    """The patterns of :func:`tracemark.scanning.risk.judge`, in its order, as one SQL
    array expression over ``s`` (the unit's counted state: ``places``, ``countries``,
    ``owner_devices``), ``p`` (the thresholds) and the parameter ``owner``."""
    owner = owned_sql("s.owner_devices")
    patterns = (
        ("many_networks", f"NOT {owner} AND s.places >= p.places"),
        ("many_countries", f"NOT {owner} AND s.countries >= p.countries"),
    )
    cases = ", ".join(f"CASE WHEN {test} THEN '{name}' END" for name, test in patterns)
    return f"array_remove(ARRAY[{cases}]::text[], NULL)"


def policy_sql() -> str:
    """A SELECT list of every threshold of :class:`RiskPolicy` over ``f.risk_policy``."""
    return ", ".join(_threshold(f.name) for f in fields(RiskPolicy))


#: The columns the statement returns, in order.
COLUMNS = (
    "unit_id",
    "serial",
    "with_pin",
    "batch_id",
    "lot",
    "batch_status",
    "notice",
    "gtin",
    "brand_id",
    "brand_name",
    "brand_contact",
    "risk_policy",
    "key_status",
    "scan_count",
    "first_scan_at",
    "first_country",
    "claimed_at",
    "verdict",
    "reason",
    "patterns",
    "kind",
    "owner",
)

#: The marks whose novelty the counting reads, with the day they are written for: the
#: day's (is this a scan?), then the window's (written for scans only).
_DAY_MARKS = (("device", "day", "device"), ("agent", "day", "agent"))
_WINDOW_MARKS = (
    ("origin", "window", "origin"),
    ("origin", "window_next", "origin_next"),
    ("place", "window", "place"),
    ("place", "window_next", "place_next"),
    ("country", "window", "country"),
    ("country", "window_next", "country_next"),
)


def _values(marks: tuple) -> str:
    return ",\n    ".join(f"('{k}', %({d})s::date, %({v})s::text)" for k, d, v in marks)


def _novel(marks: tuple) -> str:
    return ",\n         ".join(
        f"coalesce(bool_or(kind = '{k}' AND day = %({d})s::date), false) AS {v}"
        for k, d, v in marks
    )


def _window_count(column: str, flag: str) -> str:
    """A window counter after this scan: the count as the window stands (carried over
    from the next-window counter when the window turned), plus this scan's place unless
    the scan is the owner's (:func:`tracemark.scanning.counting._upsert`)."""
    add = f"CASE WHEN {owned_sql('o.owner_devices')} THEN 0 ELSE excluded.{flag} END"
    if column.endswith("_next"):
        current = f"CASE WHEN o.window_start = excluded.window_start THEN o.{column} ELSE 0 END"
    else:
        current = (
            f"CASE WHEN o.window_start = excluded.window_start THEN o.{column}"
            f" WHEN o.window_start = %(window_prev)s::date THEN o.{column}_next ELSE 0 END"
        )
    return f"{current} + {add}"


@cache
def scan_sql() -> str:
    """The one statement of a scan of a code whose signature verified (parameters: ``kid``,
    ``serial``, ``lot``, ``gtin``, the marks of :func:`tracemark.scanning.counting.marks`,
    ``staff_brands``, the event's ``event_device``, ``network``, ``country_code``,
    ``locale``, ``device_class``, ``now`` and ``policy_<threshold>`` for each default).

    It always returns one row and stores one event: for a code naming no stored unit,
    every column is null and the event says ``not_genuine``/``unknown_serial``. The
    counting is :func:`tracemark.scanning.counting.tally`'s, in SQL."""
    first = "o.scan_count = 0 AND excluded.scan_count = 1"
    # Built from this module's constants only; every value is a bound parameter.
    return f"""
WITH facts AS (
  SELECT u.id AS unit_id, u.serial, j.with_pin, b.id AS batch_id, b.lot,
         b.status AS batch_status, b.notice, p.gtin, br.id AS brand_id,
         br.name AS brand_name, br.contact_url AS brand_contact, br.risk_policy,
         k.status AS key_status, br.id = ANY(%(staff_brands)s::bigint[]) AS staff
  FROM signing_key k
  JOIN unit u ON u.brand_id = k.brand_id
  JOIN issuance_job j ON u.job_id = j.id AND j.signing_key_id = k.id
  JOIN batch b ON u.batch_id = b.id
  JOIN product p ON b.product_id = p.id
  JOIN brand br ON u.brand_id = br.id
  WHERE k.kid = %(kid)s::text AND u.serial = %(serial)s::text
    AND b.lot = %(lot)s::text AND p.gtin = %(gtin)s::text
), day_marks AS (
  INSERT INTO unit_scan_mark (unit_id, kind, day, value, seen_at)
  SELECT f.unit_id, m.kind, m.day, m.value, %(now)s::timestamptz
  FROM facts f CROSS JOIN (VALUES
    {_values(_DAY_MARKS)}
  ) AS m (kind, day, value)
  WHERE m.value IS NOT NULL AND NOT f.staff
  ON CONFLICT DO NOTHING
  RETURNING kind, day
), d AS (
  SELECT {_novel(_DAY_MARKS)}
  FROM day_marks
), window_marks AS (
  INSERT INTO unit_scan_mark (unit_id, kind, day, value, seen_at)
  SELECT f.unit_id, m.kind, m.day, m.value, %(now)s::timestamptz
  FROM facts f CROSS JOIN d CROSS JOIN (VALUES
    {_values(_WINDOW_MARKS)}
  ) AS m (kind, day, value)
  WHERE m.value IS NOT NULL AND d.device AND (%(known)s::boolean OR d.agent)
  ON CONFLICT DO NOTHING
  RETURNING kind, day
), w AS (
  SELECT {_novel(_WINDOW_MARKS)}
  FROM window_marks
), n AS (
  SELECT (d.device AND (%(known)s::boolean OR d.agent))::int AS scan,
         (NOT f.staff AND NOT (d.device AND (%(known)s::boolean OR d.agent)))::int AS view,
         (w.origin AND w.place)::int AS place,
         (w.origin_next AND w.place_next)::int AS place_next,
         (w.origin AND w.place AND w.country)::int AS country,
         (w.origin_next AND w.place_next AND w.country_next)::int AS country_next
  FROM facts f CROSS JOIN d CROSS JOIN w
), s AS (
  INSERT INTO unit_scan_state AS o (
    unit_id, scan_count, views, first_scan_at, first_country, last_scan_at, window_start,
    places, places_next, countries, countries_next, pin_failures)
  SELECT f.unit_id, n.scan, n.view, %(now)s::timestamptz, %(country_code)s::text,
         %(now)s::timestamptz, %(window)s::date, n.place, n.place_next, n.country,
         n.country_next, 0
  FROM facts f CROSS JOIN n
  ON CONFLICT (unit_id) DO UPDATE SET
    scan_count = o.scan_count + excluded.scan_count,
    views = o.views + excluded.views,
    first_scan_at = CASE WHEN {first} THEN excluded.first_scan_at ELSE o.first_scan_at END,
    first_country = CASE WHEN {first} THEN excluded.first_country ELSE o.first_country END,
    last_scan_at = CASE WHEN excluded.scan_count + excluded.views > 0
                        THEN excluded.last_scan_at ELSE o.last_scan_at END,
    window_start = excluded.window_start,
    places = {_window_count("places", "places")},
    places_next = {_window_count("places_next", "places_next")},
    countries = {_window_count("countries", "countries")},
    countries_next = {_window_count("countries_next", "countries_next")}
  RETURNING o.scan_count, o.first_scan_at, o.first_country, o.claimed_at,
            o.owner_devices, o.places, o.countries
), p AS (
  SELECT {policy_sql()} FROM facts f
), judged AS (
  SELECT f.*, s.scan_count, s.first_scan_at, s.first_country, s.claimed_at,
         {owned_sql("s.owner_devices")} AS owner, n.scan,
         {judgement_sql()} AS patterns
  FROM facts f CROSS JOIN s CROSS JOIN n CROSS JOIN p
), verdict AS (
  SELECT j.*,
    CASE WHEN j.key_status = 'revoked' THEN 'revoked_key'
         WHEN j.batch_status = 'recalled' THEN 'batch_recalled'
         WHEN j.batch_status = 'on_hold' THEN 'batch_on_hold'
         WHEN cardinality(j.patterns) > 0 THEN 'suspicious_copy'
         WHEN j.scan_count <= 1 THEN 'genuine_first_scan'
         ELSE 'genuine_scanned_before' END AS verdict,
    CASE WHEN j.key_status = 'revoked' THEN 'revoked_key'
         WHEN j.batch_status = 'recalled' THEN 'recalled'
         WHEN j.batch_status = 'on_hold' THEN 'on_hold'
         WHEN cardinality(j.patterns) > 0 THEN j.patterns[1]
         WHEN j.scan_count <= 1 THEN 'first_scan'
         ELSE 'scanned_before' END AS reason,
    CASE WHEN j.staff THEN 'staff' WHEN j.scan = 1 THEN 'scan' ELSE 'view' END AS kind
  FROM judged j
), one AS (
  SELECT v.* FROM (VALUES (1)) AS x (x) LEFT JOIN verdict v ON true
), event AS (
  INSERT INTO scan_event (brand_id, unit_id, scanned_at, verdict, reason, country, locale,
                          device_hash, network_hash, device_class, kind)
  -- a serial the brand never issued counts for the brand whose key signed it
  SELECT coalesce(one.brand_id,
                  (SELECT sk.brand_id FROM signing_key sk WHERE sk.kid = %(kid)s::text)),
         one.unit_id, %(now)s::timestamptz,
         coalesce(one.verdict, 'not_genuine'), coalesce(one.reason, 'unknown_serial'),
         %(country_code)s::text, %(locale)s::text, %(event_device)s::text,
         %(network)s::text, %(device_class)s::text, coalesce(one.kind, 'scan')
  FROM one
)
SELECT {", ".join(COLUMNS)} FROM one
"""  # noqa: S608


#: The event of a code refused before any unit lookup (malformed, unknown key, forged).
EVENT_SQL = """
INSERT INTO scan_event (brand_id, unit_id, scanned_at, verdict, reason, country, locale,
                        device_hash, network_hash, device_class, kind)
VALUES (
  -- the brand the code names (tracemark.scanning.attribution, in SQL): its key's, else
  -- the one brand with a product of its GTIN, else the holder of the GTIN's prefix
  coalesce(
    (SELECT sk.brand_id FROM signing_key sk WHERE sk.kid = %(kid)s::text),
    (SELECT min(p.brand_id) FROM product p WHERE p.gtin = %(gtin)s::text
     HAVING count(DISTINCT p.brand_id) = 1),
    (SELECT bp.brand_id FROM brand_prefix bp
     WHERE substr(%(gtin)s::text, 2) LIKE bp.prefix || '%' LIMIT 1)),
  NULL, %(now)s::timestamptz, 'not_genuine', %(reason)s::text, %(country_code)s::text,
  %(locale)s::text, %(event_device)s::text, %(network)s::text, %(device_class)s::text,
  'scan')
"""


@cache
def _statements() -> tuple[Statement, Statement]:
    """The scan's statement and the refused code's event, rewritten once."""
    return Statement(scan_sql(), returns_rows=True), Statement(EVENT_SQL, returns_rows=False)


@cache
def _policy_defaults() -> dict[str, float]:
    default = RiskPolicy()
    return {f"policy_{f.name}": getattr(default, f.name) for f in fields(RiskPolicy)}


class Statement:
    """SQL written with ``%(name)s`` parameters, kept in PostgreSQL's own ``$n`` form: run
    through psycopg's raw cursor, the text is neither parsed nor rewritten per call
    (psycopg caches its rewriting only for statements under 4 KiB; the scan's is longer),
    and the server prepares it once per connection."""

    def __init__(self, sql: str, *, returns_rows: bool) -> None:
        self.names: list[str] = []

        def number(match: re.Match) -> str:
            name = match.group(1)
            if name not in self.names:
                self.names.append(name)
            return f"${self.names.index(name) + 1}"

        self.sql = re.sub(r"%\((\w+)\)s", number, sql)
        #: Whether to fetch a row (asking psycopg whether there is one builds every
        #: column's description, which costs more than the fetch).
        self.returns_rows = returns_rows

    def values(self, parameters: dict[str, Any]) -> list:
        return [parameters[name] for name in self.names]


def execute(engine: Engine, statement: Statement, parameters: dict[str, Any]) -> tuple | None:
    """Run ``statement`` as a prepared statement on a pooled psycopg connection of
    ``engine`` and return its first row (None when it returns none).

    Committed before returning when the connection is not in autocommit (the scan pool
    is). psycopg errors become SQLAlchemy's, so callers handle one family of database
    errors; a connection that broke is invalidated, not returned to the pool."""
    dbapi = engine.dialect.loaded_dbapi
    try:
        fairy = engine.raw_connection()
    except dbapi.Error as exc:
        raise DBAPIError.instance(None, None, exc, dbapi.Error) from exc
    try:
        connection = fairy.driver_connection
        cursor = RawCursor(connection)
        cursor.execute(statement.sql, statement.values(parameters), prepare=True)
        row = cursor.fetchone() if statement.returns_rows else None
        if not connection.autocommit:
            connection.commit()
    except dbapi.Error as exc:
        if connection.broken or connection.closed:
            fairy.invalidate(exc)
        raise DBAPIError.instance(statement.sql, parameters, exc, dbapi.Error) from exc
    finally:
        fairy.close()
    return row


def record(engine: Engine, code: UnitCode, marks: dict[str, Any]) -> tuple[CodeCheck, dict]:
    """Scan ``code`` (its signature verified) in one statement. ``marks`` holds the
    statement's scan parameters (see :func:`scan_sql`). Returns the code's check and the
    judged history (``verdict``, ``reason``, ``patterns``, ``scan_count``,
    ``first_scan_at``, ``first_country``, ``claimed_at``, ``kind``, ``owner``)."""
    parameters = {
        "kid": code.kid,
        "serial": code.serial,
        "lot": code.lot,
        "gtin": code.gtin,
        **marks,
        **_policy_defaults(),
    }
    row = dict(zip(COLUMNS, execute(engine, _statements()[0], parameters), strict=True))
    if row["unit_id"] is None:
        # Signed by the brand's key but never stored: a leaked key, or a lost database.
        return CodeCheck(Identity.NOT_GENUINE, "unknown_serial", code), row
    facts = UnitFacts(
        row["unit_id"],
        row["serial"],
        row["with_pin"],
        row["batch_id"],
        row["lot"],
        BatchStatus(row["batch_status"]),
        row["notice"] or {},
        row["gtin"],
        row["brand_id"],
        row["brand_name"],
        row["brand_contact"],
        row["risk_policy"] or {},
        KeyStatus(row["key_status"]),
    )
    row["first_scan_at"] = as_utc(row["first_scan_at"])
    row["claimed_at"] = as_utc(row["claimed_at"])
    if facts.key_status is KeyStatus.REVOKED:
        return CodeCheck(Identity.REVOKED_KEY, "revoked_key", code, facts), row
    return CodeCheck(Identity.GENUINE, "genuine", code, facts), row


def record_refused(
    engine: Engine, reason: str, marks: dict[str, Any], code: UnitCode | None = None
) -> None:
    """Store the event of a code refused before any lookup (one statement), counted for
    the brand ``code`` names (:mod:`tracemark.scanning.attribution`), if any."""
    named = {"kid": code.kid if code else None, "gtin": code.gtin if code else None}
    execute(engine, _statements()[1], {"reason": reason[:64], **marks, **named})
