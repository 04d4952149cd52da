"""Engines: scans commit asynchronously on a pool of their own, everything else durably."""

from sqlalchemy import select, text

from tracemark.db import insert_returning_ids, make_scan_engine
from tracemark.models import AuditLog, TraceEvent
from tracemark.models.base import utcnow


def test_only_the_scan_engine_commits_asynchronously(db):
    scans = make_scan_engine(db.engine)
    if db.name == "sqlite":
        assert scans is db.engine  # nothing to save on an embedded database
        return
    try:
        with scans.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "off"
            assert connection.execute(text("SHOW search_path")).scalar() == db.engine.url.query[
                "options"
            ].removeprefix("-csearch_path=")
            # autocommit: a statement is durable (for this pool, asynchronously) on its own
            assert connection.connection.driver_connection.autocommit is True
        with db.engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
            assert connection.connection.driver_connection.autocommit is False
    finally:
        scans.dispose()


def test_statements_are_planned_with_their_values_not_prepared(db):
    """The same chunked IN list, run many times on one connection, stays unprepared, so
    PostgreSQL never swaps in a generic plan made without the values (the plan that made
    capture's duplicate check scan every event of the brand)."""
    if db.name == "sqlite":
        return
    ids = [f"urn:uuid:{i}" for i in range(500)]
    query = select(TraceEvent.event_id).where(
        TraceEvent.brand_id == 1, TraceEvent.event_id.in_(ids)
    )
    with db.sessions() as session:
        for _ in range(12):
            assert session.scalars(query).all() == []
        prepared = session.execute(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared.scalar() == 0


def test_rows_inserted_in_bulk_get_their_ids_in_order(db):
    table = AuditLog.__table__
    now = utcnow()
    rows = [
        {"action": f"test.bulk_{n}", "at": now, "details": {"n": n}, "actor": "system"}
        for n in range(3)
    ]
    with db.sessions() as session:  # never committed
        assert insert_returning_ids(session, table, []) == []
        ids = insert_returning_ids(session, table, rows)
        assert ids == sorted(ids) and len(set(ids)) == 3
        stored = session.execute(
            select(AuditLog.id, AuditLog.action, AuditLog.details).where(AuditLog.id.in_(ids))
        ).all()
        assert sorted(stored) == [(i, f"test.bulk_{n}", {"n": n}) for n, i in enumerate(ids)]
