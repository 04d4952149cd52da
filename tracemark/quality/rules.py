"""A brand's declarative rules: "when an event like this is captured, do that".

A rule is data: a condition (checkpoint template, field, operator and value, business
step, disposition) and actions (hold the batch, lock the material lot, e-mail people,
call a webhook). :func:`compile_rules` turns a brand's enabled rules into plain
predicates once per capture; :mod:`tracemark.trace.capture` evaluates them on the events it
stores and :mod:`tracemark.quality.rule_actions` carries out the actions in the same
transaction, so an event, the hold it causes and the messages it sends commit together.

Events follow these conventions: QC results in ``data["tm:qc"]`` (``{"test", "result":
"pass"|"fail", "value", "uom"}``), checkpoint recordings name their template in
``data["tm:checkpoint"]["key"]`` and their values in ``data["tm:fields"]``, sensor values
as readings (an ``exception``, or a value outside ``min_value``..``max_value``, is an
excursion).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracemark import audit
from tracemark.accounts import users as accounts
from tracemark.audit import SYSTEM, Actor
from tracemark.db import newest_of_brand
from tracemark.epcis import documents as epcis
from tracemark.errors import Duplicate, get_of_brand, insert_unique
from tracemark.models import Brand, Operator, Role, Rule, RuleFiring
from tracemark.models.base import utcnow
from tracemark.notify import webhooks

ACTIONS = ("hold_batch", "lock_lot", "notify", "webhook")
#: Operators that need a field, and those that also need a value.
NEEDS_FIELD = frozenset(Operator) - {Operator.FAILED, Operator.EXCURSION}
NEEDS_VALUE = NEEDS_FIELD - {Operator.PRESENT}
NUMERIC = frozenset({Operator.LT, Operator.LE, Operator.GT, Operator.GE})
MAX_EMAILS = 20
MAX_NOTICE = 2000
_FAILING = frozenset({"fail", "failed"})
_MISSING = object()


class RuleError(ValueError):
    """A rule that cannot be saved; ``field`` names the part to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class RuleSpec:
    """What a rule says, as a person set it; :func:`check` cleans and validates it."""

    name: str
    operator: Operator | str
    actions: list[dict[str, Any]]
    field: str | None = None
    value: str | None = None
    template_key: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    enabled: bool = True


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RuleError(name, f"{name} is required")
        return None
    if not isinstance(value, str) or not value.isprintable() or len(value.strip()) > limit:
        raise RuleError(name, f"{name} must be printable text of at most {limit} characters")
    return value.strip()


def check(
    spec: RuleSpec, *, allow_http: bool = False, allow_private: bool = False
) -> dict[str, Any]:
    """The rule's columns, cleaned (CBV terms in their bare form, e-mails lower-cased).

    :raises RuleError: the first problem found.
    """
    try:
        operator = Operator(spec.operator)
    except ValueError:
        raise RuleError("operator", f"unknown operator {spec.operator!r}") from None
    values = {
        "name": _text(spec.name, "name", 100, required=True),
        "operator": operator,
        "field": _text(spec.field, "field", 100, required=operator in NEEDS_FIELD),
        "value": _text(spec.value, "value", 500, required=operator in NEEDS_VALUE),
        "template_key": _text(spec.template_key, "template_key", 100),
        "biz_step": epcis.term(_text(spec.biz_step, "biz_step", 64)),
        "disposition": epcis.term(_text(spec.disposition, "disposition", 64)),
        "enabled": bool(spec.enabled),
    }
    if operator not in NEEDS_VALUE:
        values["value"] = None
    if operator in NUMERIC and _number(values["value"]) is None:
        raise RuleError("value", "this operator compares numbers")
    values["actions"] = _check_actions(spec.actions, allow_http, allow_private)
    return values


def _check_actions(actions: Any, allow_http: bool, allow_private: bool) -> list[dict[str, Any]]:
    if not isinstance(actions, list) or not actions:
        raise RuleError("actions", "a rule needs at least one action")
    cleaned, seen = [], set()
    for action in actions:
        kind = action.get("type") if isinstance(action, dict) else None
        if kind not in ACTIONS or kind in seen:
            raise RuleError("actions", f"unknown or repeated action {kind!r}")
        seen.add(kind)
        if kind == "hold_batch":
            notice = _text(action.get("notice"), "notice", MAX_NOTICE)
            cleaned.append({"type": kind, "notice": notice} if notice else {"type": kind})
        elif kind == "lock_lot":
            cleaned.append({"type": kind})
        elif kind == "notify":
            cleaned.append({"type": kind, **_recipients(action)})
        else:
            try:
                url = webhooks.check_url(
                    action.get("url"), allow_http=allow_http, allow_private=allow_private
                )
            except ValueError as error:
                raise RuleError("webhook_url", str(error)) from None
            cleaned.append({"type": kind, "url": url})
    return cleaned


