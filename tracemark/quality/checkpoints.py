"""Checkpoint templates: the key control points a brand records, as data.

A template names a CBV business step, a default disposition, what its events are about
(a unit, a batch, or a material lot) and an ordered list of typed fields. Field kinds are
a registry (:data:`FIELD_TYPES`); one checker (:func:`check_field`) serves every
template, and one form builder in the admin app renders them all. Templates are
versioned: every change of content adds a version with the same key, and events keep the
key and version they were recorded with. Retiring is a state of the key, not a change of
content: a retired template keeps its versions and is offered for no new recording.

Every function takes the caller's session and flushes; the caller commits (and audits).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracemark import audit
from tracemark.audit import SYSTEM, Actor
from tracemark.errors import Duplicate, NotFound, insert_unique
from tracemark.i18n import DEFAULT, LOCALES
from tracemark.models import Brand, CheckpointTemplate
from tracemark.quality.checkpoint_seeds import STANDARD

#: Field kinds, each with the settings it takes (besides name, label and required).
FIELD_TYPES: dict[str, tuple[str, ...]] = {
    "text": ("max_length",),
    "number": ("unit", "min", "max", "decimals"),
    "date": (),
    "choice": ("choices",),
    "file": (),
    "passfail": (),
}
#: What a checkpoint's events are about.
SUBJECTS = ("unit", "batch", "material_lot")
#: CBV 2.0 business steps offered (bare form).
BIZ_STEPS = (
    "receiving", "accepting", "inspecting", "sampling", "assembling", "commissioning",
    "repackaging", "packing", "labelling", "storing", "loading", "shipping", "departing",
    "arriving", "holding", "destroying", "other",
)  # fmt: skip
#: CBV 2.0 dispositions offered (bare form).
DISPOSITIONS = (
    "active", "in_progress", "conformant", "non_conformant", "in_transit", "container_closed",
    "needs_replacement", "damaged", "expired", "recalled", "destroyed",
)  # fmt: skip
MAX_FIELDS = 40
MAX_CHOICES = 50
MAX_TEXT_LENGTH = 2000
MAX_LABEL_LENGTH = 120
MAX_UNIT_LENGTH = 16
MAX_DECIMALS = 6
#: Numbers a field may bound itself by (larger ones lose precision as JSON floats).
MAX_MAGNITUDE = 1e12
_KEY = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


class TemplateError(ValueError):
    """A template or field that cannot be stored. ``code`` is stable (the admin app
    translates it): ``bad_key``, ``no_name``, ``bad_biz_step``, ``bad_disposition``,
    ``bad_subject``, ``bad_field_name``, ``duplicate_field``, ``bad_type``, ``no_label``,
    ``bad_label``, ``bad_max_length``, ``bad_unit``, ``bad_number``, ``bad_range``,
    ``bad_decimals``, ``no_choices``, ``bad_choice``, ``duplicate_choice``,
    ``too_many_fields``, ``too_many_choices``, ``no_field``; ``field`` names the field
    concerned, if any."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(f"{code}{f' ({field})' if field else ''}")
        self.code, self.field = code, field


def _text(value: Any, limit: int) -> str | None:
    """``value`` stripped, or None when empty; refuses what PostgreSQL cannot store."""
    if value is None:
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > limit:
        raise TemplateError("bad_label")
    return value.strip() or None


def _labels(value: Any, field: str | None = None) -> dict[str, str]:
    """Labels by locale (known locales only, empty ones dropped); at least one."""
    if not isinstance(value, dict):
        raise TemplateError("no_label", field)
    labels = {}
    for locale, text in value.items():
        if locale not in LOCALES:
            raise TemplateError("bad_label", field)
        try:
            cleaned = _text(text, MAX_LABEL_LENGTH)
        except TemplateError:
            raise TemplateError("bad_label", field) from None
        if cleaned:
            labels[locale] = cleaned
    if not labels:
        raise TemplateError("no_label", field)
    return labels


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateError("bad_number", field)
    if not abs(value) <= MAX_MAGNITUDE:  # NaN too
        raise TemplateError("bad_number", field)
    return value


