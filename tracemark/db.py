"""Engine and session construction: the one place that knows the database dialects."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    Engine,
    Table,
    cast,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout.

    A ``postgresql://`` URL is served by psycopg 3 (the driver COPY relies on), with its
    automatic server-side prepared statements turned off. After a statement has run five
    times on a connection, psycopg prepares it, and PostgreSQL may then switch it to a
    generic plan made without the parameter values. For our chunked ``IN`` lists (500
    parameters) that plan cannot hash the list and, on young tables without statistics,
    kept only ``brand_id`` as its index condition: event capture's duplicate check then
    compared every one of the brand's events with 500 parameters and slowed down with each
    document (44 ms to 1 s per 500 events over 80 documents). Planned with its values each
    time, it stays flat; simple statements lose nothing measurable.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("prepare_threshold", None)
    return create_engine(parsed, **kwargs)


def make_scan_engine(engine: Engine) -> Engine:
    """The engine for recording scans, beside ``engine`` (the one for everything else).

    On PostgreSQL its connections run in autocommit with ``synchronous_commit = off``:
    each scan statement is atomic on its own (counters by one upsert), scans are
    telemetry whose last moments a crash may lose, and dropping BEGIN, COMMIT and the
    per-checkout ping takes four of a scan's round trips away. A dead connection fails
    its scan (which degrades by itself) and is replaced, instead of being pinged before
    every use. Its few statements have a fixed shape (no ``IN`` lists), so psycopg's
    prepared statements stay on here and spare each scan a parse. SQLite has no round
    trips to save: it shares ``engine``.
    """
    if engine.dialect.name != "postgresql":
        return engine
    url = engine.url
    options = f"{url.query.get('options', '')} -c synchronous_commit=off".strip()
    return create_engine(
        url.update_query_dict({"options": options}),
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=False,
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def dialect_name(target: Engine | Connection | Session) -> str:
    """``"postgresql"`` or ``"sqlite"``: the dialect ``target`` talks to."""
    bind = target.get_bind() if isinstance(target, Session) else target
    return bind.dialect.name


def is_postgresql(target: Engine | Connection | Session) -> bool:
    return dialect_name(target) == "postgresql"


def insert_for(target: Engine | Connection | Session | str):
    """The dialect's ``insert`` construct (``target`` or a dialect name), which both
    dialects give ``on_conflict_do_nothing`` and ``on_conflict_do_update`` with the
    same arguments. A statement built once per dialect (and cached) passes the name."""
    name = target if isinstance(target, str) else dialect_name(target)
    return pg_insert if name == "postgresql" else sqlite_insert


def utc_day(column: Any, dialect: str) -> ColumnElement:
    """The UTC calendar day of a timestamp column, as SQL for ``dialect``."""
    if dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC timestamps as ISO text


def bulk_insert(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in ``columns`` order) into ``table`` on the session's
    connection: ``COPY … FROM STDIN`` on PostgreSQL (a thousand-row INSERT costs more to
    build than to run), ``executemany`` elsewhere. JSON columns take Python values.

    :raises sqlalchemy.exc.IntegrityError: a row breaks a constraint, on either
        dialect. COPY runs on the raw psycopg connection, whose own
        ``psycopg.errors.UniqueViolation`` (and kin) SQLAlchemy never sees; it is
        raised as SQLAlchemy's error here, so callers that retry after a concurrent
        insert (a serial collision, a resent document) catch one exception.
    """
    if not rows:
        return
    if not is_postgresql(session):
        values = [dict(zip(columns, row, strict=True)) for row in rows]
        session.connection().execute(generic_insert(table), values)
        return
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    raw = session.connection().connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                if json_at:
                    row = list(row)
                    for i in json_at:
                        if row[i] is not None:
                            row[i] = json.dumps(row[i])
                copy.write_row(row)
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc


def insert_returning_ids(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (dicts of one shape) into ``table``, whose serial primary key is
    ``id``, and return their ids in order. On PostgreSQL the ids are drawn from the
    table's sequence (and set in the rows) and the rows go in by :func:`bulk_insert`
    (COPY: a thousand-row INSERT costs more to build than to run); elsewhere one
    ``INSERT … RETURNING``.
    """
    if not rows:
        return []
    if not is_postgresql(session):
        statement = generic_insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(session.connection().execute(statement, rows).scalars())
    ids = list(
        session.scalars(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(rows)},
        )
    )
    for row_id, row in zip(ids, rows, strict=True):
        row["id"] = row_id
    insert_rows(session, table, rows)
    return ids


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """:func:`bulk_insert` of dicts of one shape (the first row's keys are the columns)."""
    if rows:
        columns = list(rows[0])
        bulk_insert(session, table, columns, [[row[c] for c in columns] for row in rows])


_T = TypeVar("_T")


def newest_of_brand(model: type[_T], brand_id: int, limit: int) -> Select[tuple[_T]]:
    """The query of the brand's latest ``limit`` rows of ``model`` (rows carry
    ``brand_id`` and a growing ``id``), newest first: the recent lists of a brand's
    pages. Callers may add loader options or conditions."""
    return select(model).where(model.brand_id == brand_id).order_by(model.id.desc()).limit(limit)


def lock_oldest(session: Session, model: type[_T], *where: ColumnElement[bool]) -> _T | None:
    """The oldest (lowest id) row of ``model`` meeting ``where``, locked until the
    transaction ends; None when there is none. Rows locked by other transactions are
    skipped (``SKIP LOCKED`` on PostgreSQL), so workers claiming at once each take a
    different row; SQLite's single writer makes them take turns instead."""
    query = select(model).where(*where).order_by(model.id).limit(1)
    return session.scalar(query.with_for_update(skip_locked=True))


#: Values per IN list: well under SQLite's bound-parameter limit on every version.
IN_LIST_SIZE = 500


def chunked(values: Iterable[_T], size: int = IN_LIST_SIZE) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size``, for ``IN`` clauses of any length."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
