"""Recording a checkpoint: what it is about, the values given, and the EPCIS event.

The object is identified by a scanned label (its signature verified, and the unit one of
the brand's), a GS1 element string, a batch's lot number or a material lot's number.
Values are checked against the template's fields (the admin form checks first; this is
the rule). The event is an EPCIS 2.0 ObjectEvent (a TransformationEvent for a feeding:
a material lot recorded as going into a batch) stored through
:func:`tracemark.trace.capture.capture_event`, the one way events enter, so whatever capture
does for events from outside it does for recordings too. Its eventID derives from the
brand and a nonce drawn when the form was shown: the same form sent twice is one event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from signing.gs1 import MAX_LOT_LENGTH, is_valid_ai_value, is_valid_gtin14
from tracemark import audit, catalog, errors
from tracemark.audit import SYSTEM, Actor
from tracemark.codes.keycache import KeyCache
from tracemark.codes.verify import Identity, check_url
from tracemark.content import images
from tracemark.content.stories import ContentError, check_pdf
from tracemark.epcis import identifiers as epc
from tracemark.epcis.documents import EpcisError
from tracemark.models import (
    Batch,
    Brand,
    CheckpointFile,
    CheckpointTemplate,
    MaterialLot,
    Product,
    Site,
    Unit,
)
from tracemark.quality.checkpoints import MAX_MAGNITUDE, label
from tracemark.trace import capture

#: How a recorder names the object.
KINDS = ("label", "element", "batch", "material_lot")
#: Largest file a checkpoint takes (a picture: :data:`tracemark.content.images.MAX_IMAGE_BYTES`).
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_IDENTIFIER_LENGTH = 500
_NAMESPACE = uuid.UUID("6f1c9a52-3e0b-4bb8-9d53-4f0e8f6a2c11")
_NONCE = re.compile(r"[0-9a-f]{32}")
_AI = re.compile(r"\((01|10|21)\)([^()]+)")


class RecordingError(ValueError):
    """What keeps a checkpoint from being recorded; ``code`` is stable (the admin app
    translates it): ``empty``, ``bad_label``, ``revoked_key``, ``other_brand``,
    ``bad_element_string``, ``unknown_unit``, ``unknown_batch``, ``ambiguous_batch``,
    ``unknown_material_lot``, ``ambiguous_material_lot``, ``needs_unit``,
    ``needs_batch``, ``needs_material_lot``, ``bad_nonce``; for a value, ``field`` names
    the field and ``code`` is ``required``, ``too_long``, ``not_number``,
    ``too_small``, ``too_large``, ``too_precise``, ``not_date``, ``not_choice``,
    ``not_passfail``, or a file's ``empty``, ``file_too_large``, ``file_type``."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(f"{code}{f' ({field})' if field else ''}")
        self.code, self.field = code, field


@dataclass(frozen=True)
class Subject:
    """What an event is about: ``kind`` (unit, batch, material_lot), its canonical
    identifier, and what it resolved to in the brand."""

    kind: str
    uri: str
    description: str
    batch_id: int | None = None
    unit_id: int | None = None
    lot_id: int | None = None


@dataclass(frozen=True)
class Recorded:
    event_id: str
    #: The brand held this event already (the same form sent again).
    duplicate: bool
    event: dict[str, Any]


def identify(
    session: Session, brand: Brand, kind: str, text: str, *, keys: KeyCache | None = None
) -> Subject:
    """The brand's unit, batch or material lot ``text`` names.

    :raises RecordingError: nothing of the brand's, or a label that is not genuine.
    """
    text = (text or "").strip()
    if not text:
        raise RecordingError("empty")
    if len(text) > MAX_IDENTIFIER_LENGTH or "\x00" in text or kind not in KINDS:
        raise RecordingError("bad_label" if kind == "label" else "bad_element_string")
    if kind == "label":
        return _label(session, brand, text, keys)
    if kind == "element":
        return _element(session, brand, text)
    if kind == "batch":
        return _batch(session, brand, text, None)
    return _material_lot(session, brand, text)


def _label(session: Session, brand: Brand, url: str, keys: KeyCache | None) -> Subject:
    check = check_url(session, url, keys)
    if check.identity is Identity.REVOKED_KEY:
        raise RecordingError("revoked_key")
    if check.identity is not Identity.GENUINE or check.facts is None:
        raise RecordingError("bad_label")
    facts = check.facts
    if facts.brand_id != brand.id:
        raise RecordingError("other_brand")
    return _unit_subject(session, facts.unit_id, facts.gtin, facts.serial, facts.lot)