def check_field(spec: Any) -> dict[str, Any]:
    """A field definition in its stored form.

    ``spec``: ``name`` (an identifier: lowercase letter, then letters, digits, ``_``),
    ``type`` (a key of :data:`FIELD_TYPES`), ``label`` ({locale: text}), ``required``, and
    the type's settings: text ``max_length`` (1-2000, default 200); number ``unit``,
    ``min``, ``max`` (min ≤ max), ``decimals`` (0-6); choice ``choices`` ([{"value",
    "label": {locale: text}}], values unique).

    :raises TemplateError: the first thing wrong, with its code.
    """
    if not isinstance(spec, dict):
        raise TemplateError("bad_type")
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TemplateError("bad_field_name", name if isinstance(name, str) else None)
    kind = spec.get("type")
    if kind not in FIELD_TYPES:
        raise TemplateError("bad_type", name)
    field: dict[str, Any] = {
        "name": name,
        "type": kind,
        "label": _labels(spec.get("label"), name),
        "required": bool(spec.get("required")),
    }
    if kind == "text":
        length = spec.get("max_length", 200)
        if isinstance(length, bool) or not isinstance(length, int):
            raise TemplateError("bad_max_length", name)
        if not 1 <= length <= MAX_TEXT_LENGTH:
            raise TemplateError("bad_max_length", name)
        field["max_length"] = length
    elif kind == "number":
        unit = spec.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > MAX_UNIT_LENGTH):
            raise TemplateError("bad_unit", name)
        if unit is not None and "\x00" in unit:
            raise TemplateError("bad_unit", name)
        low, high = _number(spec.get("min"), name), _number(spec.get("max"), name)
        if low is not None and high is not None and low > high:
            raise TemplateError("bad_range", name)
        decimals = spec.get("decimals", 0)
        if isinstance(decimals, bool) or not isinstance(decimals, int):
            raise TemplateError("bad_decimals", name)
        if not 0 <= decimals <= MAX_DECIMALS:
            raise TemplateError("bad_decimals", name)
        field.update(unit=(unit or "").strip() or None, min=low, max=high, decimals=decimals)
    elif kind == "choice":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise TemplateError("no_choices", name)
        if len(choices) > MAX_CHOICES:
            raise TemplateError("too_many_choices", name)
        seen, cleaned = set(), []
        for choice in choices:
            value = choice.get("value") if isinstance(choice, dict) else None
            if not isinstance(value, str) or not _VALUE.fullmatch(value):
                raise TemplateError("bad_choice", name)
            if value in seen:
                raise TemplateError("duplicate_choice", name)
            seen.add(value)
            labels = choice.get("label") or {DEFAULT: value}
            cleaned.append({"value": value, "label": _labels(labels, name)})
        field["choices"] = cleaned
    return field


def check_fields(fields: Any) -> list[dict[str, Any]]:
    """Every field checked, names unique, at most :data:`MAX_FIELDS`."""
    if not isinstance(fields, list):
        raise TemplateError("bad_type")
    if len(fields) > MAX_FIELDS:
        raise TemplateError("too_many_fields")
    checked, names = [], set()
    for spec in fields:
        field = check_field(spec)
        if field["name"] in names:
            raise TemplateError("duplicate_field", field["name"])
        names.add(field["name"])
        checked.append(field)
    return checked


def _check_head(key: str, name: Any, biz_step: str, disposition: str | None, subject: str):
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise TemplateError("bad_key")
    names = _labels(name)
    if biz_step not in BIZ_STEPS:
        raise TemplateError("bad_biz_step")
    if disposition is not None and disposition not in DISPOSITIONS:
        raise TemplateError("bad_disposition")
    if subject not in SUBJECTS:
        raise TemplateError("bad_subject")
    return names


def create_template(
    session: Session,
    brand: Brand,
    key: str,
    name: dict[str, str],
    *,
    biz_step: str,
    subject: str,
    disposition: str | None = None,
    fields: list[dict[str, Any]] | None = None,
    actor: Actor = SYSTEM,
) -> CheckpointTemplate:
    """Version 1 of a new template; audited as ``checkpoint.create``.

    :raises TemplateError: anything invalid; :raises Duplicate: the brand has this key.
    """
    head = {"biz_step": biz_step, "subject": subject, "disposition": disposition}
    template = _new_template(session, brand, key, name, head, fields)
    _log(session, actor, "checkpoint.create", template, {"key": key})
    return template


def _log(
    session: Session, actor: Actor, action: str, template: CheckpointTemplate, details: dict
) -> None:
    audit.log(
        session, actor, action, "checkpoint_template", template.id, details,
        brand_id=template.brand_id,
    )  # fmt: skip