def _recipients(action: dict[str, Any]) -> dict[str, list[str]]:
    roles, emails = action.get("roles") or [], action.get("emails") or []
    if not isinstance(roles, list) or not isinstance(emails, list):
        raise RuleError("notify", "roles and emails are lists")
    try:
        roles = sorted({Role(role).value for role in roles})
    except ValueError:
        raise RuleError("notify_roles", "unknown role") from None
    clean = []
    for email in emails:
        email = accounts.normalize_email(email) if isinstance(email, str) else ""
        if not accounts.is_email(email):
            raise RuleError("notify_emails", f"not an e-mail address: {email[:60]!r}")
        if email not in clean:
            clean.append(email)
    if not roles and not clean:
        raise RuleError("notify_roles", "notify whom: pick roles or give addresses")
    if len(clean) > MAX_EMAILS:
        raise RuleError("notify_emails", f"at most {MAX_EMAILS} addresses")
    return {"roles": roles, "emails": clean}


def create_rule(
    session: Session, brand: Brand, spec: RuleSpec, *, actor: Actor = SYSTEM, **policy: bool
) -> Rule:
    """A new rule of the brand; audited as ``rule.create`` with its settings.

    :raises RuleError: invalid spec; :raises Duplicate: the name is taken (``name``)."""
    values = check(spec, **policy)
    message = f"a rule named {values['name']!r} exists"
    taken = select(Rule.id).where(Rule.brand_id == brand.id, Rule.name == values["name"])
    if session.scalar(taken) is not None:
        raise Duplicate("name", message)
    rule = Rule(brand_id=brand.id, secret=secrets.token_hex(32), **values)
    rule = insert_unique(session, rule, "name", message)
    _log(session, actor, "rule.create", rule, _settings(rule))
    return rule


def _log(session: Session, actor: Actor, action: str, rule: Rule, details: dict) -> None:
    audit.log(session, actor, action, "rule", rule.id, details, brand_id=rule.brand_id)


def _settings(rule: Rule) -> dict[str, Any]:
    """What the audit log keeps of a rule created or deleted."""
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "operator": Operator(rule.operator).value,
        "field": rule.field,
        "value": rule.value,
        "template_key": rule.template_key,
        "biz_step": rule.biz_step,
        "disposition": rule.disposition,
        "actions": rule.actions,
    }


def update_rule(
    session: Session, rule: Rule, spec: RuleSpec, *, actor: Actor = SYSTEM, **policy: bool
) -> dict[str, Any]:
    """Change the rule; returns the changed columns, audited as ``rule.update`` when
    there are any.

    :raises RuleError: invalid spec; :raises Duplicate: the new name is taken.
    """
    values = check(spec, **policy)
    taken = select(Rule.id).where(
        Rule.brand_id == rule.brand_id, Rule.name == values["name"], Rule.id != rule.id
    )
    if session.scalar(taken) is not None:
        raise Duplicate("name", f"a rule named {values['name']!r} exists")
    changed = {}
    for key, value in values.items():
        if getattr(rule, key) != value:
            setattr(rule, key, value)
            changed[key] = value.value if isinstance(value, Operator) else value
    if changed:
        rule.updated_at = utcnow()
    session.flush()
    if changed:
        _log(session, actor, "rule.update", rule, {"name": rule.name, **changed})
    return changed


def set_enabled(session: Session, rule: Rule, enabled: bool, *, actor: Actor = SYSTEM) -> bool:
    """Turn the rule on or off; True when that changed it, audited then as
    ``rule.enable`` or ``rule.disable``."""
    if rule.enabled == enabled:
        return False
    rule.enabled = enabled
    session.flush()
    _log(session, actor, "rule.enable" if enabled else "rule.disable", rule, {"name": rule.name})
    return True


def delete_rule(session: Session, rule: Rule, *, actor: Actor = SYSTEM) -> None:
    """Delete the rule (its firings keep its name); audited as ``rule.delete`` with the
    settings it had."""
    _log(session, actor, "rule.delete", rule, _settings(rule))
    session.delete(rule)
    session.flush()


def rules_of(session: Session, brand: Brand) -> list[Rule]:
    query = select(Rule).where(Rule.brand_id == brand.id).order_by(Rule.name, Rule.id)
    return list(session.scalars(query))


def get_rule(session: Session, brand: Brand, rule_id: int) -> Rule:
    """:raises NotFound: no such rule, or one of another brand."""
    return get_of_brand(session, Rule, brand, rule_id)


def firings(session: Session, brand: Brand, limit: int = 100) -> list[RuleFiring]:
    """The brand's most recent firings, newest first, each with its event loaded."""
    query = newest_of_brand(RuleFiring, brand.id, limit)
    return list(session.scalars(query.options(selectinload(RuleFiring.event))))


