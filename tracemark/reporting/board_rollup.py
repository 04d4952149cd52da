"""Keeping the quality and supply-chain board tables (:mod:`tracemark.models.boards`) from
new trace events.

The same watermark scheme as the scan rollups (:mod:`tracemark.reporting.watermark`): a
run reads the events after the stored watermark in batches, each batch one transaction
that updates the tables and moves the watermark, so no event is counted twice or lost.
Events are read once they are ``SETTLE`` old (a capture commits its whole document at
once, events and child rows together).

Events arrive in any order, and every table is kept by *event time*: a first inspection
is replaced by an earlier one that arrives later, and an object's place only by a later
event. Defect counts are added per day, so they do not depend on order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session, sessionmaker

from tracemark.db import chunked, dialect_name, insert_for
from tracemark.models import (
    Batch,
    DefectDay,
    InspectionFirst,
    MaterialLot,
    ObjectPlace,
    RollupWatermark,
    SensorExcursion,
    SensorReading,
    TraceEvent,
    TraceEventObject,
)
from tracemark.models.base import as_utc, utcnow
from tracemark.reporting import quality
from tracemark.reporting.watermark import Rollup, RollupRun, RunOptions, lock_watermark

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: The watermark row of the board tables.
NAME = "trace_boards"
#: Events per transaction.
BATCH_SIZE = 20_000
#: Roles whose object the event consumes (a transformation's inputs).
INPUT_ROLES = ("input", "input_quantity")
#: Business steps after which an object is on its way (until a later event places it).
TRANSIT_STEPS = ("shipping", "departing")
#: Business steps after which an object is no longer anyone's stock.
GONE_STEPS = (
    "decommissioning",
    "destroying",
    "retail_selling",
    "dispensing",
    "consuming",
    "disposing",
)

__all__ = ["GONE_STEPS", "NAME", "TRANSIT_STEPS", "retract", "roll_up"]


def roll_up(sessions: sessionmaker[Session], **options: Unpack[RunOptions]) -> RollupRun:
    """Bring the board tables up to the events recorded until ``now - settle``
    (:meth:`Rollup.run`). Safe to run from several processes at once."""
    return _BOARDS.run(sessions, **options)


def _apply_batch(session: Session, low: int, high: int) -> None:
    """Update the board tables from the events ``low < id <= high``."""
    _inspections(session, low, high)
    _places(session, TraceEvent.id > low, TraceEvent.id <= high)
    session.execute(_excursions_statement(dialect_name(session)), {"low": low, "high": high})


_BOARDS = Rollup(NAME, TraceEvent, TraceEvent.recorded_at, _apply_batch, BATCH_SIZE)


# -- inspections ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Subject:
    kind: str
    id: int
    batch_id: int | None = None
    lot_id: int | None = None


def _inspections(session: Session, low: int, high: int) -> None:
    """First inspections and defect counts of the inspection events ``low < id <= high``."""
    firsts, defects = _counted(session, TraceEvent.id > low, TraceEvent.id <= high)
    _save_firsts(session, list(firsts.values()))
    _add_defects(session, defects)


_FirstKey = tuple[int, str, int]


def _counted(
    session: Session, *where: Any, declared: bool = False
) -> tuple[dict[_FirstKey, dict[str, Any]], dict[tuple, int]]:
    """The first inspection of each subject among the inspection events ``where``
    selects (not declared in error, unless ``declared``), and their defects per day."""
    event = TraceEvent
    # the text test only narrows the rows read; quality.is_inspection decides
    rows = session.execute(
        select(
            event.id, event.brand_id, event.batch_id, event.event_time, event.biz_step,
            event.disposition, event.data,
        ).where(
            *where,
            true() if declared else event.error_declared_at.is_(None),
            or_(event.biz_step == "inspecting", cast(event.data, Text).like('%"tm:qc"%')),
        )
    ).all()  # fmt: skip
    found = [row for row in rows if quality.is_inspection(row.biz_step, row.data)]
    firsts: dict[_FirstKey, dict[str, Any]] = {}
    defects: dict[tuple, int] = defaultdict(int)
    if not found:
        return firsts, defects
    subjects = _subjects(session, [row.id for row in found])
    batch_ids = {s.batch_id for ss in subjects.values() for s in ss if s.batch_id}
    batch_ids |= {row.batch_id for row in found if row.batch_id}
    batches = _batches(session, batch_ids)
    lot_ids = {s.lot_id for ss in subjects.values() for s in ss if s.lot_id}
    suppliers = _suppliers(session, lot_ids)
    for row in found:
        outcome = quality.inspection_outcome(row.data, row.disposition)
        when = as_utc(row.event_time)
        about = subjects.get(row.id) or (
            [_Subject("batch", row.batch_id, batch_id=row.batch_id)] if row.batch_id else []
        )
        batch_id = row.batch_id or next((s.batch_id for s in about if s.batch_id), None)
        product_id, batch_line = batches.get(batch_id, (0, ""))
        line = quality.line_of(row.data) or batch_line
        for subject in about:
            key = (row.brand_id, subject.kind, subject.id)
            s_product, s_line = batches.get(subject.batch_id, (product_id, batch_line))
            candidate = {
                "brand_id": row.brand_id,
                "kind": subject.kind,
                "subject_id": subject.id,
                "event_id": row.id,
                "first_at": when,
                "passed": outcome.passed,
                "product_id": s_product if subject.batch_id else product_id,
                "line": quality.line_of(row.data) or (s_line if subject.batch_id else ""),
                "supplier_id": suppliers.get(subject.lot_id),
            }
            held = firsts.get(key)
            if held is None or (when, row.id) < (held["first_at"], held["event_id"]):
                firsts[key] = candidate
        for defect in outcome.defects:
            defects[(row.brand_id, when.date(), product_id, line, defect)] += 1
    return firsts, defects


def _save_firsts(session: Session, firsts: list[dict[str, Any]]) -> None:
    """Upsert first inspections: a held one is replaced only by an earlier one."""
    if not firsts:
        return
    insert_ = insert_for(session)
    table = InspectionFirst.__table__
    statement = insert_(table)
    excluded = statement.excluded
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["brand_id", "kind", "subject_id"],
            set_={
                name: excluded[name]
                for name in (
                    "event_id",
                    "first_at",
                    "passed",
                    "product_id",
                    "line",
                    "supplier_id",
                )
            },
            where=or_(
                excluded.first_at < table.c.first_at,
                and_(
                    excluded.first_at == table.c.first_at,
                    excluded.event_id < table.c.event_id,
                ),
            ),
        ),
        firsts,
    )


def _add_defects(session: Session, defects: dict[tuple, int], sign: int = 1) -> None:
    """Add (``sign`` -1: take away) failures to the days' defect counts."""
    if not defects:
        return
    insert_ = insert_for(session)
    table = DefectDay.__table__
    statement = insert_(table)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["brand_id", "day", "product_id", "line", "defect"],
            set_={"failures": table.c.failures + statement.excluded.failures},
        ),
        [
            {
                "brand_id": b,
                "day": d,
                "product_id": p,
                "line": li,
                "defect": x,
                "failures": sign * n,
            }
            for (b, d, p, li, x), n in defects.items()
        ],
    )