def _new_template(
    session: Session,
    brand: Brand,
    key: str,
    name: dict[str, str],
    head: dict[str, Any],
    fields: list[dict[str, Any]] | None,
) -> CheckpointTemplate:
    biz_step, subject, disposition = head["biz_step"], head["subject"], head.get("disposition")
    names = _check_head(key, name, biz_step, disposition, subject)
    checked = check_fields(fields or [])
    if current(session, brand, key, active_only=False) is not None:
        raise Duplicate("key", f"a checkpoint {key!r} exists")
    template = CheckpointTemplate(
        brand_id=brand.id,
        key=key,
        version=1,
        name=names,
        biz_step=biz_step,
        disposition=disposition,
        subject=subject,
        fields=checked,
        active=True,
    )
    return insert_unique(session, template, "key", f"a checkpoint {key!r} exists")


def revise(
    session: Session, template: CheckpointTemplate, *, actor: Actor = SYSTEM, **changes: Any
) -> CheckpointTemplate:
    """A new version of ``template`` (its latest) with ``changes`` (``name``,
    ``biz_step``, ``disposition``, ``subject``, ``fields``); the template itself is kept
    as recorded events knew it. Returns ``template`` when nothing changed; audited as
    ``checkpoint.update`` when something did.

    :raises TemplateError: the result is invalid; :raises Duplicate: another edit made
        this version first (a concurrent double submit).
    """
    return _revise(session, template, actor, "checkpoint.update", {}, changes)


def _revise(
    session: Session,
    template: CheckpointTemplate,
    actor: Actor,
    action: str,
    details: dict,
    changes: dict[str, Any],
) -> CheckpointTemplate:
    unknown = set(changes) - {"name", "biz_step", "disposition", "subject", "fields"}
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)}")
    values = {
        "name": template.name,
        "biz_step": template.biz_step,
        "disposition": template.disposition,
        "subject": template.subject,
        "fields": template.fields,
        **changes,
    }
    names = _check_head(
        template.key, values["name"], values["biz_step"], values["disposition"], values["subject"]
    )
    fields = check_fields(values["fields"])
    new = {**values, "name": names, "fields": fields}
    if all(new[k] == getattr(template, k) for k in new):
        return template
    revised = CheckpointTemplate(
        brand_id=template.brand_id,
        key=template.key,
        version=template.version + 1,
        active=template.active,
        **new,
    )
    revised = insert_unique(session, revised, "version", "the template changed meanwhile")
    _log(session, actor, action, revised, {"key": revised.key, "version": revised.version,
                                          **details})  # fmt: skip
    return revised


def add_field(
    session: Session, template: CheckpointTemplate, spec: dict, *, actor: Actor = SYSTEM
) -> CheckpointTemplate:
    """A new version with ``spec`` appended (see :func:`check_field`); audited as
    ``checkpoint.field_add``."""
    fields = [*template.fields, spec]
    details = {"field": spec.get("name") if isinstance(spec, dict) else None}
    return _revise(session, template, actor, "checkpoint.field_add", details, {"fields": fields})


def remove_field(
    session: Session, template: CheckpointTemplate, name: str, *, actor: Actor = SYSTEM
) -> CheckpointTemplate:
    """A new version without field ``name``; audited as ``checkpoint.field_remove``.

    :raises TemplateError: ``no_field`` when the template has no such field."""
    fields = [field for field in template.fields if field["name"] != name]
    if len(fields) == len(template.fields):
        raise TemplateError("no_field", name)
    details = {"field": name}
    return _revise(session, template, actor, "checkpoint.field_remove", details, {"fields": fields})


def move_field(
    session: Session,
    template: CheckpointTemplate,
    name: str,
    step: int,
    *,
    actor: Actor = SYSTEM,
) -> CheckpointTemplate:
    """Move field ``name`` ``step`` places (-1 up, 1 down); at an end it stays. Audited
    as ``checkpoint.field_up`` or ``checkpoint.field_down`` when it moved.

    :raises TemplateError: ``no_field`` when the template has no such field.
    """
    names = [field["name"] for field in template.fields]
    if name not in names:
        raise TemplateError("no_field", name)
    fields = list(template.fields)
    index = names.index(name)
    target = min(max(index + step, 0), len(fields) - 1)
    fields.insert(target, fields.pop(index))
    action = "checkpoint.field_up" if step < 0 else "checkpoint.field_down"
    return _revise(session, template, actor, action, {"field": name}, {"fields": fields})


