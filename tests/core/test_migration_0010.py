from sqlalchemy import text

from tracemark import migrate
from tracemark.db import make_engine


def test_0010_downgrade_keeps_batch_events_and_drops_the_rest(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate.migrate_to(engine)
    rows = (
        "INSERT INTO brand (id, slug, name, created_at, risk_policy)"
        " VALUES (1, 'b', 'B', '2026-01-01', '{}')",
        "INSERT INTO product (id, brand_id, gtin, name, created_at, texts)"
        " VALUES (1, 1, '09506000134352', 'P', '2026-01-01', '{}')",
        "INSERT INTO batch (id, brand_id, product_id, lot, status, created_at, notice)"
        " VALUES (1, 1, 1, 'A', 'released', '2026-01-01', '{}')",
    )
    event = (
        "INSERT INTO trace_event (brand_id, batch_id, event_id, event_type, event_time,"
        " event_timezone, biz_step, data, recorded_at)"
        " VALUES (1, {batch}, {event_id}, 'ObjectEvent', '2026-01-01', '+00:00', 'shipping',"
        " '{{}}', '2026-01-01')"
    )
    with engine.begin() as connection:
        for row in rows:
            connection.execute(text(row))
        connection.execute(text(event.format(batch=1, event_id="NULL")))
        connection.execute(text(event.format(batch="NULL", event_id="'urn:uuid:x'")))
    migrate.migrate_to(engine, "0009")  # the revision before EPCIS genealogy
    with engine.connect() as connection:
        assert connection.execute(text("SELECT batch_id FROM trace_event")).scalars().all() == [1]
    migrate.migrate_to(engine)
    assert migrate.is_current(engine)
    engine.dispose()