def retract(session: Session, event_ids: list[int]) -> None:
    """Take events just declared in error out of the board rows already rolled up from
    them (those after the watermark are left out when they are read): the objects they
    placed are placed again from their other events, their defects are subtracted, and
    a first inspection that was theirs goes to the subject's
    first inspection among the counted events left, if it has one. The watermark row is
    locked, so a concurrent roll-up neither counts them nor races this."""
    if session.scalar(select(RollupWatermark.name).where(RollupWatermark.name == NAME)) is None:
        return  # nothing rolled up yet
    watermark = lock_watermark(session, utcnow(), NAME).last_event_id
    counted = [event_id for event_id in event_ids if event_id <= watermark]
    if not counted:
        return
    _replace_places(session, counted, watermark)
    firsts, defects = _counted(session, TraceEvent.id.in_(counted), declared=True)
    _add_defects(session, defects, -1)
    held = InspectionFirst
    theirs = set()
    for brand_id, kind, subject_id in firsts:
        gone = session.execute(
            delete(held).where(
                held.brand_id == brand_id, held.kind == kind, held.subject_id == subject_id,
                held.event_id.in_(counted),
            )
        )  # fmt: skip
        if gone.rowcount:
            theirs.add((brand_id, kind, subject_id))
    if not theirs:
        return
    obj = TraceEventObject
    ids = {kind: [s for _b, k, s in theirs if k == kind] for kind in ("unit", "batch", "lot")}
    about = select(obj.event_id).where(
        or_(obj.unit_id.in_(ids["unit"]), obj.batch_id.in_(ids["batch"]),
            obj.lot_id.in_(ids["lot"]))
    )  # fmt: skip
    others = select(TraceEvent.id).where(
        or_(TraceEvent.id.in_(about), TraceEvent.batch_id.in_(ids["batch"])),
        TraceEvent.id <= watermark,
    )
    refirsts, _defects = _counted(session, TraceEvent.id.in_(others))
    _save_firsts(session, [row for key, row in refirsts.items() if key in theirs])


