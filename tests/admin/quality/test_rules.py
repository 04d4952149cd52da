"""The rules pages: a rule made from a form, changed, switched off and deleted, all
audited; hostile input refused with field errors; firings, messages and retrying."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.core.trace.trace_chain import document
from tests.helpers.admin import (
    assert_no_inline_code,
    audit_actions,
    base,
    errors_of,
    post,
    signed_in,
)
from tests.helpers.quality import QC_FAILED, inspection
from tracemark.models import Brand, MessageStatus, OutboxMessage, Rule
from tracemark.trace import capture

QC_RULE = {
    "name": "QC failed",
    "enabled": "y",
    "operator": "failed",
    "disposition": "non_conformant",
    "hold_batch": "y",
    "notify": "y",
    "notify_roles": ["owner", "staff"],
    "notify_emails": "purchasing@example.com, QA@example.com",
    "webhook": "y",
    "webhook_url": "https://hooks.example.com/tm",
}


def _rules(db, brand_id) -> list[Rule]:
    with db.sessions() as session:
        query = select(Rule).where(Rule.brand_id == brand_id).order_by(Rule.id)
        return list(session.scalars(query))


def test_an_owner_makes_a_rule_from_the_form_and_it_fires(app, shop, db):
    client = signed_in(app, shop)
    page = client.get(f"{base(shop)}/rules")
    assert page.status_code == 200
    assert_no_inline_code(page.get_data(as_text=True))
    response = post(client, f"{base(shop)}/rules", QC_RULE)
    assert response.status_code == 303
    (rule,) = _rules(db, shop.brand.id)
    assert (rule.name, rule.operator.value, rule.disposition, rule.enabled) == (
        "QC failed", "failed", "non_conformant", True
    )  # fmt: skip
    assert rule.actions == [
        {"type": "hold_batch"},
        {"type": "notify", "roles": ["owner", "staff"],
         "emails": ["purchasing@example.com", "qa@example.com"]},
        {"type": "webhook", "url": "https://hooks.example.com/tm"},
    ]  # fmt: skip
    (created,) = [e for e in audit_actions(db, "rule.create") if e.brand_id == shop.brand.id]
    assert created.details["name"] == "QC failed"
    listing = client.get(f"{base(shop)}/rules").get_data(as_text=True)
    assert f'data-rule="{rule.id}" data-enabled="1"' in listing

    with db.sessions.begin() as session:
        brand = session.get_one(Brand, shop.brand.id)
        failed = inspection("urn:uuid:qc-9", QC_FAILED, disposition="non_conformant")
        capture.capture_document(session, brand, document([failed]))
    activity = client.get(f"{base(shop)}/rules/activity")
    assert activity.status_code == 200
    html = activity.get_data(as_text=True)
    assert_no_inline_code(html)
    assert "urn:uuid:qc-9" in html and "purchasing@example.com" in html
    assert f"/batches/{shop.batch_id}" in html


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "QC\x00failed"}, "name"),
        ({"operator": "between"}, "operator"),
        ({"operator": "gt", "field": "acidity", "value": "high"}, "value"),
        ({"operator": "eq", "field": "", "value": "1"}, "field"),
        ({"operator": "eq", "field": "acidity", "value": ""}, "value"),
        ({"notify_emails": "purchasing@", "notify_roles": []}, "notify_emails"),
        ({"notify_emails": "", "notify_roles": []}, "notify_roles"),
        ({"notify_roles": ["owner", "emperor"]}, "notify_roles"),
        ({"webhook_url": "http://hooks.example.com/tm"}, "webhook_url"),
        ({"webhook_url": "https://192.168.1.10/tm"}, "webhook_url"),
        ({"webhook_url": "https://hooks.example.com/\x00"}, "webhook_url"),
        ({"hold_batch": "", "notify": "", "webhook": ""}, "hold_batch"),
        ({"hold_notice": "x" * 2001}, "hold_notice"),
        ({"biz_step": "ins\x07pecting"}, "biz_step"),
    ],
)
def test_bad_input_is_refused_with_a_field_error_and_nothing_saved(app, shop, db, change, field):
    client = signed_in(app, shop)
    data = {key: value for key, value in {**QC_RULE, **change}.items() if value != ""}
    response = post(client, f"{base(shop)}/rules", data)
    assert response.status_code == 400
    assert field in errors_of(response), errors_of(response)
    assert _rules(db, shop.brand.id) == []
    assert [e for e in audit_actions(db, "rule.create") if e.brand_id == shop.brand.id] == []


def test_a_rule_is_changed_switched_off_and_deleted_with_audit_entries(app, shop, db):
    client = signed_in(app, shop, "staff")
    post(client, f"{base(shop)}/rules", QC_RULE)
    (rule,) = _rules(db, shop.brand.id)
    path = f"{base(shop)}/rules/{rule.id}"
    page = client.get(path).get_data(as_text=True)
    assert rule.secret in page and "purchasing@example.com, qa@example.com" in page
    changed = {key: value for key, value in QC_RULE.items() if key != "notify"}
    changed |= {"name": "QC failed twice", "operator": "excursion"}
    assert post(client, path, changed).status_code == 303
    (rule,) = _rules(db, shop.brand.id)
    assert rule.name == "QC failed twice" and [a["type"] for a in rule.actions] == [
        "hold_batch",
        "webhook",
    ]
    (updated,) = [e for e in audit_actions(db, "rule.update") if e.brand_id == shop.brand.id]
    assert updated.details["name"] == "QC failed twice" and "operator" in updated.details

    assert post(client, f"{path}/state", {"enabled": "0"}).status_code == 303
    assert _rules(db, shop.brand.id)[0].enabled is False
    assert post(client, f"{path}/state", {"enabled": "maybe"}).status_code == 400
    assert [e.brand_id for e in audit_actions(db, "rule.disable")].count(shop.brand.id) == 1

    refused = post(client, f"{path}/delete", {})
    assert refused.status_code == 400 and "confirm" in errors_of(refused)
    assert post(client, f"{path}/delete", {"confirm": "y"}).status_code == 303
    assert _rules(db, shop.brand.id) == []
    assert client.get(path).status_code == 404
    deleted = [e for e in audit_actions(db, "rule.delete") if e.brand_id == shop.brand.id]
    assert deleted[0].details["name"] == "QC failed twice"


def test_a_second_rule_of_the_same_name_is_refused(app, shop, db):
    client = signed_in(app, shop)
    post(client, f"{base(shop)}/rules", QC_RULE)
    response = post(client, f"{base(shop)}/rules", QC_RULE)
    assert response.status_code == 400 and "name" in errors_of(response)
    assert len(_rules(db, shop.brand.id)) == 1


def test_only_owners_and_staff_see_the_rules(app, shop):
    for role in ("marketing", "regulator"):
        client = signed_in(app, shop, role)
        assert client.get(f"{base(shop)}/rules").status_code == 403
        assert client.get(f"{base(shop)}/rules/activity").status_code == 403
    client = signed_in(app, shop, "outsider")
    assert client.get(f"{base(shop)}/rules").status_code == 404


def test_a_dead_message_is_retried_by_hand_once(app, shop, db):
    client = signed_in(app, shop)
    post(client, f"{base(shop)}/rules", QC_RULE)
    with db.sessions.begin() as session:
        brand = session.get_one(Brand, shop.brand.id)
        failed = inspection("urn:uuid:qc-9", QC_FAILED, disposition="non_conformant")
        capture.capture_document(session, brand, document([failed]))
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.brand_id == shop.brand.id).limit(1)
        ).one()
        message.status, message.attempts, message.last_error = MessageStatus.DEAD, 8, "HTTP 500"
        message_id = message.id
    html = client.get(f"{base(shop)}/rules/activity").get_data(as_text=True)
    assert f'data-message="{message_id}" data-status="dead"' in html and "HTTP 500" in html
    path = f"{base(shop)}/outbox/{message_id}/retry"
    response = post(client, path, {})
    assert response.status_code == 303
    with db.sessions() as session:
        message = session.get_one(OutboxMessage, message_id)
        assert message.status is MessageStatus.PENDING and message.attempts == 0
    assert post(client, path, {}).status_code == 409
    retried = [e for e in audit_actions(db, "outbox.retry") if e.brand_id == shop.brand.id]
    assert len(retried) == 1


def test_the_notification_language_is_the_brands(app, shop, db):
    client = signed_in(app, shop)
    assert post(client, f"{base(shop)}/rules/language", {"locale": "de"}).status_code == 303
    with db.sessions() as session:
        assert session.get_one(Brand, shop.brand.id).locale == "de"
        count = select(func.count()).select_from(Rule).where(Rule.brand_id == shop.brand.id)
        assert session.scalar(count) == 0
    assert post(client, f"{base(shop)}/rules/language", {"locale": "xx"}).status_code == 400
    assert [
        e.details for e in audit_actions(db, "brand.locale") if e.brand_id == shop.brand.id
    ] == [{"locale": "de"}]
