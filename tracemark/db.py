"""Engine and session construction: the one place that knows the database dialects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


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


def is_postgresql(engine_or_session: Engine | Session) -> bool:
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else (engine_or_session)
    )
    return bind.dialect.name == "postgresql"


_T = TypeVar("_T")
#: Values per IN list: well under SQLite's bound-parameter limit on every version.
IN_LIST_SIZE = 500


def chunked(values: Iterable[_T], size: int = IN_LIST_SIZE) -> Iterator[list[_T]]:
    """``values`` in lists of at most ``size``, for ``IN`` clauses of any length."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]
