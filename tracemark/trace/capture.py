"""Capturing EPCIS 2.0 events: the one way events from outside enter the database.

A capture is all-or-nothing: the whole document is validated before anything is
written (:mod:`tracemark.epcis.documents`), identifiers are resolved to the brand's units,
batches, material lots and sites, and every row goes in under one savepoint. Events are
idempotent by eventID (an event without one is identified by its content's hash): an
event the brand already holds is skipped, so a client may resend a document after a
timeout; the same eventID with other content is refused (``event_id_conflict``). The
one repeat EPCIS allows is an error declaration: the event again, with an
``errorDeclaration``. The held event then keeps its objects (it stays queryable, with
its declaration) and loses its genealogy edges and sensor readings, and readers of
traces, journeys and boards pass over events declared in error; the corrective events
are captured like any other. Events may arrive in any order; every reader orders them
by ``event_time``.

The brand's enabled rules (:mod:`tracemark.quality.rules`) are evaluated on the events a capture
stores — never on those it skips as held already — and their actions (holds, locks,
outbox messages) are written under the same savepoint, so they commit or roll back with
the events. So are the reports of the brand's EPCIS subscriptions: one outbox message per
subscription whose query matches stored events (:mod:`tracemark.trace.subscriptions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracemark.db import chunked, insert_returning_ids, insert_rows
from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.epcis.documents import EpcisError, EventRecord
from tracemark.models import (
    Batch,
    Brand,
    GenealogyEdge,
    MaterialLot,
    Product,
    SensorExcursion,
    SensorReading,
    Site,
    TraceEvent,
    TraceEventObject,
    Unit,
)
from tracemark.models.base import utcnow
from tracemark.quality import rule_actions, rules
from tracemark.reporting import board_rollup
from tracemark.trace import subscriptions
from tracemark.trace.events import sites_by_location

__all__ = ["CaptureResult", "EpcisError", "capture_document", "capture_event", "capture_events"]


@dataclass(frozen=True)
class CaptureResult:
    #: eventIDs stored by this capture, and those skipped because the brand held them.
    captured: list[str]
    duplicates: list[str]
    #: eventIDs of held events this capture declared in error.
    declared: list[str] = field(default_factory=list)


def capture_document(session: Session, brand: Brand, document: Any) -> CaptureResult:
    """Capture every event of an EPCIS 2.0 JSON-LD document for ``brand``, or none.

    :raises EpcisError: the document is invalid anywhere (nothing is written).
    """
    return _store(session, brand, epcis.validate_document(document))


def capture_events(session: Session, brand: Brand, events: Any) -> CaptureResult:
    """Capture a JSON list of EPCIS events (paths read ``$[i]...``), all or none."""
    return _store(session, brand, epcis.validate_events(events))


def capture_event(session: Session, brand: Brand, event: Any) -> CaptureResult:
    """Capture one EPCIS event (paths read ``$...``)."""
    return _store(session, brand, [epcis.validate_event(event)])


@dataclass(frozen=True, slots=True)
class _Resolved:
    unit_id: int | None = None
    batch_id: int | None = None
    lot_id: int | None = None
    #: The class genealogy records for this identifier (a unit's batch class).
    node: str | None = None


def _resolve(session: Session, brand_id: int, records: list[EventRecord]) -> dict[str, _Resolved]:
    """Canonical identifier → what it names in the brand (only identifiers it knows)."""
    serials: dict[str, set[str]] = {}
    lots: dict[str, set[str]] = {}
    classes = set()
    for record in records:
        for obj in record.objects:
            if obj.epc.serial is not None:
                serials.setdefault(obj.epc.serial, set()).add(obj.epc.uri)
            elif obj.epc.is_class:
                lots.setdefault(obj.epc.lot, set()).add(obj.epc.uri)
                classes.add(obj.epc.uri)
            else:
                classes.add(obj.epc.uri)
    found: dict[str, _Resolved] = {}
    for chunk in chunked(serials):
        rows = session.execute(
            select(Unit.id, Unit.batch_id, Unit.serial, Product.gtin, Batch.lot)
            .join(Batch, Batch.id == Unit.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Unit.brand_id == brand_id, Unit.serial.in_(chunk))
        )
        for unit_id, batch_id, serial, gtin, lot in rows:
            uri = epcs.instance(gtin, serial)
            if uri in serials[serial]:
                found[uri] = _Resolved(unit_id, batch_id, None, epcs.lot_class(gtin, lot))
    for chunk in chunked(lots):
        rows = session.execute(
            select(Batch.id, Batch.lot, Product.gtin)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.brand_id == brand_id, Batch.lot.in_(chunk))
        )
        for batch_id, lot, gtin in rows:
            uri = epcs.lot_class(gtin, lot)
            if uri in lots[lot]:
                found[uri] = _Resolved(None, batch_id, None, uri)
    for chunk in chunked(classes):
        rows = session.execute(
            select(MaterialLot.id, MaterialLot.epc_class).where(
                MaterialLot.brand_id == brand_id, MaterialLot.epc_class.in_(chunk)
            )
        )
        for lot_id, uri in rows:
            found.setdefault(uri, _Resolved(None, None, lot_id, uri))
    return found


def _sites(session: Session, brand_id: int, records: list[EventRecord]) -> dict[str, Site]:
    """Canonical location identifier → the brand's site whose ``location_id`` it is, in
    any spelling (a site entered as an SGLN URN is found by its Digital Link too)."""
    if not any(r.biz_location or r.read_point for r in records):
        return {}
    return sites_by_location(session, brand_id)


@dataclass(frozen=True, slots=True)
class _Held:
    id: int
    digest: str | None
    declared: bool


def _held(session: Session, brand_id: int, ids: Iterable[str]) -> dict[str, _Held]:
    held = {}
    for chunk in chunked(ids):
        rows = session.execute(
            select(
                TraceEvent.event_id,
                TraceEvent.id,
                TraceEvent.content_sha256,
                TraceEvent.error_declared_at,
            ).where(TraceEvent.brand_id == brand_id, TraceEvent.event_id.in_(chunk))
        )
        for event_id, row_id, digest, declared_at in rows:
            held[event_id] = _Held(row_id, digest, declared_at is not None)
    return held


def _sort(
    records: list[EventRecord], held: dict[str, _Held]
) -> tuple[list[EventRecord], list[str], list[tuple[_Held, EventRecord]]]:
    """Fresh events, eventIDs held already, and held events now declared in error.

    :raises EpcisError: ``event_id_conflict``, an event the brand holds under this
        eventID with other content (and no error declaration saying so).
    """
    fresh, duplicates, declarations = [], [], []
    for record in records:
        found = held.get(record.event_id)
        if found is None:
            fresh.append(record)
        elif record.error_declaration is not None and not found.declared:
            declarations.append((found, record))
        elif (
            record.error_declaration is None
            and found.digest is not None
            and found.digest != record.digest
            and found.digest != epcis.content_digest(record, as_spelt=True)
        ):
            raise EpcisError(
                "event_id_conflict",
                f"{record.path}.eventID",
                "the brand holds another event with this eventID; an event is changed"
                " only by declaring it in error (errorDeclaration) and capturing its"
                " corrective event under a new eventID",
            )
        else:
            duplicates.append(record.event_id)
    return fresh, duplicates, declarations


def _declare(session: Session, declarations: list[tuple[_Held, EventRecord]]) -> None:
    """Mark held events as declared in error: they stay queryable with their
    declaration, and their genealogy edges, sensor readings and the supply-chain board's
    excursions from them go, and so do the quality board's first inspections and defects
    rolled up from them, and the objects it placed go back to where their other events
    leave them (:func:`board_rollup.retract`)."""
    for found, record in declarations:
        session.execute(
            update(TraceEvent)
            .where(TraceEvent.id == found.id)
            .values(
                error_declared_at=record.declared_at, error_declaration=record.error_declaration
            )
        )
    ids = [found.id for found, _record in declarations]
    for chunk in chunked(ids):
        session.execute(delete(GenealogyEdge).where(GenealogyEdge.event_id.in_(chunk)))
        session.execute(delete(SensorReading).where(SensorReading.event_id.in_(chunk)))
        session.execute(delete(SensorExcursion).where(SensorExcursion.event_id.in_(chunk)))
    board_rollup.retract(session, ids)


def _store(session: Session, brand: Brand, records: list[EventRecord]) -> CaptureResult:
    """Store the events the brand does not hold. A concurrent capture of the same
    eventIDs makes the insert fail as a whole; the second attempt skips what it stored."""
    try:
        return _store_once(session, brand, records)
    except IntegrityError:
        return _store_once(session, brand, records)


def _store_once(session: Session, brand: Brand, records: list[EventRecord]) -> CaptureResult:
    held = _held(session, brand.id, (record.event_id for record in records))
    fresh, duplicates, declarations = _sort(records, held)
    declared = [record.event_id for _found, record in declarations]
    if declarations:
        with session.begin_nested():
            _declare(session, declarations)
    if not fresh:
        return CaptureResult([], duplicates, declared)
    resolved = _resolve(session, brand.id, fresh)
    sites = _sites(session, brand.id, fresh)
    brand_rules = rules.enabled_rules(session, brand.id)
    brand_subscriptions = subscriptions.active(session, brand.id)
    recorded_at = utcnow()
    event_rows = []
    for record in fresh:
        site = sites.get(record.biz_location) or sites.get(record.read_point)
        event_rows.append(
            {
                "brand_id": brand.id,
                "batch_id": _batch_of(record, resolved),
                "event_id": record.event_id,
                "event_type": record.event_type,
                "action": record.action,
                "event_time": record.event_time,
                "event_timezone": record.offset,
                "biz_step": record.biz_step,
                "disposition": record.disposition,
                "read_point": record.read_point,
                "biz_location": record.biz_location,
                "parent_id": record.parent_id,
                "transformation_id": record.transformation_id,
                "sources": record.sources,
                "destinations": record.destinations,
                "site_id": site.id if site else None,
                "data": record.data,
                "recorded_at": recorded_at,
                "content_sha256": record.digest,
                "error_declared_at": record.declared_at,
                "error_declaration": record.error_declaration,
                "spellings": record.spellings or None,
            }
        )
    with session.begin_nested():
        ids = _insert_events(session, event_rows)
        objects, edges, readings = [], [], []
        for event_id, record in zip(ids, fresh, strict=True):
            # an event declared in error from the start counts nowhere: objects only
            counts = record.error_declaration is None
            _children(
                brand.id,
                event_id,
                record,
                resolved,
                objects,
                edges if counts else [],
                readings if counts else [],
            )
        for model, rows in (
            (TraceEventObject, objects),
            (GenealogyEdge, edges),
            (SensorReading, readings),
        ):
            _insert_rows(session, model.__table__, rows)
        if brand_rules:
            _apply_rules(session, brand, brand_rules, ids, fresh, event_rows, resolved)
        if brand_subscriptions:
            subscriptions.report(session, brand, brand_subscriptions, ids)
    return CaptureResult([record.event_id for record in fresh], duplicates, declared)


def _apply_rules(
    session: Session,
    brand: Brand,
    brand_rules: list[rules.CompiledRule],
    ids: list[int],
    records: list[EventRecord],
    event_rows: list[dict[str, Any]],
    resolved: dict[str, _Resolved],
) -> None:
    hits = []
    for event_id, record, row in zip(ids, records, event_rows, strict=True):
        if record.error_declaration is not None:
            continue
        about = None
        for rule in brand_rules:
            if not rules.matches(
                rule, record.biz_step, record.disposition, record.data, record.readings
            ):
                continue
            if about is None:
                about = _about(record, row, resolved)
            hits.append((rule, rule_actions.Captured(event_id, record, *about)))
    if hits:
        rule_actions.fire(session, brand, hits)


def _about(
    record: EventRecord, row: dict[str, Any], resolved: dict[str, _Resolved]
) -> tuple[frozenset[int], frozenset[int]]:
    """The batches (of named units and classes) and material lots an event names."""
    batches, lots = {row["batch_id"]}, set()
    for obj in record.objects:
        found = resolved.get(obj.epc.uri)
        if found is not None:
            batches.add(found.batch_id)
            lots.add(found.lot_id)
    batches.discard(None)
    lots.discard(None)
    return frozenset(batches), frozenset(lots)


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert event rows, returning their ids in order (see :func:`insert_returning_ids`)."""
    return insert_returning_ids(session, TraceEvent.__table__, rows)


