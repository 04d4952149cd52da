"""Genealogy: what went into a unit or batch (backward) and where a lot went (forward).

Traces walk ``genealogy_edge`` with one recursive CTE (SQLite and PostgreSQL alike). The
CTE carries only the node and combines with ``UNION``, which discards a row already
produced: each node enters once, so a cycle in the data (a bad document, a rework loop)
ends the walk instead of hanging it. ``MAX_NODES`` bounds what one trace reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from tracemark.db import chunked, is_postgresql
from tracemark.epcis import identifiers as epcs
from tracemark.models import (
    Batch,
    Brand,
    GenealogyEdge,
    MaterialLot,
    Product,
    SensorReading,
    Site,
    Supplier,
    TraceEvent,
    TraceEventObject,
    Unit,
)
from tracemark.models.base import as_utc

#: The most nodes one trace visits; a larger genealogy is cut (``truncated``).
MAX_NODES = 100_000

_EDGE = GenealogyEdge.__table__
_WALK = {
    "backward": ("output_epc", "input_epc"),
    "forward": ("input_epc", "output_epc"),
}


class TraceNotFound(LookupError):
    """The unit, batch or lot does not exist in the brand (stable code ``not_found``)."""

    code = "not_found"


@dataclass(frozen=True)
class Edge:
    input_epc: str
    output_epc: str
    input_quantity: float | None
    input_uom: str | None
    output_quantity: float | None
    output_uom: str | None
    event_id: int


@dataclass(frozen=True)
class BatchFacts:
    id: int
    epc_class: str
    gtin: str
    product: str
    lot: str
    status: str
    production_date: dt.date | None
    site: str | None
    site_country: str | None
    line: str | None


@dataclass(frozen=True)
class LotFacts:
    id: int
    epc_class: str
    material: str
    lot_number: str
    status: str
    received_on: dt.date | None
    supplier_id: int
    supplier: str
    supplier_country: str | None


@dataclass(frozen=True)
class QcResult:
    event_id: str | None
    time: dt.datetime
    biz_step: str
    disposition: str | None
    #: ``[{"test", "result", "value", "uom"}]`` when the event gave ``tm:qc``.
    tests: list[dict]
    about: list[str]


@dataclass(frozen=True)
class Excursion:
    event_id: str | None
    time: dt.datetime
    type: str
    value: float | None
    uom: str | None
    #: The sensor's exception, or ``out_of_range`` for a value beyond the given limits.
    reason: str
    about: list[str]


@dataclass
class BackwardTrace:
    batch: BatchFacts
    unit_serial: str | None
    #: Every input → output edge reached, nearest first.
    edges: list[Edge]
    lots: list[LotFacts]
    #: Batches of the brand that went into this one (intermediates), not this one.
    input_batches: list[BatchFacts]
    #: Inputs naming nothing the brand registered.
    unknown_inputs: list[str]
    suppliers: list[str]
    operators: list[str]
    equipment: list[str]
    lines: list[str]
    qc_results: list[QcResult]
    excursions: list[Excursion]
    truncated: bool = False


@dataclass
class ForwardTrace:
    start: str
    lot: LotFacts | None
    edges: list[Edge]
    batches: list[BatchFacts]
    lots: list[LotFacts] = field(default_factory=list)
    truncated: bool = False


def walk(session: Session, brand_id: int, start: str, direction: str) -> tuple[list[Edge], bool]:
    """Edges reachable from node ``start`` (``backward``: towards inputs; ``forward``:
    towards outputs), in breadth-first order, and whether ``MAX_NODES`` cut the walk."""
    near, far = (getattr(_EDGE.c, name) for name in _WALK[direction])
    reach = select(cast(literal(start), String(300)).label("node")).cte("reach", recursive=True)
    if is_postgresql(session):
        step = select(far).where(near == reach.c.node, _EDGE.c.brand_id == brand_id)
    else:
        # The same step, spelt so SQLite finds the edges by index alone: with ANALYZE
        # statistics it puts a Bloom filter on the plain join, built by scanning the whole
        # edge table on every step (15 ms at 130,000 edges instead of 0.1 ms).
        # PostgreSQL refuses this spelling (the CTE inside a subquery).
        inner = _EDGE.alias("e")
        by_index = select(inner.c.id).where(
            inner.c.brand_id == brand_id, inner.c[near.name] == reach.c.node
        )
        on = _EDGE.c.id.in_(by_index.correlate(reach))
        step = select(far).select_from(reach.join(_EDGE, on))
    reach = reach.union(step)
    bounded = select(reach.c.node).limit(MAX_NODES + 1).cte("bounded")
    reached = select(func.count()).select_from(bounded).scalar_subquery()
    columns = (
        _EDGE.c.input_epc,
        _EDGE.c.output_epc,
        _EDGE.c.input_quantity,
        _EDGE.c.input_uom,
        _EDGE.c.output_quantity,
        _EDGE.c.output_uom,
        _EDGE.c.event_id,
    )
    rows = session.execute(
        select(*columns, reached).where(
            _EDGE.c.brand_id == brand_id, near.in_(select(bounded.c.node))
        )
    ).all()
    truncated = bool(rows) and rows[0][-1] > MAX_NODES
    by_node: dict[str, list[Edge]] = {}
    for row in rows:
        edge = Edge(*row[:-1])
        by_node.setdefault(getattr(edge, near.name), []).append(edge)
    # breadth-first from the start: nearest edges first, each node once
    edges, seen, queue = [], {start}, [start]
    for node in queue:
        if len(seen) > MAX_NODES:
            break
        for edge in sorted(by_node.get(node, ()), key=lambda e: (e.event_id, e.input_epc)):
            edges.append(edge)
            onward = getattr(edge, far.name)
            if onward not in seen:
                seen.add(onward)
                queue.append(onward)
    return edges, truncated


def batch_facts(session: Session, brand_id: int, classes: Iterable[str]) -> list[BatchFacts]:
    """The brand's batches among the canonical class identifiers ``classes``."""
    wanted: dict[str, set[str]] = {}
    for uri in classes:
        parsed = epcs.canonical(uri)
        if parsed.is_class:
            wanted.setdefault(parsed.lot, set()).add(parsed.uri)
    facts = []
    for chunk in chunked(list(wanted)):
        rows = session.execute(
            select(Batch, Product.gtin, Product.name, Site.name, Site.country)
            .join(Product, Product.id == Batch.product_id)
            .outerjoin(Site, Site.id == Batch.site_id)
            .where(Batch.brand_id == brand_id, Batch.lot.in_(chunk))
        )
        for batch, gtin, product, site, country in rows:
            uri = epcs.lot_class(gtin, batch.lot)
            if uri in wanted[batch.lot]:
                facts.append(_batch_facts(batch, gtin, product, site, country))
    return sorted(facts, key=lambda f: f.id)


