"""What a rule does when it fires, inside the capture transaction of the event.

Holds and locks go through the same operations as a person's (``catalog.hold_batches``,
``supply.set_lot_status``) and are audited with the rule as the actor; e-mails and
webhooks become outbox rows (:mod:`tracemark.notify.outbox`), delivered after the
transaction commits — or never, if it rolls back. Each firing is one ``rule_firing`` row
and one ``rule.fire`` audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracemark import audit, catalog
from tracemark.epcis.documents import EventRecord
from tracemark.i18n import LOCALES, N_, translate
from tracemark.models import (
    Batch,
    BatchStatus,
    Brand,
    LotStatus,
    MaterialLot,
    Membership,
    MessageKind,
    Product,
    RuleFiring,
    User,
)
from tracemark.models.base import utcnow
from tracemark.notify import outbox
from tracemark.quality.rules import CompiledRule
from tracemark.trace import supply

#: The consumer notice of a batch a rule holds, unless the rule gives its own.
DEFAULT_NOTICE = N_("This batch is on hold while a quality check is completed.")


@dataclass(frozen=True, slots=True)
class Captured:
    """A newly stored event and what it is about in the brand."""

    id: int
    record: EventRecord
    batch_ids: frozenset[int]
    lot_ids: frozenset[int]


def fire(session: Session, brand: Brand, hits: list[tuple[CompiledRule, Captured]]) -> int:
    """Carry out each rule's actions for its event; returns the number of firings."""
    for rule, event in hits:
        _fire_one(session, brand, rule, event)
    return len(hits)


def _fire_one(session: Session, brand: Brand, rule: CompiledRule, event: Captured) -> None:
    actor = audit.Actor.of_rule(rule.id, brand.id)
    firing = RuleFiring(
        brand_id=brand.id, rule_id=rule.id, rule_name=rule.name, event_id=event.id, actions=[]
    )
    session.add(firing)
    session.flush()
    taken: list[dict[str, Any]] = []
    sends: list[tuple[MessageKind, str]] = []
    for action in rule.actions:
        kind = action["type"]
        if kind == "hold_batch":
            held = _hold(session, brand, event, action.get("notice"), actor, rule)
            taken.append({"type": kind, "batches": held, "done": bool(held)})
        elif kind == "lock_lot":
            locked = _lock(session, brand, event, actor, rule)
            taken.append({"type": kind, "lots": locked, "done": bool(locked)})
        elif kind == "notify":
            emails = _recipients(session, brand.id, action.get("roles", []), action["emails"])
            sends += [(MessageKind.EMAIL, email) for email in emails]
            taken.append({"type": kind, "recipients": emails, "done": bool(emails)})
        elif kind == "webhook":
            sends.append((MessageKind.WEBHOOK, action["url"]))
            taken.append({"type": kind, "url": action["url"], "done": True})
    firing.actions = taken
    if sends:
        body = payload(session, brand, rule, event, firing, taken)
        for kind, recipient in sends:
            outbox.enqueue(session, brand.id, firing.id, kind, recipient, body)
    details = {"rule": rule.name, "event": event.record.event_id, "actions": taken}
    audit.log(session, actor, "rule.fire", "rule", rule.id, details, brand_id=brand.id)
    session.flush()


def _hold(
    session: Session,
    brand: Brand,
    event: Captured,
    notice: str | None,
    actor: audit.Actor,
    rule: CompiledRule,
) -> list[int]:
    if not event.batch_ids:
        return []
    if notice:
        texts = {brand.locale or "en": notice}
    else:
        texts = {locale: translate(locale, DEFAULT_NOTICE) for locale in LOCALES}
    # on hold already, or recalled: a rule never lowers a status
    held = catalog.hold_batches(
        session, brand, event.batch_ids, texts, actor=actor, context=_why(rule, event)
    )
    return [batch.id for batch in held]


def _why(rule: CompiledRule, event: Captured) -> dict[str, Any]:
    """What a rule's audit entries say of the cause: the rule's name and the event."""
    return {"rule": rule.name, "event": event.record.event_id}


def _lock(
    session: Session, brand: Brand, event: Captured, actor: audit.Actor, rule: CompiledRule
) -> list[int]:
    if not event.lot_ids:
        return []
    query = select(MaterialLot).where(
        MaterialLot.brand_id == brand.id, MaterialLot.id.in_(sorted(event.lot_ids))
    )
    locked = []
    for lot in session.scalars(query.order_by(MaterialLot.id)):
        if lot.status is not LotStatus.RELEASED:
            continue
        supply.set_lot_status(
            session, lot, LotStatus.ON_HOLD, actor=actor, context=_why(rule, event)
        )
        locked.append(lot.id)
    return locked


def _recipients(session: Session, brand_id: int, roles: list[str], emails: list[str]) -> list[str]:
    """Active members with one of ``roles``, then the listed addresses, without repeats."""
    found: list[str] = []
    if roles:
        query = (
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.brand_id == brand_id,
                Membership.role.in_(roles),
                User.is_active.is_(True),
            )
            .order_by(User.email)
        )
        found = list(session.scalars(query))
    return list(dict.fromkeys([*found, *emails]))


def payload(
    session: Session,
    brand: Brand,
    rule: CompiledRule,
    event: Captured,
    firing: RuleFiring,
    taken: list[dict[str, Any]],
) -> dict[str, Any]:
    """What a firing's e-mails say and its webhooks carry (JSON-serialisable)."""
    record = event.record
    batches = []
    if event.batch_ids:
        query = (
            select(Batch.id, Batch.lot, Product.gtin, Batch.status)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.brand_id == brand.id, Batch.id.in_(sorted(event.batch_ids)))
            .order_by(Batch.id)
        )
        batches = [
            {"id": i, "lot": lot, "gtin": gtin, "status": BatchStatus(status).value}
            for i, lot, gtin, status in session.execute(query)
        ]
    lots = []
    if event.lot_ids:
        query = (
            select(MaterialLot.id, MaterialLot.epc_class)
            .where(MaterialLot.brand_id == brand.id, MaterialLot.id.in_(sorted(event.lot_ids)))
            .order_by(MaterialLot.id)
        )
        lots = [{"id": i, "epc_class": epc_class} for i, epc_class in session.execute(query)]
    return {
        "type": "rule.fired",
        "firing": firing.id,
        "fired_at": utcnow().isoformat(),
        "brand": {"slug": brand.slug, "name": brand.name},
        "rule": {"id": rule.id, "name": rule.name},
        "event": {
            "id": record.event_id,
            "type": record.event_type,
            "time": record.event_time.isoformat(),
            "biz_step": record.biz_step,
            "disposition": record.disposition,
            "read_point": record.read_point,
            "biz_location": record.biz_location,
        },
        "batches": batches,
        "lots": lots,
        "actions": taken,
    }
