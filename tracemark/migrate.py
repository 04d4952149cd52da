"""Schema migrations through Alembic: the only way the schema is created or changed."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser escaping
    return config


def migrate_to(engine: Engine, revision: str = "head") -> None:
    """Bring the database at ``engine`` to ``revision`` (up or down), in one transaction.

    SQLite alters tables by copying them, which foreign keys forbid while rows refer to
    them: there, keys are switched off for the migration and checked after it.
    """
    config = alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        with connection.begin():
            config.attributes["connection"] = connection
            current = MigrationContext.configure(connection).get_current_revision()
            heads = ScriptDirectory.from_config(config)
            if revision != "head" and current and _is_ancestor(heads, revision, current):
                command.downgrade(config, revision)
            else:
                command.upgrade(config, revision)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def _is_ancestor(scripts: ScriptDirectory, older: str, newer: str) -> bool:
    """True when ``older`` is strictly below ``newer`` in the revision history."""
    return older != newer and any(
        script.revision == older for script in scripts.iterate_revisions(newer, "base")
    )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def head_revision() -> str | None:
    """The newest revision of the scripts on disk, read once per process: reading them
    loads every migration module (tens of milliseconds, for each app and each gunicorn
    worker), and they do not change under a running process."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()