def _replace_places(session: Session, declared: list[int], watermark: int) -> None:
    """Objects whose stored place came from an event now declared in error (their own
    event, or their container's they followed) go back to where their counted events up
    to the watermark leave them, or off the board where none places them.

    Found through the objects the events name and, :data:`MAX_NESTING` deep, what was
    packed in those: both are index lookups, where the event id of the stored places has
    no index (no other reader asks for it)."""
    obj = TraceEventObject
    named: set[tuple[int, str]] = set()
    for chunk in chunked(declared):
        named.update(session.execute(select(obj.brand_id, obj.epc).where(obj.event_id.in_(chunk))))
    reached = _held_places(session, list(named))
    outer = list(reached)
    for _ in range(MAX_NESTING):
        packed = _held_places(session, outer, by_container=True)
        packed = {key: row for key, row in packed.items() if key not in reached}
        if not packed:
            break
        reached.update(packed)
        outer = list(packed)
    gone = set(declared)
    stale = {key for key, row in reached.items() if row["event_id"] in gone}
    place = ObjectPlace
    for brand_id in {brand for brand, _epc in stale}:
        epcs = sorted(epc for brand, epc in stale if brand == brand_id)
        for chunk in chunked(epcs):
            session.execute(delete(place).where(place.brand_id == brand_id, place.epc.in_(chunk)))
            _places(
                session, TraceEvent.id <= watermark, obj.brand_id == brand_id, obj.epc.in_(chunk)
            )


def _subjects(session: Session, event_ids: list[int]) -> dict[int, list[_Subject]]:
    """Per event, the brand's units, batches and material lots it inspected."""
    found: dict[int, list[_Subject]] = defaultdict(list)
    obj = TraceEventObject
    for chunk in chunked(event_ids):
        rows = session.execute(
            select(obj.event_id, obj.unit_id, obj.batch_id, obj.lot_id).where(
                obj.event_id.in_(chunk), obj.role.not_in(INPUT_ROLES)
            )
        )
        for event_id, unit_id, batch_id, lot_id in rows:
            if unit_id is not None:
                subject = _Subject("unit", unit_id, batch_id=batch_id)
            elif batch_id is not None:
                subject = _Subject("batch", batch_id, batch_id=batch_id)
            elif lot_id is not None:
                subject = _Subject("lot", lot_id, lot_id=lot_id)
            else:
                continue  # an identifier the brand does not know
            if subject not in found[event_id]:
                found[event_id].append(subject)
    return found


def _batches(session: Session, ids: set[int]) -> dict[int | None, tuple[int, str]]:
    """batch id → (product id, line)."""
    found: dict[int | None, tuple[int, str]] = {}
    for chunk in chunked(ids):
        rows = session.execute(
            select(Batch.id, Batch.product_id, Batch.line).where(Batch.id.in_(chunk))
        )
        found.update({batch_id: (product, line or "") for batch_id, product, line in rows})
    return found


def _suppliers(session: Session, ids: set[int]) -> dict[int | None, int]:
    found: dict[int | None, int] = {}
    for chunk in chunked(ids):
        rows = session.execute(
            select(MaterialLot.id, MaterialLot.supplier_id).where(MaterialLot.id.in_(chunk))
        )
        found.update({lot: supplier for lot, supplier in rows})
    return found


# -- places and excursions (one statement each) ----------------------------------------------


def _between(column):
    return and_(
        column > bindparam("low", type_=column.type), column <= bindparam("high", type_=column.type)
    )


def _state(role: str, event_type: str, action: str | None, biz_step: str) -> str:
    if role in INPUT_ROLES or biz_step in GONE_STEPS:
        return "gone"
    if event_type == "ObjectEvent" and action == "DELETE":
        return "gone"
    return "transit" if biz_step in TRANSIT_STEPS else "site"