def _unit_subject(session: Session, unit_id: int, gtin: str, serial: str, lot: str) -> Subject:
    batch_id = session.scalar(select(Unit.batch_id).where(Unit.id == unit_id))
    return Subject(
        "unit",
        epc.instance(gtin, serial),
        f"GTIN {gtin} · {lot} · {serial}",
        batch_id=batch_id,
        unit_id=unit_id,
    )


def parse_element_string(text: str) -> dict[str, str]:
    """AIs 01, 10 and 21 of a GS1 element string, in brackets (``(01)…(10)…(21)…``) or
    as a scanner sends it (``]d2`` / ``]Q3`` prefix optional, variable fields ended by
    the group separator).

    :raises RecordingError: ``bad_element_string``.
    """
    values: dict[str, str] = {}
    if text.startswith("("):
        position = 0
        for match in _AI.finditer(text):
            if match.start() != position or match.group(1) in values:
                raise RecordingError("bad_element_string")
            values[match.group(1)] = match.group(2)
            position = match.end()
        if position != len(text):
            raise RecordingError("bad_element_string")
    else:
        rest = text.removeprefix("]d2").removeprefix("]Q3").removeprefix("]C1")
        while rest:
            ai, rest = rest[:2], rest[2:]
            if ai == "01":
                value, rest = rest[:14], rest[14:]
            elif ai in ("10", "21") and ai not in values:
                value, _, rest = rest.partition("\x1d")
            else:
                raise RecordingError("bad_element_string")
            values[ai] = value
    gtin = values.get("01")
    if gtin is None or not is_valid_gtin14(gtin) or not ({"10", "21"} & values.keys()):
        raise RecordingError("bad_element_string")
    for ai in ("10", "21"):
        if ai in values and not is_valid_ai_value(values[ai], MAX_LOT_LENGTH):
            raise RecordingError("bad_element_string")
    return values


def _element(session: Session, brand: Brand, text: str) -> Subject:
    values = parse_element_string(text)
    gtin = values["01"]
    if "21" in values:
        query = (
            select(Unit.id, Batch.lot)
            .join(Batch, Batch.id == Unit.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Unit.brand_id == brand.id, Unit.serial == values["21"], Product.gtin == gtin)
        )
        if "10" in values:
            query = query.where(Batch.lot == values["10"])
        row = session.execute(query).first()
        if row is None:
            raise RecordingError("unknown_unit")
        return _unit_subject(session, row[0], gtin, values["21"], row[1])
    return _batch(session, brand, values["10"], gtin)


def _batch(session: Session, brand: Brand, lot: str, gtin: str | None) -> Subject:
    try:
        batch = catalog.find_batch(session, brand, lot, gtin)
    except errors.NotFound:
        query = select(Batch.id).where(Batch.brand_id == brand.id, Batch.lot == lot)
        several = len(session.scalars(query.limit(2)).all()) > 1 and gtin is None
        raise RecordingError("ambiguous_batch" if several else "unknown_batch") from None
    return _batch_subject(batch)


def _batch_subject(batch: Batch) -> Subject:
    gtin = batch.product.gtin
    return Subject(
        "batch",
        epc.lot_class(gtin, batch.lot),
        f"{batch.product.name} · GTIN {gtin} · {batch.lot}",
        batch_id=batch.id,
    )


def _material_lot(session: Session, brand: Brand, number: str) -> Subject:
    lots = session.scalars(
        select(MaterialLot)
        .where(MaterialLot.brand_id == brand.id, MaterialLot.lot_number == number)
        .limit(2)
    ).all()
    if not lots:
        raise RecordingError("unknown_material_lot")
    if len(lots) > 1:
        raise RecordingError("ambiguous_material_lot")
    lot = lots[0]
    return Subject(
        "material_lot",
        lot.epc_class,
        f"{lot.material} · {lot.lot_number} · {lot.supplier.name}",
        lot_id=lot.id,
    )


def for_template(session: Session, template: CheckpointTemplate, found: Subject) -> Subject:
    """What an event of ``template`` is about, given the object found: a unit's label
    serves a batch checkpoint (the event names the unit's batch).

    :raises RecordingError: ``needs_unit``, ``needs_batch`` or ``needs_material_lot``.
    """
    if template.subject == found.kind:
        return found
    if template.subject == "batch" and found.kind == "unit":
        return _batch_subject(session.get_one(Batch, found.batch_id))
    raise RecordingError(f"needs_{template.subject}")


