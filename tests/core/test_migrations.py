from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tracemark import migrate
from tracemark.models import Base


def test_migrations_reach_head_and_match_the_models(db):
    assert migrate.is_current(db.engine)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent(db):
    migrate.upgrade(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision(db.engine)
