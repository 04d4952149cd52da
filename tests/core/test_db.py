"""Engines: scans commit asynchronously on a pool of their own, everything else durably."""

from sqlalchemy import text

from tracemark.db import make_scan_engine


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