def store_file(session: Session, brand: Brand, data: bytes, field: str) -> dict[str, Any]:
    """Keep a file given in a checkpoint: a PDF cleaned of active content
    (``content.stories.check_pdf``), a picture (PNG, JPEG, WebP) re-encoded without
    metadata; judged by content. Returns what the event says of it.

    :raises RecordingError: ``empty``, ``file_too_large`` or ``file_type``.
    """
    if not data:
        raise RecordingError("required", field)
    if len(data) > MAX_FILE_BYTES:
        raise RecordingError("file_too_large", field)
    try:
        if data.startswith(b"%PDF-"):
            data = check_pdf(data, MAX_FILE_BYTES)
            content_type = "application/pdf"
        else:
            encoded = images.reencode(data)
            data, content_type = encoded.data, encoded.content_type
    except ContentError as error:
        code = "file_too_large" if error.reason in ("too_large", "too_many_pixels") else "file_type"
        raise RecordingError(code, field) from None
    digest = hashlib.sha256(data).hexdigest()
    query = select(CheckpointFile).where(
        CheckpointFile.brand_id == brand.id, CheckpointFile.sha256 == digest
    )
    stored = session.scalar(query)
    if stored is None:
        stored = CheckpointFile(
            brand_id=brand.id, sha256=digest, content_type=content_type, size=len(data), data=data
        )
        try:
            stored = errors.insert_unique(session, stored, "sha256", "stored meanwhile")
        except errors.Duplicate:
            stored = session.scalar(query)
    return {"file": stored.id, "sha256": digest, "type": content_type, "size": stored.size}


def get_file(session: Session, brand: Brand, file_id: int) -> CheckpointFile | None:
    """The brand's checkpoint file ``file_id``; None for another brand's or none."""
    found = session.get(CheckpointFile, file_id)
    return found if found is not None and found.brand_id == brand.id else None


def clean_values(template: CheckpointTemplate, raw: dict[str, Any]) -> dict[str, Any]:
    """The template's values as events store them: numbers rounded to the field's
    decimals, dates as ISO text; empty optional fields left out. Files must already be
    stored (:func:`store_file`): their value is what it returned.

    :raises RecordingError: the first value that breaks its field's rules.
    """
    values = {}
    for field in template.fields:
        name, kind = field["name"], field["type"]
        value = raw.get(name)
        if value is None or value == "":
            if field["required"]:
                raise RecordingError("required", name)
            continue
        if kind == "text":
            if not isinstance(value, str) or "\x00" in value:
                raise RecordingError("too_long", name)
            value = value.strip()
            if len(value) > field["max_length"]:
                raise RecordingError("too_long", name)
            if not value:
                if field["required"]:
                    raise RecordingError("required", name)
                continue
        elif kind == "number":
            value = _number(field, value)
        elif kind == "date":
            if not isinstance(value, dt.date):
                raise RecordingError("not_date", name)
            value = value.isoformat()
        elif kind == "choice":
            if value not in {choice["value"] for choice in field["choices"]}:
                raise RecordingError("not_choice", name)
        elif kind == "passfail":
            if value not in ("pass", "fail"):
                raise RecordingError("not_passfail", name)
        elif kind == "file" and (not isinstance(value, dict) or "sha256" not in value):
            raise RecordingError("file_type", name)
        values[name] = value
    return values


def _number(field: dict[str, Any], value: Any) -> int | float:
    name = field["name"]
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise RecordingError("not_number", name) from None
    if not number.is_finite():
        raise RecordingError("not_number", name)
    if field["min"] is not None and number < Decimal(str(field["min"])):
        raise RecordingError("too_small", name)
    if field["max"] is not None and number > Decimal(str(field["max"])):
        raise RecordingError("too_large", name)
    if abs(number) > Decimal(str(MAX_MAGNITUDE)):
        raise RecordingError("too_large" if number > 0 else "too_small", name)
    if number != number.quantize(Decimal(1).scaleb(-field["decimals"])):
        raise RecordingError("too_precise", name)
    return int(number) if field["decimals"] == 0 else float(number)


def event_id(brand: Brand, nonce: str) -> str:
    """The eventID of the recording made from the form that drew ``nonce``."""
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise RecordingError("bad_nonce")
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{brand.id}:{nonce}')}"


def site_location(session: Session, site: Site) -> str:
    """How events name ``site``: its location identifier, given a private one on first
    need (``urn:tracemark:site:<brand>.<id>``) so capture resolves it like any other."""
    if not site.location_id:
        site.location_id = f"urn:tracemark:site:{site.brand_id}.{site.id}"
        session.flush()
    return site.location_id


def _offset(when: dt.datetime) -> str:
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("the event time must carry its offset")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


#: The field of a material lot checkpoint naming the batch the lot went into: a
#: recording that fills it is a feeding, an EPCIS TransformationEvent (the lot in, the
#: batch out), so genealogy and recall see it.
FEEDS_FIELD = "lot_produced"
#: Units of a number field → UN/CEFACT codes (EPCIS quantity ``uom``).
_UOM = {"kg": "KGM", "g": "GRM", "t": "TNE", "l": "LTR", "ml": "MLT"}


