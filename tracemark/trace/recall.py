"""Recall impact of a lot: every batch made from it, how many units, where they went,
and which units consumers already scanned, by country; exportable as CSV and PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from tracemark import audit, catalog, csv_export
from tracemark.db import chunked

# the label sheets' minimal PDF writer serves this report too
from tracemark.labels.pdf import write_text_pdf
from tracemark.models import (
    Batch,
    Brand,
    IssuanceJob,
    MaterialLot,
    ScanEvent,
    TraceEvent,
    TraceEventObject,
    Unit,
)
from tracemark.models.base import as_utc
from tracemark.trace.events import sites_by_location
from tracemark.trace.genealogy import BatchFacts, ForwardTrace, batch_facts, forward_from_class


@dataclass(frozen=True)
class AffectedBatch:
    batch: BatchFacts
    #: Units issued for the batch (labels that exist), and how many of them were scanned.
    units: int
    scanned_units: int


@dataclass(frozen=True)
class Shipment:
    """Goods of an affected batch sent to a destination by one event."""

    event_id: str | None
    time: str
    batch_id: int
    lot: str
    destination_type: str
    destination: str
    #: The brand's site with this location id, if any, and its country.
    site: str | None
    country: str | None
    #: Units shipped (counted through unit and container lists) or the quantity given.
    quantity: float
    uom: str | None


@dataclass(frozen=True)
class RecallImpact:
    trace: ForwardTrace
    batches: list[AffectedBatch]
    shipments: list[Shipment]
    #: Distinct scanned units by the scan's country (``None`` when unknown).
    scanned_by_country: dict[str | None, int]

    @property
    def total_units(self) -> int:
        return sum(b.units for b in self.batches)


def hold_affected(
    session: Session,
    brand: Brand,
    lot: MaterialLot,
    impact: RecallImpact,
    notice: dict[str, str],
    *,
    actor: audit.Actor = audit.SYSTEM,
) -> list[Batch]:
    """Put every released batch the lot reached on hold with ``notice``
    (:func:`tracemark.catalog.hold_batches`, each entry naming the lot); returns the
    batches held. When any is, the recall is audited as ``lot.recall_hold`` with their
    lots. Batches on hold or recalled already are left alone, so holding twice holds and
    records nothing more.
    """
    held = catalog.hold_batches(
        session,
        brand,
        [affected.batch.id for affected in impact.batches],
        notice,
        actor=actor,
        context={"lot": lot.epc_class},
    )
    if held:
        lots = [batch.lot for batch in held]
        audit.log(
            session,
            actor,
            "lot.recall_hold",
            "material_lot",
            lot.id,
            {"batches": lots},
            brand_id=brand.id,
        )
    return held


def recall_impact(session: Session, brand: Brand, epc_class: str) -> RecallImpact:
    """The impact of recalling the lot ``epc_class`` (material lot or batch class): the
    batches made from it, and the batch itself when it names one.

    Read-only; a lot feeding no batch gives an empty report (not an error), so a
    recall can be assessed before its lot is registered.
    """
    trace = forward_from_class(session, brand, epc_class)
    # a batch's own recall reaches the batch itself first
    batches = batch_facts(session, brand.id, [trace.start]) + trace.batches
    batch_ids = [b.id for b in batches]
    units = _units(session, batch_ids)
    scanned, by_country = _scans(session, batch_ids)
    affected = [AffectedBatch(b, units.get(b.id, 0), scanned.get(b.id, 0)) for b in batches]
    lots = {b.id: b.lot for b in batches}
    return RecallImpact(
        trace=trace,
        batches=affected,
        shipments=_shipments(session, brand.id, lots),
        scanned_by_country=by_country,
    )


def _units(session: Session, batch_ids: list[int]) -> dict[int, int]:
    if not batch_ids:
        return {}
    rows = session.execute(
        select(IssuanceJob.batch_id, func.sum(IssuanceJob.issued))
        .where(IssuanceJob.batch_id.in_(batch_ids))
        .group_by(IssuanceJob.batch_id)
    )
    return {batch_id: int(total or 0) for batch_id, total in rows}


def _scans(session: Session, batch_ids: list[int]) -> tuple[dict[int, int], dict[str | None, int]]:
    """Distinct scanned units per batch, and per country of the scans."""
    if not batch_ids:
        return {}, {}
    jobs = select(IssuanceJob.id).where(IssuanceJob.batch_id.in_(batch_ids))
    rows = session.execute(
        select(Unit.batch_id, ScanEvent.country, ScanEvent.unit_id)
        .join(ScanEvent, ScanEvent.unit_id == Unit.id)
        .where(Unit.job_id.in_(jobs), ScanEvent.kind != "staff")  # consumers' reach only
        .distinct()
    ).all()
    per_batch: dict[int, set[int]] = {}
    per_country: dict[str | None, set[int]] = {}
    for batch_id, country, unit_id in rows:
        per_batch.setdefault(batch_id, set()).add(unit_id)
        per_country.setdefault(country, set()).add(unit_id)
    return (
        {batch_id: len(units) for batch_id, units in per_batch.items()},
        dict(
            sorted(
                ((country, len(units)) for country, units in per_country.items()),
                key=lambda item: (-item[1], item[0] or ""),
            )
        ),
    )


def _shipments(session: Session, brand_id: int, lots: dict[int, str]) -> list[Shipment]:
    """Events with a destination that moved goods of the batches: by class (quantity
    lists), by unit, or by a container the batch's units were aggregated into."""
    if not lots:
        return []
    batch_ids = list(lots)
    moved: dict[tuple[int, int], list] = {}  # (event, batch) -> [quantity, uom]
    # by class, or by unit: object rows resolved to the batch
    rows = session.execute(
        select(
            TraceEventObject.event_id,
            TraceEventObject.batch_id,
            TraceEventObject.unit_id,
            TraceEventObject.quantity,
            TraceEventObject.uom,
        )
        .join(TraceEvent, TraceEvent.id == TraceEventObject.event_id)
        .where(
            TraceEventObject.batch_id.in_(batch_ids),
            TraceEventObject.role.in_(("epc", "epc_quantity")),
            TraceEvent.destinations.is_not(None),
            TraceEvent.error_declared_at.is_(None),
        )
    )
    for event_id, batch_id, unit_id, quantity, uom in rows:
        entry = moved.setdefault((event_id, batch_id), [0.0, None])
        if unit_id is not None:
            entry[0] += 1
        else:
            entry[0] += quantity or 0
            entry[1] = uom
    # by container: units packed into a parent (a case), perhaps packed in turn into a
    # bigger one (a pallet), and any of them shipped
    holdings = _containers(session, brand_id, batch_ids)
    shipped, shipping = aliased(TraceEventObject), aliased(TraceEvent)
    for chunk in chunked(list(holdings)):
        rows = session.execute(
            select(shipping.id, shipped.epc)
            .select_from(shipped)
            .join(shipping, shipping.id == shipped.event_id)
            .where(
                shipped.brand_id == brand_id,
                shipped.role == "epc",
                shipped.epc.in_(chunk),
                shipping.destinations.is_not(None),
            )
        )
        for event_id, container in rows:
            for batch_id, units in holdings[container].items():
                moved.setdefault((event_id, batch_id), [0.0, None])[0] += len(units)
    if not moved:
        return []
    event_ids = sorted({event_id for event_id, _batch in moved})
    events = {}
    for chunk in chunked(event_ids):
        query = select(
            TraceEvent.id, TraceEvent.event_id, TraceEvent.event_time, TraceEvent.destinations
        ).where(TraceEvent.id.in_(chunk))
        events.update({row.id: row for row in session.execute(query)})
    places = {d["destination"] for e in events.values() for d in (e.destinations or [])}
    sites = sites_by_location(session, brand_id) if places else {}
    shipments = []
    for (event_id, batch_id), (quantity, uom) in moved.items():
        event = events[event_id]
        for destination in event.destinations or []:
            site = sites.get(destination["destination"])
            shipments.append(
                Shipment(
                    event_id=event.event_id,
                    time=as_utc(event.event_time).isoformat(),
                    batch_id=batch_id,
                    lot=lots[batch_id],
                    destination_type=destination["type"],
                    destination=destination["destination"],
                    site=site.name if site else None,
                    country=site.country if site else None,
                    quantity=quantity,
                    uom=uom,
                )
            )
    return sorted(shipments, key=lambda s: (s.time, s.lot, s.destination))