# --- evaluation -------------------------------------------------------------------------


class Reading(Protocol):
    type: str
    value: float | None
    min_value: float | None
    max_value: float | None
    exception: str | None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule detached from the session, its value parsed once."""

    id: int
    name: str
    operator: Operator
    field: str | None
    value: str | None
    number: float | None
    choices: frozenset[str]
    template_key: str | None
    biz_step: str | None
    disposition: str | None
    actions: list[dict[str, Any]] = field(default_factory=list)


def enabled_rules(session: Session, brand_id: int) -> list[CompiledRule]:
    """The brand's enabled rules, compiled: one query per capture."""
    query = select(Rule).where(Rule.brand_id == brand_id, Rule.enabled.is_(True)).order_by(Rule.id)
    return compile_rules(session.scalars(query))


def compile_rules(rules: Iterable[Rule]) -> list[CompiledRule]:
    return [
        CompiledRule(
            id=rule.id,
            name=rule.name,
            operator=Operator(rule.operator),
            field=rule.field,
            value=rule.value.casefold() if rule.value is not None else None,
            number=_number(rule.value),
            choices=frozenset(
                part.strip().casefold() for part in (rule.value or "").split(",") if part.strip()
            ),
            template_key=rule.template_key,
            biz_step=rule.biz_step,
            disposition=rule.disposition,
            actions=list(rule.actions or []),
        )
        for rule in rules
    ]


def matches(
    rule: CompiledRule,
    biz_step: str | None,
    disposition: str | None,
    data: dict[str, Any] | None,
    readings: Sequence[Reading] = (),
) -> bool:
    """Whether an event (a captured record or a stored event with its readings) meets
    the rule's condition."""
    data = data if isinstance(data, dict) else {}
    if rule.biz_step is not None and biz_step != rule.biz_step:
        return False
    if rule.disposition is not None and disposition != rule.disposition:
        return False
    if rule.template_key is not None:
        checkpoint = data.get("tm:checkpoint")
        if not isinstance(checkpoint, dict) or checkpoint.get("key") != rule.template_key:
            return False
    operator = rule.operator
    if operator is Operator.FAILED:
        return _failed(data, rule.field)
    if operator is Operator.EXCURSION:
        return any(_excursion(reading, rule.field) for reading in readings)
    found = _field_value(data, rule.field)
    if found is _MISSING or found is None or found == "":
        return False
    if operator is Operator.PRESENT:
        return True
    if operator in NUMERIC:
        number = _number(found)
        if number is None or rule.number is None:
            return False
        return _COMPARE[operator](number, rule.number)
    values = found if isinstance(found, list) else [found]
    texts = [_as_text(item) for item in values]
    if operator is Operator.EQ or operator is Operator.NE:
        number = _number(found)
        if number is not None and rule.number is not None:
            equal = number == rule.number
        else:
            equal = rule.value in texts
        return equal if operator is Operator.EQ else not equal
    if operator is Operator.IN:
        return any(text in rule.choices for text in texts)
    # contains: a substring of a text, or an item of a list
    if isinstance(found, list):
        return rule.value in texts
    return rule.value is not None and rule.value in texts[0]


_COMPARE = {
    Operator.LT: lambda a, b: a < b,
    Operator.LE: lambda a, b: a <= b,
    Operator.GT: lambda a, b: a > b,
    Operator.GE: lambda a, b: a >= b,
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().casefold()


def _qc(data: dict[str, Any]) -> list[dict[str, Any]]:
    results = data.get("tm:qc")
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


def _field_value(data: dict[str, Any], name: str | None) -> Any:
    """A checkpoint field, else a QC test's value (its result when it has none), else an
    event field of that name (an extension such as ``tm:line``)."""
    if name is None:
        return _MISSING
    fields = data.get("tm:fields")
    if isinstance(fields, dict) and name in fields:
        return fields[name]
    for result in _qc(data):
        if result.get("test") == name:
            return result.get("value", result.get("result"))
    return data.get(name, _MISSING)


def _failed(data: dict[str, Any], name: str | None) -> bool:
    if name is None:
        return any(result.get("result") == "fail" for result in _qc(data))
    fields = data.get("tm:fields")
    if isinstance(fields, dict) and name in fields:
        value = fields[name]
        if value is False or (isinstance(value, str) and value.strip().casefold() in _FAILING):
            return True
    return any(r.get("test") == name and r.get("result") == "fail" for r in _qc(data))


def _excursion(reading: Reading, sensor: str | None) -> bool:
    if sensor is not None and reading.type != sensor and not reading.type.endswith(f":{sensor}"):
        return False
    if reading.exception:
        return True
    value = reading.value
    if value is None:
        return False
    return (reading.min_value is not None and value < reading.min_value) or (
        reading.max_value is not None and value > reading.max_value
    )