def produced_batch(
    session: Session, brand: Brand, template: CheckpointTemplate, values: dict[str, Any]
) -> Subject | None:
    """The batch a feeding recording names in :data:`FEEDS_FIELD`, if it names one.

    :raises RecordingError: ``unknown_batch`` or ``ambiguous_batch``, on that field.
    """
    lot = values.get(FEEDS_FIELD)
    if template.subject != "material_lot" or not lot:
        return None
    try:
        return _batch(session, brand, lot, None)
    except RecordingError as error:
        raise RecordingError(error.code, FEEDS_FIELD) from None


def build_event(
    template: CheckpointTemplate,
    subject: Subject,
    values: dict[str, Any],
    *,
    event_id: str,
    when: dt.datetime,
    location: str | None,
    operator: str,
    produced: Subject | None = None,
) -> dict[str, Any]:
    """The EPCIS 2.0 event of a recording (``values`` as :func:`clean_values` returns
    them): an ObjectEvent, or with ``produced`` a TransformationEvent feeding the
    material lot (with the quantity field's amount) into that batch. Pass/fail fields
    are also ``tm:qc`` results; any failure makes the disposition ``non_conformant``,
    and an inspection without one is ``conformant``."""
    qc = [
        {"test": field["name"], "result": values[field["name"]]}
        for field in template.fields
        if field["type"] == "passfail" and field["name"] in values
    ]
    disposition = template.disposition
    if any(result["result"] == "fail" for result in qc):
        disposition = "non_conformant"
    elif template.biz_step == "inspecting":
        disposition = "conformant"
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": event_id,
        "eventTime": when.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": _offset(when),
        "action": "OBSERVE",
        "bizStep": template.biz_step,
    }
    if produced is not None:
        event["type"] = "TransformationEvent"
        del event["action"]
        fed: dict[str, Any] = {"epcClass": subject.uri}
        for field in template.fields:
            if field["type"] == "number" and field["name"] == "quantity" and "quantity" in values:
                fed["quantity"] = values["quantity"]
                if _UOM.get(str(field.get("unit")).lower()):
                    fed["uom"] = _UOM[str(field["unit"]).lower()]
        event["inputQuantityList"] = [fed]
        event["outputQuantityList"] = [{"epcClass": produced.uri}]
    elif subject.kind == "unit":
        event["epcList"] = [subject.uri]
    else:
        event["quantityList"] = [{"epcClass": subject.uri}]
    if disposition:
        event["disposition"] = disposition
    if location:
        event["readPoint"] = {"id": location}
        event["bizLocation"] = {"id": location}
    event["tm:checkpoint"] = {"key": template.key, "version": template.version}
    event["tm:fields"] = values
    if qc:
        event["tm:qc"] = qc
    event["tm:operator"] = operator[:200]
    return event


def record(
    session: Session,
    brand: Brand,
    template: CheckpointTemplate,
    subject: Subject,
    values: dict[str, Any],
    *,
    nonce: str,
    when: dt.datetime,
    site: Site | None,
    operator: str,
    actor: Actor = SYSTEM,
) -> Recorded:
    """Record a checkpoint through capture, audited as ``checkpoint.record``; the same
    ``nonce`` again records nothing more (``duplicate``), and audits nothing.

    :raises RecordingError: a bad nonce; :raises EpcisError: an event capture refuses.
    """
    identifier = event_id(brand, nonce)
    produced = produced_batch(session, brand, template, values)
    location = site_location(session, site) if site is not None else None
    event = build_event(
        template, subject, values, event_id=identifier, when=when, location=location,
        operator=operator, produced=produced,
    )  # fmt: skip
    try:
        result = capture.capture_event(session, brand, event)
    except EpcisError as error:
        if error.code != "event_id_conflict":
            raise
        # The form was sent again (a double submit): its event is held already, and
        # this copy differs only in what the second request filled in (its time).
        return Recorded(identifier, True, event)
    if identifier in result.duplicates:
        return Recorded(identifier, True, event)
    details = {"key": template.key, "version": template.version, "object": subject.uri}
    audit.log(session, actor, "checkpoint.record", "trace_event", identifier, details,
              brand_id=brand.id)  # fmt: skip
    return Recorded(identifier, False, event)


def describe(template: CheckpointTemplate, values: dict[str, Any], locale: str) -> list:
    """``(label, value, unit)`` rows of recorded values in the template's field order, in
    ``locale`` (choices by their label)."""
    rows = []
    for field in template.fields:
        if field["name"] not in values:
            continue
        value = values[field["name"]]
        if field["type"] == "choice":
            labels = {c["value"]: c["label"] for c in field["choices"]}
            value = label(labels.get(value, {"en": value}), locale)
        rows.append((label(field["label"], locale), field["type"], value, field.get("unit")))
    return rows