def _insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert rows of one shape (COPY on PostgreSQL)."""
    insert_rows(session, table, rows)


def _batch_of(record: EventRecord, resolved: dict[str, _Resolved]) -> int | None:
    """The one batch an event names by class (its outputs, for a transformation)."""
    roles = (
        ("output_quantity",)
        if record.event_type == "TransformationEvent"
        else ("epc_quantity", "child_quantity")
    )
    batches = {
        resolved[obj.epc.uri].batch_id
        for obj in record.objects
        if obj.role in roles and obj.epc.uri in resolved
    }
    batches.discard(None)
    return batches.pop() if len(batches) == 1 else None


def _children(
    brand_id: int,
    event_id: int,
    record: EventRecord,
    resolved: dict[str, _Resolved],
    objects: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    readings: list[dict[str, Any]],
) -> None:
    empty = _Resolved()
    inputs, outputs = [], []
    for obj in record.objects:
        found = resolved.get(obj.epc.uri, empty)
        objects.append(
            {
                "brand_id": brand_id,
                "event_id": event_id,
                "role": obj.role,
                "epc": obj.epc.uri,
                "quantity": obj.quantity,
                "uom": obj.uom,
                "unit_id": found.unit_id,
                "batch_id": found.batch_id,
                "lot_id": found.lot_id,
            }
        )
        node = found.node or obj.epc.uri
        if obj.role.startswith("input"):
            inputs.append((node, obj.quantity, obj.uom))
        elif obj.role.startswith("output"):
            outputs.append((node, obj.quantity, obj.uom))
    pairs = {}
    for i_node, i_quantity, i_uom in inputs:
        for o_node, o_quantity, o_uom in outputs:
            # units of one batch collapse into one edge between the classes
            if (i_node, o_node) not in pairs and i_node != o_node:
                pairs[i_node, o_node] = (i_quantity, i_uom, o_quantity, o_uom)
    for (i_node, o_node), (i_quantity, i_uom, o_quantity, o_uom) in pairs.items():
        edges.append(
            {
                "brand_id": brand_id,
                "event_id": event_id,
                "input_epc": i_node,
                "output_epc": o_node,
                "input_quantity": i_quantity,
                "input_uom": i_uom,
                "output_quantity": o_quantity,
                "output_uom": o_uom,
            }
        )
    for value in record.readings:
        readings.append(
            {
                "brand_id": brand_id,
                "event_id": event_id,
                "type": value.type,
                "value": value.value,
                "min_value": value.min_value,
                "max_value": value.max_value,
                "uom": value.uom,
                "time": value.time,
                "device_id": value.device_id,
                "exception": value.exception,
            }
        )
