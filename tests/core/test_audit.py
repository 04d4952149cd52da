"""The audit actor and ``audit.log``, and the one hold operation every door uses."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import make_brand
from tracemark import audit, catalog
from tracemark.accounts import tokens as api_tokens
from tracemark.accounts import users as accounts
from tracemark.models import AuditLog, Batch, BatchStatus, Brand


def _entries(session, brand_id: int, action: str) -> list[AuditLog]:
    query = select(AuditLog).where(AuditLog.brand_id == brand_id, AuditLog.action == action)
    return list(session.scalars(query.order_by(AuditLog.id)))


def test_each_actor_names_its_door_and_only_a_user_fills_user_id(db):
    demo = make_brand(db.sessions)
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        user = accounts.create_user(session, f"a-{brand.slug}@example.com", "x" * 12, "A")
        row, _token = api_tokens.create_token(session, brand, "ERP", ["read"])
        actors = [
            audit.Actor.of_user(user, brand.id),
            audit.Actor.of_token(row),
            audit.Actor.of_rule(7, brand.id),
            audit.CLI,
            audit.SYSTEM,
            audit.Actor.of_user(None),
        ]
        for actor in actors:
            audit.log(session, actor, "test.door", "brand", brand.id, {"n": 1}, brand_id=brand.id)
        written = _entries(session, brand.id, "test.door")
        assert [(e.actor, e.user_id) for e in written] == [
            ("user", user.id),
            (f"token:{row.prefix}", None),
            ("rule:7", None),
            ("cli", None),
            ("system", None),
            ("anonymous", None),
        ]
        assert {(e.object_type, e.object_id, repr(e.details)) for e in written} == {
            ("brand", str(brand.id), "{'n': 1}")
        }


def test_an_entry_belongs_to_the_actors_brand_unless_the_operation_names_one(db):
    mine, theirs = make_brand(db.sessions), make_brand(db.sessions)
    with db.sessions.begin() as session:
        actor = audit.Actor.of_rule(1, mine.brand.id)
        assert audit.log(session, actor, "test.brand").brand_id == mine.brand.id
        named = audit.log(session, actor, "test.brand", brand_id=theirs.brand.id)
        assert named.brand_id == theirs.brand.id
        assert audit.log(session, audit.CLI, "test.brand").brand_id is None


def test_holding_batches_holds_the_released_once_and_records_each_with_its_cause(db):
    demo, other = make_brand(db.sessions), make_brand(db.sessions, lot="THEIRS")
    with db.sessions.begin() as session:
        product = session.merge(demo.product)
        recalled = catalog.create_batch(session, product, "L-RECALLED")
        catalog.set_batch_status(session, recalled, BatchStatus.RECALLED, {"en": "Return it."})
        second = catalog.create_batch(session, product, "L-SECOND")
        ids = [demo.batch.id, second.id, recalled.id, other.batch.id]
        ids_made = (demo.batch.id, second.id)
    actor = audit.Actor.of_rule(3, demo.brand.id)
    notice = {"en": "On hold while we check.", "fr": ""}
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, demo.brand.id)
        held = catalog.hold_batches(session, brand, ids, notice, actor=actor, context={"why": 1})
        assert [batch.id for batch in held] == sorted(ids_made)
        again = catalog.hold_batches(session, brand, ids, notice, actor=actor)
        assert again == []  # held already: nothing more is held, nothing more recorded
    with db.sessions() as session:
        statuses = {b.id: b.status for b in session.scalars(select(Batch).where(Batch.id.in_(ids)))}
        assert statuses == {
            demo.batch.id: BatchStatus.ON_HOLD,
            second.id: BatchStatus.ON_HOLD,
            recalled.id: BatchStatus.RECALLED,  # holding never lowers a recall
            other.batch.id: BatchStatus.RELEASED,  # another brand's batch is not touched
        }
        entries = [
            e for e in _entries(session, demo.brand.id, "batch.status") if e.actor != "system"
        ]
        assert [(e.object_id, e.actor) for e in entries] == [
            (str(batch_id), "rule:3") for batch_id in sorted(ids_made)
        ]
        assert entries[0].details == {
            "status": "on_hold",
            "notice": {"en": "On hold while we check."},
            "why": 1,
        }
        assert _entries(session, other.brand.id, "batch.status") == []