def set_active(
    session: Session, template: CheckpointTemplate, active: bool, *, actor: Actor = SYSTEM
) -> bool:
    """Retire or reactivate the template's key (every version); True if that changed,
    audited then as ``checkpoint.retire`` or ``checkpoint.reactivate``."""
    rows = session.scalars(
        select(CheckpointTemplate).where(
            CheckpointTemplate.brand_id == template.brand_id,
            CheckpointTemplate.key == template.key,
        )
    ).all()
    changed = any(row.active != active for row in rows)
    for row in rows:
        row.active = active
    session.flush()
    if changed:
        action = "checkpoint.reactivate" if active else "checkpoint.retire"
        _log(session, actor, action, template, {"key": template.key})
    return changed


def current(
    session: Session, brand: Brand, key: str, *, active_only: bool = False
) -> CheckpointTemplate | None:
    """The latest version of the brand's template ``key`` (None if none, or retired and
    ``active_only``). A key no template can have (say, NUL characters from a URL) is
    answered without a query."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        return None
    query = (
        select(CheckpointTemplate)
        .where(CheckpointTemplate.brand_id == brand.id, CheckpointTemplate.key == key)
        .order_by(CheckpointTemplate.version.desc())
        .limit(1)
    )
    template = session.scalar(query)
    if template is None or (active_only and not template.active):
        return None
    return template


def get(session: Session, brand: Brand, key: str) -> CheckpointTemplate:
    """:raises NotFound: the brand has no template ``key``."""
    template = current(session, brand, key)
    if template is None:
        raise NotFound(f"no checkpoint {key!r} in brand {brand.slug}")
    return template


def version(session: Session, brand: Brand, key: str, number: int) -> CheckpointTemplate | None:
    """Version ``number`` of the brand's template ``key`` (as an event recorded it)."""
    return session.scalar(
        select(CheckpointTemplate).where(
            CheckpointTemplate.brand_id == brand.id,
            CheckpointTemplate.key == key,
            CheckpointTemplate.version == number,
        )
    )


def templates(session: Session, brand: Brand, *, active_only: bool = False):
    """The latest version of each of the brand's templates, by key."""
    latest = (
        select(CheckpointTemplate.key, func.max(CheckpointTemplate.version).label("version"))
        .where(CheckpointTemplate.brand_id == brand.id)
        .group_by(CheckpointTemplate.key)
        .subquery()
    )
    query = (
        select(CheckpointTemplate)
        .join(
            latest,
            (CheckpointTemplate.key == latest.c.key)
            & (CheckpointTemplate.version == latest.c.version),
        )
        .where(CheckpointTemplate.brand_id == brand.id)
        .order_by(CheckpointTemplate.key)
    )
    if active_only:
        query = query.where(CheckpointTemplate.active.is_(True))
    return list(session.scalars(query))


def label(labels: dict[str, str], locale: str) -> str:
    """The text for ``locale``, else English, else any."""
    return labels.get(locale) or labels.get(DEFAULT) or next(iter(labels.values()), "")


def seed_standard(
    session: Session, brand: Brand, *, actor: Actor = SYSTEM
) -> list[CheckpointTemplate]:
    """Add the standard templates the brand lacks (raw-material receipt, production
    feeding, QC inspection, packing, shipping); returns those added, audited together as
    one ``checkpoint.seed`` when there are any."""
    added = []
    for key, spec in STANDARD.items():
        if current(session, brand, key) is None:
            head = {k: v for k, v in spec.items() if k not in ("name", "fields")}
            added.append(_new_template(session, brand, key, spec["name"], head, spec.get("fields")))
    if added:
        keys = [template.key for template in added]
        audit.log(session, actor, "checkpoint.seed", "brand", brand.id, {"keys": keys},
                  brand_id=brand.id)  # fmt: skip
    return added


def field_labels(session: Session, brand: Brand, locale: str) -> dict[str, str]:
    """Each field name of the brand's templates (latest versions) → its label in
    ``locale``: what boards and traces show for a QC test or a defect instead of the
    field's key (``seal_intact`` → "Seal intact"). When two templates name the same
    field, the first by template key wins."""
    found: dict[str, str] = {}
    for template in templates(session, brand):
        for field in template.fields or ():
            name, labels = field.get("name"), field.get("label")
            if isinstance(name, str) and isinstance(labels, dict) and name not in found:
                found[name] = label(labels, locale) or name
    return found
