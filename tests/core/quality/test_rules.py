"""Rules: matching each operator, and firing inside the capture transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_brand
from tests.core.trace.trace_chain import OIL_GTIN, document, event
from tests.helpers.quality import LOT_CLASS, QC_FAILED, inspection
from tracemark.accounts import users as accounts
from tracemark.epcis.documents import SensorValue
from tracemark.errors import Duplicate
from tracemark.models import (
    AuditLog,
    Batch,
    BatchStatus,
    LotStatus,
    MaterialLot,
    MessageKind,
    Operator,
    OutboxMessage,
    Role,
    Rule,
    RuleFiring,
    TraceEvent,
)
from tracemark.notify import outbox
from tracemark.quality import rules
from tracemark.quality.rules import RuleError, RuleSpec
from tracemark.trace import capture, supply

HOLD_AND_NOTIFY = [
    {"type": "hold_batch"},
    {"type": "notify", "roles": ["owner"], "emails": ["Purchasing@Example.com"]},
    {"type": "webhook", "url": "https://hooks.example.com/tm"},
]


def _rule(operator, field=None, value=None, **extra) -> rules.CompiledRule:
    rule = Rule(id=1, name="r", operator=operator, field=field, value=value, actions=[], **extra)
    return rules.compile_rules([rule])[0]


def _reading(value=None, low=None, high=None, exception=None, kind="gs1:Temperature"):
    return SensorValue(kind, value, low, high, "CEL", None, None, exception)


CHECKPOINT = {
    "tm:checkpoint": {"key": "olive-intake", "version": 2},
    "tm:fields": {"acidity": 0.9, "variety": "Picual", "sealed": "fail", "tags": ["organic"]},
    "tm:qc": [{"test": "sealed", "result": "fail"}],
}


@pytest.mark.parametrize(
    ("operator", "field", "value", "data", "expected"),
    [
        ("eq", "variety", "picual", CHECKPOINT, True),
        ("eq", "acidity", "0.90", CHECKPOINT, True),  # numbers compare as numbers
        ("eq", "variety", "Arbequina", CHECKPOINT, False),
        ("ne", "variety", "Arbequina", CHECKPOINT, True),
        ("ne", "variety", "Picual", CHECKPOINT, False),
        ("ne", "missing", "x", CHECKPOINT, False),  # an absent field meets no comparison
        ("lt", "acidity", "1", CHECKPOINT, True),
        ("lt", "acidity", "0.9", CHECKPOINT, False),
        ("le", "acidity", "0.9", CHECKPOINT, True),
        ("gt", "acidity", "0.8", CHECKPOINT, True),
        ("gt", "variety", "0.8", CHECKPOINT, False),  # text is no number
        ("ge", "acidity", "0.91", CHECKPOINT, False),
        ("gt", "peroxide", "20", QC_FAILED, True),  # a QC test's value
        ("in", "variety", "Arbequina, Picual", CHECKPOINT, True),
        ("in", "variety", "Arbequina, Hojiblanca", CHECKPOINT, False),
        ("contains", "variety", "cua", CHECKPOINT, True),
        ("contains", "tags", "organic", CHECKPOINT, True),
        ("contains", "tags", "org", CHECKPOINT, False),  # a list holds items, not substrings
        ("present", "variety", None, CHECKPOINT, True),
        ("present", "colour", None, CHECKPOINT, False),
        ("failed", None, None, QC_FAILED, True),  # any failing QC test
        ("failed", None, None, {"tm:qc": [{"test": "x", "result": "pass"}]}, False),
        ("failed", "sealed", None, CHECKPOINT, True),  # a pass/fail field
        ("failed", "variety", None, CHECKPOINT, False),
        ("failed", "peroxide", None, QC_FAILED, True),
        ("eq", "tm:line", "line 2", {"tm:line": "Line 2"}, True),  # an extension field
    ],
)
def test_each_operator_matches_what_it_says(operator, field, value, data, expected):
    assert rules.matches(_rule(operator, field, value), "inspecting", None, data) is expected


@pytest.mark.parametrize(
    ("sensor", "reading", "expected"),
    [
        (None, _reading(31.5, exception="ALARM_CONDITION"), True),
        (None, _reading(9.0, 2.0, 8.0), True),
        (None, _reading(1.0, 2.0, 8.0), True),
        (None, _reading(4.0, 2.0, 8.0), False),
        (None, _reading(4.0), False),
        ("Temperature", _reading(9.0, 2.0, 8.0), True),  # by type, with or without prefix
        ("gs1:Humidity", _reading(9.0, 2.0, 8.0), False),
    ],
)
def test_an_excursion_is_an_exception_or_a_value_out_of_range(sensor, reading, expected):
    rule = _rule("excursion", sensor)
    assert rules.matches(rule, "storing", None, {}, [reading]) is expected


def test_template_step_and_disposition_narrow_the_condition():
    rule = _rule(
        "failed", template_key="olive-intake", biz_step="inspecting", disposition="non_conformant"
    )
    assert rules.matches(rule, "inspecting", "non_conformant", CHECKPOINT)
    assert not rules.matches(rule, "receiving", "non_conformant", CHECKPOINT)
    assert not rules.matches(rule, "inspecting", "active", CHECKPOINT)
    other = {**CHECKPOINT, "tm:checkpoint": {"key": "bottling", "version": 1}}
    assert not rules.matches(rule, "inspecting", "non_conformant", other)
    assert not rules.matches(rule, "inspecting", "non_conformant", QC_FAILED)  # no checkpoint


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (RuleSpec("", "failed", [{"type": "lock_lot"}]), "name"),
        (RuleSpec("r", "between", [{"type": "lock_lot"}]), "operator"),
        (RuleSpec("r", "eq", [{"type": "lock_lot"}], field=None, value="1"), "field"),
        (RuleSpec("r", "gt", [{"type": "lock_lot"}], field="t", value="warm"), "value"),
        (RuleSpec("r", "failed", []), "actions"),
        (RuleSpec("r", "failed", [{"type": "explode"}]), "actions"),
        (RuleSpec("r", "failed", [{"type": "notify", "roles": [], "emails": []}]), "notify_roles"),
        (RuleSpec("r", "failed", [{"type": "notify", "emails": ["not-mail"]}]), "notify_emails"),
        (RuleSpec("r", "failed", [{"type": "notify", "roles": ["boss"]}]), "notify_roles"),
        (RuleSpec("r", "failed", [{"type": "webhook", "url": "http://h.example"}]), "webhook_url"),
        (
            RuleSpec("r", "failed", [{"type": "webhook", "url": "https://127.0.0.1/"}]),
            "webhook_url",
        ),
        (RuleSpec("r\x00", "failed", [{"type": "lock_lot"}]), "name"),
        (RuleSpec("r" * 101, "failed", [{"type": "lock_lot"}]), "name"),
    ],
)
def test_a_bad_rule_is_refused_naming_what_to_correct(spec, field):
    with pytest.raises(RuleError) as raised:
        rules.check(spec)
    assert raised.value.field == field


def test_a_rule_is_cleaned_and_its_name_is_unique_in_the_brand(db, demo):
    emails = [" A@Example.com ", "a@example.com"]
    spec = RuleSpec(
        "QC failed",
        "failed",
        [{"type": "notify", "roles": ["staff", "owner"], "emails": emails}],
        biz_step="urn:epcglobal:cbv:bizstep:inspecting",
        value="ignored",
    )
    other = make_brand(db.sessions)
    with db.sessions.begin() as session:
        rule = rules.create_rule(session, demo.brand, spec)
        assert rule.biz_step == "inspecting" and rule.value is None and len(rule.secret) == 64
        assert rule.actions == [
            {"type": "notify", "roles": ["owner", "staff"], "emails": ["a@example.com"]}
        ]
        with pytest.raises(Duplicate):
            rules.create_rule(session, demo.brand, spec)
        rules.create_rule(session, session.merge(other.brand), spec)  # another brand may


def _count(session, model, brand_id):
    query = select(func.count()).select_from(model).where(model.brand_id == brand_id)
    return session.scalar(query)


@pytest.fixture
def qc_rule(db, demo):
    with db.sessions.begin() as session:
        owner = accounts.create_user(session, f"owner-{demo.brand.slug}@example.com", "x" * 12, "O")
        accounts.grant(session, owner, demo.brand, Role.OWNER)
        spec = RuleSpec("QC failed", "failed", HOLD_AND_NOTIFY, disposition="non_conformant")
        return rules.create_rule(session, demo.brand, spec).id


def test_a_failed_qc_holds_the_batch_and_queues_messages_with_the_event(db, demo, qc_rule):
    failed = inspection("urn:uuid:qc-1", QC_FAILED, disposition="non_conformant")
    passed = inspection("urn:uuid:qc-2", {"tm:qc": [{"test": "x", "result": "pass"}]})
    with db.sessions.begin() as session:
        result = capture.capture_document(session, demo.brand, document([failed, passed]))
        assert result.captured == ["urn:uuid:qc-1", "urn:uuid:qc-2"]
    with db.sessions() as session:
        batch = session.get_one(Batch, demo.batch.id)
        assert batch.status is BatchStatus.ON_HOLD
        assert set(batch.notice) >= {"en", "fr", "ar"} and "on hold" in batch.notice["en"]
        (firing,) = session.scalars(select(RuleFiring).where(RuleFiring.brand_id == demo.brand.id))
        event = session.get_one(TraceEvent, firing.event_id)
        assert (firing.rule_id, firing.rule_name, event.event_id) == (
            qc_rule, "QC failed", "urn:uuid:qc-1"
        )  # fmt: skip
        assert firing.actions[0] == {"type": "hold_batch", "batches": [batch.id], "done": True}
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.firing_id == firing.id)
        ).all()
        assert sorted((m.kind, m.recipient) for m in messages) == [
            (MessageKind.EMAIL, f"owner-{demo.brand.slug}@example.com"),
            (MessageKind.EMAIL, "purchasing@example.com"),
            (MessageKind.WEBHOOK, "https://hooks.example.com/tm"),
        ]
        assert len({m.dedupe_key for m in messages}) == 3
        assert messages[0].payload["batches"] == [
            {"id": batch.id, "lot": "L2401A", "gtin": demo.product.gtin, "status": "on_hold"}
        ]
        held = session.scalars(
            select(AuditLog).where(
                AuditLog.brand_id == demo.brand.id, AuditLog.action == "batch.status"
            )
        ).one()
        assert held.user_id is None and held.actor == f"rule:{qc_rule}"
        assert held.details["rule"] == "QC failed" and held.details["event"] == "urn:uuid:qc-1"
        assert held.details["status"] == "on_hold"
        fired = session.scalars(
            select(AuditLog).where(
                AuditLog.brand_id == demo.brand.id, AuditLog.action == "rule.fire"
            )
        ).one()
        assert fired.details["event"] == "urn:uuid:qc-1"


def test_a_replayed_event_does_not_fire_again(db, demo, qc_rule):
    failed = inspection("urn:uuid:qc-1", QC_FAILED, disposition="non_conformant")
    for _ in range(2):
        with db.sessions.begin() as session:
            capture.capture_document(session, demo.brand, document([failed]))
    with db.sessions.begin() as session:
        assert _count(session, RuleFiring, demo.brand.id) == 1
        assert _count(session, OutboxMessage, demo.brand.id) == 3
        # released by a person, then the same event sent again: still no second firing
        session.get_one(Batch, demo.batch.id).status = BatchStatus.RELEASED
    with db.sessions.begin() as session:
        result = capture.capture_event(session, demo.brand, failed)
        assert result.duplicates == ["urn:uuid:qc-1"]
        assert session.get_one(Batch, demo.batch.id).status is BatchStatus.RELEASED
        assert _count(session, RuleFiring, demo.brand.id) == 1


def test_a_capture_that_fails_leaves_neither_hold_nor_message(db, demo, qc_rule, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    failed = inspection("urn:uuid:qc-1", QC_FAILED, disposition="non_conformant")
    monkeypatch.setattr(outbox, "enqueue", broken)  # after the hold was written
    with db.sessions() as session:
        entries_before = _count(session, AuditLog, demo.brand.id)
    with db.sessions.begin() as session:
        with pytest.raises(RuntimeError):
            capture.capture_document(session, demo.brand, document([failed]))
        assert session.get_one(Batch, demo.batch.id).status is BatchStatus.RELEASED
        for model in (TraceEvent, RuleFiring, OutboxMessage):
            assert _count(session, model, demo.brand.id) == 0
        assert _count(session, AuditLog, demo.brand.id) == entries_before


def test_disabled_rules_and_other_brands_rules_do_not_fire(db, demo, qc_rule):
    other = make_brand(db.sessions)
    with db.sessions.begin() as session:
        session.get_one(Rule, qc_rule).enabled = False
        spec = RuleSpec("theirs", "failed", [{"type": "hold_batch"}])
        rules.create_rule(session, session.merge(other.brand), spec)
    failed = inspection("urn:uuid:qc-1", QC_FAILED, disposition="non_conformant")
    with db.sessions.begin() as session:
        capture.capture_document(session, demo.brand, document([failed]))
        assert _count(session, RuleFiring, demo.brand.id) == 0
        assert session.get_one(Batch, demo.batch.id).status is BatchStatus.RELEASED


def test_an_excursion_locks_the_material_lot_and_never_lowers_a_status(db, demo):
    with db.sessions.begin() as session:
        brand = session.merge(demo.brand)
        supplier = supply.create_supplier(session, brand, "Cooperativa")
        lot = supply.receive_lot(session, supplier, "Olive oil", "OIL-9", gtin=OIL_GTIN)
        lot_id, lot_class = lot.id, lot.epc_class
        session.get_one(Batch, demo.batch.id).status = BatchStatus.RECALLED
        actions = [{"type": "lock_lot"}, {"type": "hold_batch"}]
        rules.create_rule(session, brand, RuleSpec("Cold chain", "excursion", actions))
    alarm = {"type": "gs1:Temperature", "value": 31.5, "exception": "ALARM_CONDITION"}
    storing = event(
        "ObjectEvent",
        "urn:uuid:store-1",
        "2026-10-03T09:00:00+02:00",
        action="OBSERVE",
        bizStep="storing",
        quantityList=[{"epcClass": lot_class}, {"epcClass": LOT_CLASS}],
        sensorElementList=[{"sensorReport": [alarm]}],
    )
    with db.sessions.begin() as session:
        capture.capture_event(session, demo.brand, storing)
    with db.sessions() as session:
        assert session.get_one(MaterialLot, lot_id).status is LotStatus.ON_HOLD
        assert session.get_one(Batch, demo.batch.id).status is BatchStatus.RECALLED
        firing = session.scalars(
            select(RuleFiring).where(RuleFiring.brand_id == demo.brand.id)
        ).one()
        assert firing.actions == [
            {"type": "lock_lot", "lots": [lot_id], "done": True},
            {"type": "hold_batch", "batches": [], "done": False},
        ]


def test_updating_a_rule_reports_what_changed(db, demo, qc_rule):
    with db.sessions.begin() as session:
        rule = session.get_one(Rule, qc_rule)
        spec = RuleSpec("QC failed", Operator.EQ, [{"type": "hold_batch"}], field="x", value="1")
        changed = rules.update_rule(session, rule, spec)
        assert changed == {"operator": "eq", "field": "x", "value": "1", "disposition": None,
                           "actions": [{"type": "hold_batch"}]}  # fmt: skip
        assert rules.update_rule(session, rule, spec) == {}


def test_a_checkpoint_recording_fires_on_its_template_field(db, demo):
    with db.sessions.begin() as session:
        spec = RuleSpec(
            "Acidity",
            "gt",
            [{"type": "hold_batch", "notice": "Held for a check of its acidity."}],
            field="acidity",
            value="0.8",
            template_key="olive-intake",
        )
        rules.create_rule(session, session.merge(demo.brand), spec)
    recorded = {
        "tm:checkpoint": {"key": "olive-intake", "version": 2},
        "tm:fields": {"acidity": 0.9, "variety": "Picual"},
    }
    other_template = {**recorded, "tm:checkpoint": {"key": "bottling", "version": 1}}
    with db.sessions.begin() as session:
        capture.capture_event(session, demo.brand, inspection("urn:uuid:cp-0", other_template))
        assert session.get_one(Batch, demo.batch.id).status is BatchStatus.RELEASED
        capture.capture_event(session, demo.brand, inspection("urn:uuid:cp-1", recorded))
        batch = session.get_one(Batch, demo.batch.id)
        assert batch.status is BatchStatus.ON_HOLD
        assert batch.notice == {"en": "Held for a check of its acidity."}