def _batch_facts(batch: Batch, gtin: str, product: str, site, country) -> BatchFacts:
    return BatchFacts(
        id=batch.id,
        epc_class=epcs.lot_class(gtin, batch.lot),
        gtin=gtin,
        product=product,
        lot=batch.lot,
        status=str(batch.status),
        production_date=batch.production_date,
        site=site,
        site_country=country,
        line=batch.line,
    )


def lot_facts(session: Session, brand_id: int, classes: Iterable[str]) -> list[LotFacts]:
    """The brand's material lots among ``classes``, with their suppliers."""
    facts = []
    for chunk in chunked(list(set(classes))):
        rows = session.execute(
            select(MaterialLot, Supplier.name, Supplier.country)
            .join(Supplier, Supplier.id == MaterialLot.supplier_id)
            .where(MaterialLot.brand_id == brand_id, MaterialLot.epc_class.in_(chunk))
        )
        facts += [
            LotFacts(
                lot.id,
                lot.epc_class,
                lot.material,
                lot.lot_number,
                str(lot.status),
                lot.received_on,
                lot.supplier_id,
                supplier,
                country,
            )
            for lot, supplier, country in rows
        ]
    return sorted(facts, key=lambda f: f.id)


def backward_from_unit(
    session: Session,
    brand: Brand,
    serial: str,
    *,
    limits: dict[str, tuple[float, float]] | None = None,
) -> BackwardTrace:
    """Backward trace of the unit with ``serial``, including the unit's own events.

    :raises TraceNotFound: no such unit in ``brand``.
    """
    row = session.execute(
        select(Unit.id, Unit.batch_id).where(Unit.brand_id == brand.id, Unit.serial == serial)
    ).first()
    if row is None:
        raise TraceNotFound(f"no unit {serial!r}")
    facts = _batch_row(session, brand.id, row.batch_id)
    return _backward(session, brand.id, facts, row.id, serial, limits)