#: Containers inside containers followed at most (pallet, case, inner pack).
MAX_NESTING = 4


def _containers(
    session: Session, brand_id: int, batch_ids: list[int]
) -> dict[str, dict[int, set[str]]]:
    """Every container the batches' units were packed into (an aggregation ``ADD``),
    directly or inside other containers up to :data:`MAX_NESTING` deep: container →
    batch → the units of the batch it holds. A cycle of containers stops where it
    closes."""
    direct: dict[str, dict[int, set[str]]] = {}
    for chunk in chunked(batch_ids):
        children = TraceEventObject.batch_id.in_(chunk)
        for unit, parent, batch_id in _packed(session, children):
            direct.setdefault(parent, {}).setdefault(batch_id, set()).add(unit)
    inside: dict[str, set[str]] = {}  # container -> the containers packed into it
    frontier, seen = set(direct), set(direct)
    for _ in range(MAX_NESTING - 1):
        found = set()
        for chunk in chunked(sorted(frontier)):
            children = (TraceEventObject.brand_id == brand_id) & TraceEventObject.epc.in_(chunk)
            for inner, parent, _batch in _packed(session, children):
                inside.setdefault(parent, set()).add(inner)
                found.add(parent)
        frontier = found - seen
        seen |= found
        if not frontier:
            break
    holdings: dict[str, dict[int, set[str]]] = {}
    for container in seen:
        # what the container holds: the units packed into it or into any container
        # within it (each visited once, so a cycle ends)
        held: dict[int, set[str]] = {}
        reached, stack = {container}, [container]
        while stack:
            current = stack.pop()
            for batch_id, units in direct.get(current, {}).items():
                held.setdefault(batch_id, set()).update(units)
            for inner in inside.get(current, ()):
                if inner not in reached:
                    reached.add(inner)
                    stack.append(inner)
        holdings[container] = held
    return holdings