def _places(session: Session, *where: Any) -> None:
    """Move every object the events ``where`` selects name to where its latest event
    (by event time) leaves it. An event that names no place and neither ships nor
    consumes the object (an inspection, say) does not move it. An object stays
    ``since`` the first of its events in a row at the same place; an event older than
    the object's latest, arriving late, changes nothing.

    Packing (an aggregation's ``ADD`` or ``OBSERVE``) puts the children in the parent
    container until a ``DELETE`` takes them out; meanwhile they go where the container
    goes (see :func:`_follow_containers`)."""
    obj, event = TraceEventObject, TraceEvent
    rows = session.execute(
        select(
            obj.brand_id, obj.epc, obj.role, obj.batch_id, obj.lot_id, event.id,
            event.event_time, event.event_type, event.action, event.biz_step, event.site_id,
            func.coalesce(event.biz_location, event.read_point, ""), event.parent_id,
        )
        .join(event, event.id == obj.event_id)
        .where(*where, event.error_declared_at.is_(None))
    ).all()  # fmt: skip
    moves: dict[tuple[int, str], list[_Move]] = defaultdict(list)
    for (
        brand_id,
        epc,
        role,
        batch_id,
        lot_id,
        event_id,
        when,
        kind,
        action,
        step,
        site,
        where,
        parent,
    ) in rows:
        state: str | None = _state(role, kind, action, step)
        container: Any = _KEEP
        if role == "child" and kind == "AggregationEvent":
            container = None if action == "DELETE" else parent
        if state == "site" and site is None and not where:
            if container is _KEEP:
                continue
            state = None  # packed (or unpacked) where it is
        moves[(brand_id, epc)].append(
            _Move(as_utc(when), event_id, state, site, where, batch_id, lot_id, container)
        )
    if not moves:
        return
    held = _held_places(session, list(moves))
    products = {
        batch_id: product
        for batch_id, (product, _) in _batches(
            session, {m.batch_id for ms in moves.values() for m in ms if m.batch_id}
        ).items()
    }
    changed = []
    for (brand_id, epc), found in moves.items():
        current = held.get((brand_id, epc))
        latest = (as_utc(current["event_time"]), current["event_id"]) if current else None
        before = current
        for move in sorted(found, key=lambda m: (m.when, m.event_id)):
            if latest is not None and (move.when, move.event_id) <= latest:
                continue
            if move.state is None and current is None:
                continue  # packed somewhere unknown, never placed: nothing to show
            if move.state is None:
                state, site, where = current["state"], current["site_id"], current["location"]
            else:
                state, site, where = move.state, move.site, move.where
            same = current is not None and (
                current["state"],
                current["site_id"],
                current["location"],
            ) == (state, site, where)
            container = current["container"] if current else None
            current = {
                "brand_id": brand_id,
                "epc": epc,
                "state": state,
                "site_id": site,
                "location": where,
                "since": as_utc(current["since"]) if same else move.when,
                "event_id": move.event_id,
                "event_time": move.when,
                "product_id": products.get(move.batch_id, 0),
                "batch_id": move.batch_id,
                "lot_id": move.lot_id,
                "container": container if move.container is _KEEP else move.container,
            }
            latest = (move.when, move.event_id)
        if current is not before:
            changed.append(current)
    _follow_containers(session, changed)
    _save_places(session, changed)


#: A move that leaves the object's container as it was.
_KEEP = object()
#: Containers inside containers followed at most (pallet, case, inner pack, unit).
MAX_NESTING = 4


@dataclass(frozen=True, slots=True)
class _Move:
    when: dt.datetime
    event_id: int
    #: None: the object stays where it is (packed or unpacked at no named place).
    state: str | None
    site: int | None
    where: str
    batch_id: int | None
    lot_id: int | None
    container: Any


def _held_places(
    session: Session, keys: list[tuple[int, str]], *, by_container: bool = False
) -> dict[tuple[int, str], dict[str, Any]]:
    """The stored places of ``keys`` (brand, object), or with ``by_container`` of the
    objects packed in them; (brand, object) → row as a dict."""
    place = ObjectPlace
    column = place.container if by_container else place.epc
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for brand_id in {brand for brand, _ in keys}:
        epcs = [epc for brand, epc in keys if brand == brand_id]
        for chunk in chunked(epcs):
            for row in session.scalars(
                select(place).where(place.brand_id == brand_id, column.in_(chunk))
            ):
                found[(brand_id, row.epc)] = {c: getattr(row, c) for c in _PLACE_COLUMNS}
    return found