def backward_from_batch(
    session: Session,
    brand: Brand,
    batch_id: int,
    *,
    limits: dict[str, tuple[float, float]] | None = None,
) -> BackwardTrace:
    """What went into a batch: input lots recursively, their suppliers, the batch's site
    and line, operators and equipment named by events (``tm:operator``,
    ``tm:equipment``, ``tm:line``), QC results (inspections, ``tm:qc``) and sensor
    excursions (a report's exception, or a value outside ``limits[type] = (low,
    high)``) of the batch and of every input found.

    :raises TraceNotFound: no such batch in ``brand``.
    """
    facts = _batch_row(session, brand.id, batch_id)
    return _backward(session, brand.id, facts, None, None, limits)


def _batch_row(session: Session, brand_id: int, batch_id: int) -> BatchFacts:
    """The batch with its product and site, in one query."""
    row = session.execute(
        select(Batch, Product.gtin, Product.name, Site.name, Site.country)
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(Site, Site.id == Batch.site_id)
        .where(Batch.id == batch_id, Batch.brand_id == brand_id)
    ).first()
    if row is None:
        raise TraceNotFound(f"no batch {batch_id}")
    return _batch_facts(*row)


def _backward(
    session: Session,
    brand_id: int,
    facts: BatchFacts,
    unit_id: int | None,
    serial: str | None,
    limits: dict[str, tuple[float, float]] | None,
) -> BackwardTrace:
    limits = limits or {}
    start = facts.epc_class
    edges, truncated = walk(session, brand_id, start, "backward")
    inputs = {edge.input_epc for edge in edges} - {start}
    lots = lot_facts(session, brand_id, inputs)
    known = {lot.epc_class for lot in lots}
    # only GS1 lot classes that are no material lot can be batches: skip the query else
    maybe_batches = {i for i in inputs - known if epcs.canonical(i).is_class}
    input_batches = [b for b in batch_facts(session, brand_id, maybe_batches) if b.id != facts.id]
    known |= {b.epc_class for b in input_batches}
    events = _events_about(
        session,
        brand_id,
        batch_ids=[facts.id] + [b.id for b in input_batches],
        lot_ids=[lot.id for lot in lots],
        unit_id=unit_id,
    )
    operators, equipment = set(), set()
    lines = {facts.line} if facts.line else set()
    for event, _about in events.values():
        data = event.data or {}
        for key, found in (
            ("tm:operator", operators),
            ("tm:equipment", equipment),
            ("tm:line", lines),
        ):
            if isinstance(data.get(key), str):
                found.add(data[key])
    qc = [
        QcResult(
            event.event_id,
            as_utc(event.event_time),
            event.biz_step,
            event.disposition,
            list((event.data or {}).get("tm:qc", [])),
            sorted(about),
        )
        for event, about in events.values()
        if event.biz_step == "inspecting" or "tm:qc" in (event.data or {})
    ]
    excursions = _excursions(session, events, limits)
    return BackwardTrace(
        batch=facts,
        unit_serial=serial,
        edges=edges,
        lots=lots,
        input_batches=input_batches,
        unknown_inputs=sorted(inputs - known),
        suppliers=sorted({lot.supplier for lot in lots}),
        operators=sorted(operators),
        equipment=sorted(equipment),
        lines=sorted(lines),
        qc_results=sorted(qc, key=lambda r: r.time),
        excursions=sorted(excursions, key=lambda x: x.time),
        truncated=truncated,
    )