def _packed(session: Session, children) -> list[tuple[str, str, int | None]]:
    """(child, parent container, child's batch) of the packing events (aggregation
    ``ADD``) that name children matching ``children`` (a condition on object rows).

    The object rows are read first, by their own index, and their events by primary key
    after: joined in one statement, the planner may start from every packing event of
    every brand instead."""
    rows = session.execute(
        select(TraceEventObject.event_id, TraceEventObject.epc, TraceEventObject.batch_id).where(
            children, TraceEventObject.role == "child"
        )
    ).all()
    parents: dict[int, str] = {}
    for chunk in chunked(sorted({event_id for event_id, _, _ in rows})):
        parents.update(
            session.execute(
                select(TraceEvent.id, TraceEvent.parent_id).where(
                    TraceEvent.id.in_(chunk),
                    TraceEvent.event_type == "AggregationEvent",
                    TraceEvent.action == "ADD",
                    TraceEvent.parent_id.is_not(None),
                    TraceEvent.error_declared_at.is_(None),
                )
            ).all()
        )
    return [
        (epc, parents[event_id], batch_id)
        for event_id, epc, batch_id in rows
        if event_id in parents
    ]


CSV_HEADER = (
    "section",
    "batch_lot",
    "gtin",
    "product",
    "batch_status",
    "units",
    "scanned_units",
    "time",
    "destination_type",
    "destination",
    "site",
    "country",
    "quantity",
    "uom",
)


def impact_csv(impact: RecallImpact) -> str:
    """The report as CSV: one ``batch`` row per affected batch, one ``shipment`` row per
    destination, one ``scans`` row per country. Cells that a spreadsheet would run as a
    formula are made inert (``tracemark.csv_export``)."""
    out = io.StringIO()
    writer = csv_export.SafeWriter(out)
    writer.writerow(CSV_HEADER)
    blank = [""] * len(CSV_HEADER)

    def row(**values) -> None:
        line = list(blank)
        for key, value in values.items():
            line[CSV_HEADER.index(key)] = "" if value is None else str(value)
        writer.writerow(line)

    for item in impact.batches:
        row(section="batch", **_batch_cells(item))
    for s in impact.shipments:
        row(
            section="shipment",
            batch_lot=s.lot,
            time=s.time,
            destination_type=s.destination_type,
            destination=s.destination,
            site=s.site,
            country=s.country,
            quantity=f"{s.quantity:g}",
            uom=s.uom,
        )
    for country, count in impact.scanned_by_country.items():
        row(section="scans", country=country or "unknown", scanned_units=count)
    return out.getvalue()


def _batch_cells(item: AffectedBatch) -> dict[str, object]:
    """An affected batch's cells, in column order: a CSV ``batch`` row and a line of the
    PDF's batch list."""
    b = item.batch
    return {
        "batch_lot": b.lot,
        "gtin": b.gtin,
        "product": b.product,
        "batch_status": b.status,
        "units": item.units,
        "scanned_units": item.scanned_units,
    }


#: The report's margins and text size, in points (on A4).
_MARGIN, _SIZE, _LEADING = 40.0, 9.0, 12.0


def impact_pdf(impact: RecallImpact, out: BinaryIO) -> int:
    """Write the report as a plain-text A4 PDF to ``out`` (the same sections as the CSV,
    Helvetica, one line per row, cut to the page width). Returns the page count."""
    lines = [f"Recall impact of {impact.trace.start}", ""]
    lot = impact.trace.lot
    if lot is not None:
        country = f", {lot.supplier_country}" if lot.supplier_country else ""
        lines.append(f"Lot {lot.lot_number} ({lot.material}) from {lot.supplier}{country}")
    scanned = sum(item.scanned_units for item in impact.batches)
    lines += [
        f"{len(impact.batches)} batches, {impact.total_units} units, {scanned} scanned",
        "",
        "Batches: lot, GTIN, product, status, units, scanned units",
    ]
    lines += ["  " + "  ".join(map(str, _batch_cells(b).values())) for b in impact.batches]
    lines += ["", "Shipments: time, batch, destination, site, country, quantity"]
    lines += [
        f"  {s.time}  {s.lot}  {s.destination}  {s.site or '-'}  {s.country or '-'}"
        f"  {s.quantity:g} {s.uom or ''}"
        for s in impact.shipments
    ]
    lines += ["", "Scanned units by country"]
    lines += [f"  {c or 'unknown'}  {n}" for c, n in impact.scanned_by_country.items()]
    return write_text_pdf(lines, out, size=_SIZE, leading=_LEADING, margin=_MARGIN)
