"""Supply-chain events: recording one for a batch, and reading or exporting a batch's
events as EPCIS 2.0. Events from outside arrive through :mod:`tracemark.trace.capture`; every
reader here orders them by ``event_time``, never by arrival.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from tracemark.db import chunked
from tracemark.epcis import documents as epcis
from tracemark.epcis import identifiers as epcs
from tracemark.models import Batch, BrandPrefix, Site, TraceEvent, TraceEventObject
from tracemark.models.base import as_utc, utcnow

__all__ = ["events_of_batch", "export_batch", "record_event", "serialize"]


def record_event(
    session: Session,
    batch: Batch,
    biz_step: str,
    event_time: dt.datetime,
    *,
    site: Site | None = None,
    place: str | None = None,
    country: str | None = None,
    event_type: str = "ObjectEvent",
    disposition: str | None = None,
    data: dict[str, Any] | None = None,
) -> TraceEvent:
    """Record an event about ``batch`` as a whole (the batch pages' journey).

    :raises ValueError: for a naive ``event_time`` (EPCIS times carry their offset).
    """
    offset = event_time.utcoffset()
    if offset is None:
        raise ValueError("event_time must carry its time zone")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    event = TraceEvent(
        brand_id=batch.brand_id,
        batch_id=batch.id,
        event_type=event_type,
        event_time=event_time.astimezone(dt.UTC),
        event_timezone=f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        biz_step=biz_step,
        disposition=disposition,
        site_id=site.id if site else None,
        place=place,
        country=country,
        data=data or {},
    )
    session.add(event)
    session.flush()
    return event


#: With a ``limit``, the most unit-level object rows (units named one by one, units
#: packed into cases) :func:`events_of_batch` reads: a batch of a million units named
#: one by one must not make a journey read a million rows.
MAX_UNIT_ROWS = 2_000


def events_of_batch(
    session: Session, batch: Batch, *, limit: int | None = None
) -> list[TraceEvent]:
    """Every event about ``batch`` (as a whole, by its class, by its units, by a
    container its units were packed into, or by a pallet such a container was packed
    onto), each once, ordered by event time.

    With ``limit``, the first ``limit`` events, reading at most :data:`MAX_UNIT_ROWS`
    object rows that name single units (a sample: events naming units are usually the
    same steps for every unit), so the cost stays bounded however large the batch.

    The events are found by id through indexed lookups (the batch's own events, object
    rows resolved to the batch, the containers' object rows) rather than by one
    condition over the brand's whole event table."""
    by_batch = select(TraceEvent.id).where(TraceEvent.batch_id == batch.id)
    objects = TraceEventObject.batch_id == batch.id
    children = select(TraceEventObject.event_id).where(objects, TraceEventObject.role == "child")
    if limit is None:
        by_object = [select(TraceEventObject.event_id).where(objects)]
        packings = children
    else:
        by_class = select(TraceEventObject.event_id).where(
            objects, TraceEventObject.unit_id.is_(None)
        )
        by_unit = select(TraceEventObject.event_id).where(
            objects, TraceEventObject.unit_id.is_not(None)
        )
        sample = by_unit.limit(MAX_UNIT_ROWS).subquery()
        by_object = [by_class, select(sample.c.event_id)]
        packed = children.limit(MAX_UNIT_ROWS).subquery()
        packings = select(packed.c.event_id)
    containers = select(TraceEvent.parent_id).where(
        TraceEvent.id.in_(packings), TraceEvent.parent_id.is_not(None)
    )
    of_brand = TraceEventObject.brand_id == batch.brand_id
    by_container = select(TraceEventObject.event_id).where(
        of_brand, TraceEventObject.role == "epc", TraceEventObject.epc.in_(containers)
    )
    # the cases packed in turn onto pallets: that packing, and the pallets' own events
    palletising = select(TraceEventObject.event_id).where(
        of_brand, TraceEventObject.role == "child", TraceEventObject.epc.in_(containers)
    )
    pallets = select(TraceEvent.parent_id).where(
        TraceEvent.id.in_(palletising),
        TraceEvent.event_type == "AggregationEvent",
        TraceEvent.parent_id.is_not(None),
    )
    by_pallet = select(TraceEventObject.event_id).where(
        of_brand, TraceEventObject.role == "epc", TraceEventObject.epc.in_(pallets)
    )
    query = (
        select(TraceEvent)
        .where(
            TraceEvent.brand_id == batch.brand_id,
            TraceEvent.error_declared_at.is_(None),
            TraceEvent.id.in_(union(by_batch, *by_object, by_container, palletising, by_pallet)),
        )
        .order_by(TraceEvent.event_time, TraceEvent.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def sites_of(session: Session, events: list[TraceEvent]) -> dict[int, Site]:
    """The brand sites the events happened at, by id (one query, none when no event
    names a site)."""
    ids = {event.site_id for event in events if event.site_id is not None}
    if not ids:
        return {}
    return {site.id: site for site in session.scalars(select(Site).where(Site.id.in_(ids)))}


def sites_by_location(session: Session, brand_id: int) -> dict[str, Site]:
    """The brand's sites that have a location identifier, by its canonical form (events
    store locations canonical; a site may have been entered as an SGLN URN)."""
    query = select(Site).where(Site.brand_id == brand_id, Site.location_id.is_not(None))
    return {epcs.canonical(site.location_id).uri: site for site in session.scalars(query)}


def serialize(
    session: Session, events: list[TraceEvent], epc_format: str = "No_Preference"
) -> list[dict[str, Any]]:
    """``events`` as EPCIS 2.0 JSON, in the given order, their identifiers spelt as
    ``epc_format`` asks (a ``GS1-EPC-Format`` value; see
    :func:`tracemark.epcis.identifiers.spell`)."""
    translates = epc_format in ("Always_EPC_URN", "Never_Translates")
    prefixes: list[str] = []
    if epc_format == "Always_EPC_URN" and events:
        brands = {event.brand_id for event in events}
        prefixes = list(
            session.scalars(select(BrandPrefix.prefix).where(BrandPrefix.brand_id.in_(brands)))
        )
    objects: dict[int, list[tuple[str, str, float | None, str | None]]] = {}
    for chunk in chunked([event.id for event in events]):
        rows = session.execute(
            select(
                TraceEventObject.event_id,
                TraceEventObject.role,
                TraceEventObject.epc,
                TraceEventObject.quantity,
                TraceEventObject.uom,
            )
            .where(TraceEventObject.event_id.in_(chunk))
            .order_by(TraceEventObject.id)
        )
        for event_id, *row in rows:
            objects.setdefault(event_id, []).append(tuple(row))
    out = []
    for event in events:
        data = dict(event.data or {})
        if event.event_id is None:  # recorded, not captured: its fields are ours
            data = {"tm:data": data} if data else {}
            if event.place:
                data["tm:place"] = event.place
            if event.country:
                data["tm:country"] = event.country
        read_point = event.read_point
        if read_point is None and event.site is not None:
            read_point = epcs.canonical(event.site.location_id).uri
        rows = objects.get(event.id, [])
        sources, destinations = event.sources, event.destinations
        parent_id, biz_location = event.parent_id, event.biz_location
        if translates:
            spellings = event.spellings or {}

            def name(uri: str | None, spellings: dict[str, str] = spellings) -> Any:
                if uri is None:
                    return None
                return epcs.spell(uri, epc_format, original=spellings.get(uri), prefixes=prefixes)

            rows = [(role, name(epc), quantity, uom) for role, epc, quantity, uom in rows]
            read_point, parent_id, biz_location = (
                name(read_point),
                name(parent_id),
                name(biz_location),
            )
            sources = [s | {"source": name(s["source"])} for s in sources or []] or None
            destinations = [
                d | {"destination": name(d["destination"])} for d in destinations or []
            ] or None
        out.append(
            epcis.event_json(
                event_type=event.event_type,
                event_id=event.event_id,
                event_time=as_utc(event.event_time),
                offset=event.event_timezone,
                action=event.action
                or ("OBSERVE" if event.event_type != "TransformationEvent" else None),
                biz_step=event.biz_step,
                disposition=event.disposition,
                read_point=read_point,
                biz_location=biz_location,
                parent_id=parent_id,
                transformation_id=event.transformation_id,
                sources=sources,
                destinations=destinations,
                objects=rows,
                data=data,
                recorded_at=as_utc(event.recorded_at),
                error_declaration=event.error_declaration,
            )
        )
    return out


def export_batch(
    session: Session, batch: Batch, epc_format: str = "No_Preference"
) -> dict[str, Any]:
    """An EPCIS 2.0 document of every event about ``batch``, ordered by event time.

    Recorded events (not captured from EPCIS) have no object list: the batch's class is
    given as their quantity list, so the document stays valid and self-describing.
    """
    events = events_of_batch(session, batch)
    serialized = serialize(session, events, epc_format)
    own_class = epcs.lot_class(batch.product.gtin, batch.lot)
    for event, item in zip(events, serialized, strict=True):
        if event.event_id is None and event.event_type == "ObjectEvent":
            item.setdefault("quantityList", [{"epcClass": own_class}])
    return epcis.document(serialized, utcnow())