def _events_about(
    session: Session,
    brand_id: int,
    *,
    batch_ids: list[int],
    lot_ids: list[int],
    unit_id: int | None,
) -> dict[int, tuple[TraceEvent, set[str]]]:
    """Events about the batches as a whole, the lots (not as transformation inputs: the
    edges hold those) and the unit, with what each is about."""
    found: dict[int, tuple[TraceEvent, set[str]]] = {}
    for chunk in chunked(batch_ids):
        for event in session.scalars(
            select(TraceEvent).where(
                TraceEvent.brand_id == brand_id,
                TraceEvent.batch_id.in_(chunk),
                TraceEvent.error_declared_at.is_(None),
            )
        ):
            found.setdefault(event.id, (event, set()))[1].add(f"batch:{event.batch_id}")
    conditions = []
    if lot_ids:
        conditions.append(TraceEventObject.lot_id.in_(lot_ids))
    if unit_id is not None:
        conditions.append(TraceEventObject.unit_id == unit_id)
    if conditions:
        rows = session.execute(
            select(TraceEvent, TraceEventObject.epc)
            .join(TraceEventObject, TraceEventObject.event_id == TraceEvent.id)
            .where(
                TraceEventObject.brand_id == brand_id,
                or_(*conditions),
                TraceEventObject.role.not_in(("input", "input_quantity")),
                TraceEvent.error_declared_at.is_(None),
            )
        )
        for event, epc in rows:
            found.setdefault(event.id, (event, set()))[1].add(epc)
    return found


def _excursions(
    session: Session,
    events: dict[int, tuple[TraceEvent, set[str]]],
    limits: dict[str, tuple[float, float]],
) -> list[Excursion]:
    out = []
    for chunk in chunked(list(events)):
        for reading in session.scalars(
            select(SensorReading).where(SensorReading.event_id.in_(chunk))
        ):
            low_high = limits.get(reading.type)
            reason = reading.exception
            if reason is None and low_high is not None:
                values = [
                    v
                    for v in (reading.value, reading.min_value, reading.max_value)
                    if v is not None
                ]
                if any(v < low_high[0] or v > low_high[1] for v in values):
                    reason = "out_of_range"
            if reason is None:
                continue
            event, about = events[reading.event_id]
            out.append(
                Excursion(
                    event.event_id,
                    as_utc(reading.time or event.event_time),
                    reading.type,
                    reading.value if reading.value is not None else reading.max_value,
                    reading.uom,
                    reason,
                    sorted(about),
                )
            )
    return out


def forward_from_class(session: Session, brand: Brand, epc_class: str) -> ForwardTrace:
    """Everything made from the lot named ``epc_class`` (any spelling): the brand's
    batches and material lots reached through transformations, at any depth."""
    start = epcs.canonical(epc_class).uri
    edges, truncated = walk(session, brand.id, start, "forward")
    outputs = {edge.output_epc for edge in edges} - {start}
    found = lot_facts(session, brand.id, [start])
    return ForwardTrace(
        start=start,
        lot=found[0] if found else None,
        edges=edges,
        batches=batch_facts(session, brand.id, outputs),
        lots=lot_facts(session, brand.id, outputs),
        truncated=truncated,
    )


def forward_from_lot(session: Session, brand: Brand, lot_id: int) -> ForwardTrace:
    """:raises TraceNotFound: no such material lot in ``brand``."""
    lot = session.get(MaterialLot, lot_id)
    if lot is None or lot.brand_id != brand.id:
        raise TraceNotFound(f"no material lot {lot_id}")
    return forward_from_class(session, brand, lot.epc_class)