def _follow_containers(session: Session, changed: list[dict[str, Any]]) -> None:
    """Objects packed in a container go where the container went after they were
    packed: the objects of ``changed`` in a container that has moved since (a packing
    event arriving after the shipment), and the stored contents of the containers in
    ``changed`` that just moved; nesting is followed :data:`MAX_NESTING` deep (a cycle
    of containers stops there). Only to a site or in transit: a container consumed or
    destroyed is taken to have been emptied first. Rows taken along join ``changed``."""
    by_key = {(row["brand_id"], row["epc"]): row for row in changed}

    def later(container: dict[str, Any], row: dict[str, Any]) -> bool:
        return container["state"] != "gone" and (
            as_utc(container["event_time"]),
            container["event_id"],
        ) > (as_utc(row["event_time"]), row["event_id"])

    def follow(row: dict[str, Any], container: dict[str, Any]) -> None:
        for name in ("state", "site_id", "location", "since", "event_id", "event_time"):
            row[name] = container[name]
        key = (row["brand_id"], row["epc"])
        if key not in by_key:
            by_key[key] = row
            changed.append(row)

    # objects of this batch in a container: after the container's own latest place,
    # itself resolved first (a case on a pallet)
    containers = dict(by_key)
    wanted = {(row["brand_id"], row["container"]) for row in changed if row["container"]}
    for _ in range(MAX_NESTING):
        fetched = _held_places(session, list(wanted - set(containers)))
        containers.update(fetched)
        wanted = {(row["brand_id"], row["container"]) for row in fetched.values()}
        wanted = {key for key in wanted if key[1] is not None}
        if not wanted:
            break

    def resolve(row: dict[str, Any], depth: int) -> None:
        container = containers.get((row["brand_id"], row["container"]))
        if container is None or container is row or depth >= MAX_NESTING:
            return
        resolve(container, depth + 1)
        if later(container, row):
            follow(row, container)

    for row in [row for row in changed if row["container"] is not None]:
        resolve(row, 0)
    moved = list(changed)
    for _ in range(MAX_NESTING):
        contents = _held_places(
            session, [(row["brand_id"], row["epc"]) for row in moved], by_container=True
        )
        moved = []
        for key, stored in contents.items():
            row = by_key.get(key, stored)
            container = by_key.get((row["brand_id"], row["container"]))
            if container is not None and container is not row and later(container, row):
                follow(row, container)
                moved.append(row)
        if not moved:
            break


def _save_places(session: Session, changed: list[dict[str, Any]]) -> None:
    if changed:
        place = ObjectPlace
        statement = insert_for(session)(place.__table__)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["brand_id", "epc"],
                set_={name: statement.excluded[name] for name in _PLACE_COLUMNS[2:]},
            ),
            changed,
        )


_PLACE_COLUMNS = ("brand_id", "epc", "state", "site_id", "location", "since", "event_id",
                  "event_time", "product_id", "batch_id", "lot_id", "container")  # fmt: skip


@cache
def _excursions_statement(dialect: str):
    """Copy the excursions among the readings of the events ``low < id <= high``."""
    insert_ = insert_for(dialect)
    reading, event = SensorReading.__table__.c, TraceEvent.__table__.c
    obj = TraceEventObject.__table__.c
    some_batch = select(func.min(obj.batch_id)).where(obj.event_id == event.id).scalar_subquery()
    readings = (
        select(
            reading.id,
            reading.brand_id,
            reading.event_id,
            func.coalesce(reading.time, event.event_time).label("at"),
            event.site_id,
            func.coalesce(event.biz_location, event.read_point, "").label("location"),
            func.coalesce(event.batch_id, some_batch).label("batch_id"),
            reading.type,
            reading.value,
            reading.min_value,
            reading.max_value,
            reading.uom,
            reading.exception,
        )
        .select_from(SensorReading.__table__)
        .join(TraceEvent.__table__, event.id == reading.event_id)
        .where(
            _between(event.id),
            or_(
                reading.exception.is_not(None),
                reading.value < reading.min_value,
                reading.value > reading.max_value,
            ),
        )
        .subquery("readings")
    )
    names = ["id", "brand_id", "event_id", "at", "site_id", "location", "batch_id",
             "type", "value", "min_value", "max_value", "uom", "exception"]  # fmt: skip
    source = (
        select(
            *(readings.c[name] for name in names),
            func.coalesce(Batch.product_id, 0).label("product_id"),
        )
        .select_from(readings)
        .outerjoin(Batch, Batch.id == readings.c.batch_id)
        .where(true())
    )
    statement = insert_(SensorExcursion.__table__).from_select([*names, "product_id"], source)
    return statement.on_conflict_do_nothing(index_elements=["id"])
