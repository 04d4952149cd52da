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
    migrate.migrate_to(db.engine)
    assert migrate.current_revision(db.engine) == migrate.head_revision()


def test_0002_turns_free_text_sites_into_site_rows(tmp_path):
    from sqlalchemy import text

    from tracemark.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.migrate_to(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO brand (id, slug, name, created_at) VALUES (1, 'b', 'B', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO product (id, brand_id, gtin, name, created_at)"
                " VALUES (1, 1, '09506000134352', 'P', '2026-01-01')"
            )
        )
        for batch_id, lot, site in ((1, "A", "Mill 1"), (2, "B", "Mill 1"), (3, "C", None)):
            connection.execute(
                text(
                    "INSERT INTO batch (id, brand_id, product_id, lot, site, status, created_at)"
                    " VALUES (:id, 1, 1, :lot, :site, 'released', '2026-01-01')"
                ),
                {"id": batch_id, "lot": lot, "site": site},
            )
    migrate.migrate_to(engine)
    with engine.connect() as connection:
        sites = connection.execute(text("SELECT id, name FROM site")).all()
        batches = connection.execute(text("SELECT lot, site_id FROM batch ORDER BY lot")).all()
    assert [name for _id, name in sites] == ["Mill 1"]
    assert batches == [("A", sites[0][0]), ("B", sites[0][0]), ("C", None)]
    migrate.migrate_to(engine, "0001")  # and back: the downgrade restores the text
    with engine.connect() as connection:
        assert connection.execute(text("SELECT site FROM batch ORDER BY lot")).scalars().all() == [
            "Mill 1",
            "Mill 1",
            None,
        ]
    engine.dispose()
