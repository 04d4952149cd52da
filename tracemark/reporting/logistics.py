"""What the supply-chain board shows: shipments in transit, stock at each site by age,
and sensor excursions.

An object's place is the one its latest event by event time left it in (kept in
``object_place`` by :mod:`tracemark.reporting.board_rollup`): a shipping event puts it in transit
until a later event (a receipt, say) places it again; consuming it in a transformation,
selling or destroying it takes it out of stock. Objects packed into a container (an
aggregation event) go where it goes until they are unpacked: a case shipped by its SSCC
moves the case and the units in it. Each object counts for itself, so a shipped case of
ten units is eleven objects.

In transit and stock are as of ``now`` (the date range does not apply to them);
excursions are those in the range. Every function takes the brand and returns plain data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from tracemark.db import chunked, dialect_name, utc_day
from tracemark.epcis import identifiers as epcs
from tracemark.models import Batch, ObjectPlace, Product, SensorExcursion, Site, TraceEvent
from tracemark.models.base import as_utc
from tracemark.reporting.analytics import Filters, period_start, periods

#: Age buckets: name → (at least, less than) days old.
AGES: dict[str, tuple[int, int | None]] = {
    "week": (0, 7),
    "month": (7, 30),
    "quarter": (30, 90),
    "older": (90, None),
}
#: Shipments and excursions listed one by one (the CSV holds up to :data:`MAX_ROWS`).
LISTED = 100
MAX_ROWS = 10_000


@dataclass(frozen=True)
class SupplyFilters(Filters):
    """The board's filters: a range of UTC days, product, period length, and a site."""

    site_id: int | None = None


@dataclass(frozen=True)
class Place:
    """A site of the brand, or a place events name that is none of its sites."""

    site_id: int | None
    location: str


@dataclass(frozen=True)
class Shipment:
    event_id: int
    shipped_at: dt.datetime
    objects: int
    origin: Place
    #: Where the shipping event says it goes (site locations or other identifiers).
    destinations: tuple[Place, ...] = ()
    sources: tuple[str, ...] = ()

    def age_days(self, now: dt.datetime) -> int:
        return max(0, (now - self.shipped_at).days)


@dataclass(frozen=True)
class Transit:
    shipments: int
    objects: int
    #: Shipments per age bucket (see :data:`AGES`).
    by_age: dict[str, int]
    #: The oldest shipments, oldest first.
    oldest: list[Shipment] = field(default_factory=list)


@dataclass(frozen=True)
class Stock:
    place: Place
    #: Objects per age bucket (see :data:`AGES`), by how long they have been there.
    by_age: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_age.values())


@dataclass(frozen=True)
class Excursion:
    at: dt.datetime
    place: Place
    type: str
    value: float | None
    min_value: float | None
    max_value: float | None
    uom: str | None
    exception: str | None
    batch_id: int | None
    lot: str | None
    product: str | None


def bucket(age: dt.timedelta) -> str:
    days = age.days
    for name, (low, high) in AGES.items():
        if days >= low and (high is None or days < high):
            return name
    return "week"  # a time in the future


def _narrowed(filters: SupplyFilters, query, table):
    """``query`` kept to the filters' product and site, as ``table`` records them."""
    if filters.product_id is not None:
        query = query.where(table.product_id == filters.product_id)
    if filters.site_id is not None:
        query = query.where(table.site_id == filters.site_id)
    return query


def _places(filters: SupplyFilters, query, state: str):
    return _narrowed(filters, query.where(ObjectPlace.state == state), ObjectPlace)


def in_transit(
    session: Session, brand_id: int, filters: SupplyFilters, now: dt.datetime, limit: int = LISTED
) -> Transit:
    """Shipments whose objects have had no later event, grouped by shipping event; the
    ``limit`` oldest with their origin and destinations."""
    place = ObjectPlace
    query = _places(
        filters,
        select(place.event_id, func.min(place.since), func.count())
        .where(place.brand_id == brand_id)
        .group_by(place.event_id),
        "transit",
    )
    groups = sorted(
        ((as_utc(since), event_id, int(n)) for event_id, since, n in session.execute(query)),
    )
    by_age = dict.fromkeys(AGES, 0)
    for since, _, _ in groups:
        by_age[bucket(now - since)] += 1
    oldest = shipments(session, brand_id, groups[:limit])
    return Transit(len(groups), sum(n for _, _, n in groups), by_age, oldest)


def shipments(
    session: Session, brand_id: int, groups: Sequence[tuple[dt.datetime, int, int]]
) -> list[Shipment]:
    """(since, shipping event id, objects) → shipments with their origin and destinations."""
    events = {}
    for chunk in chunked([event_id for _, event_id, _ in groups]):
        rows = session.execute(
            select(TraceEvent).where(TraceEvent.brand_id == brand_id, TraceEvent.id.in_(chunk))
        )
        events.update({event.id: event for event in rows.scalars()})
    found = []
    for since, event_id, count in groups:
        event = events.get(event_id)
        if event is None:
            continue
        origin = Place(event.site_id, event.biz_location or event.read_point or "")
        targets = tuple(
            Place(None, str(d.get("destination", ""))) for d in event.destinations or []
        )
        sources = tuple(str(s.get("source", "")) for s in event.sources or [])
        found.append(Shipment(event_id, since, count, origin, targets, sources))
    return found


def stock(session: Session, brand_id: int, filters: SupplyFilters, now: dt.datetime) -> list[Stock]:
    """What is at each place now, by how long it has been there; the fullest first."""
    place = ObjectPlace
    ages = []
    for name, (low, high) in AGES.items():
        conditions = [place.since <= now - dt.timedelta(days=low)] if low else []
        if high is not None:  # the newest bucket also takes times ahead of the clock
            conditions.append(place.since > now - dt.timedelta(days=high))
        ages.append(func.sum(case((and_(*conditions), 1), else_=0)).label(name))
    location = case((place.site_id.is_(None), place.location), else_="")
    query = _places(
        filters,
        select(place.site_id, location, *ages)
        .where(place.brand_id == brand_id)
        .group_by(place.site_id, location),
        "site",
    )
    found = [
        Stock(
            Place(site_id, where), {name: int(n or 0) for name, n in zip(AGES, counts, strict=True)}
        )
        for site_id, where, *counts in session.execute(query)
    ]
    return sorted(found, key=lambda s: (-s.total, s.place.site_id or 0, s.place.location))


def _excursions(filters: SupplyFilters, query):
    excursion = SensorExcursion
    start = dt.datetime.combine(filters.start, dt.time(), dt.UTC)
    end = dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), dt.UTC)
    return _narrowed(filters, query.where(excursion.at >= start, excursion.at < end), excursion)


def excursions_by_site(
    session: Session, brand_id: int, filters: SupplyFilters
) -> list[tuple[Place, int]]:
    """Excursions in the range per place, most first."""
    excursion = SensorExcursion
    location = case((excursion.site_id.is_(None), excursion.location), else_="")
    query = _excursions(
        filters,
        select(excursion.site_id, location, func.count())
        .where(excursion.brand_id == brand_id)
        .group_by(excursion.site_id, location),
    )
    found = [(Place(site_id, where), int(n)) for site_id, where, n in session.execute(query)]
    return sorted(found, key=lambda item: (-item[1], item[0].site_id or 0, item[0].location))


def excursions_over_time(
    session: Session, brand_id: int, filters: SupplyFilters
) -> list[tuple[dt.date, int]]:
    """Excursions per period of the range (empty periods included)."""
    excursion = SensorExcursion
    day = utc_day(excursion.at, dialect_name(session))
    query = _excursions(
        filters,
        select(day, func.count()).where(excursion.brand_id == brand_id).group_by(day),
    )
    series = dict.fromkeys(periods(filters), 0)
    for when, n in session.execute(query):
        if isinstance(when, str):  # SQLite's date() is text
            when = dt.date.fromisoformat(when)
        start = period_start(when, filters.granularity)
        series[start] += int(n)
    return list(series.items())


def excursions(
    session: Session, brand_id: int, filters: SupplyFilters, limit: int = LISTED
) -> list[Excursion]:
    """The latest excursions in the range, newest first, with the batch they concern."""
    excursion = SensorExcursion
    query = _excursions(
        filters,
        select(excursion, Batch.lot, Product.name)
        .outerjoin(
            Batch, and_(Batch.id == excursion.batch_id, Batch.brand_id == excursion.brand_id)
        )
        .outerjoin(Product, Product.id == Batch.product_id)
        .where(excursion.brand_id == brand_id)
        .order_by(excursion.at.desc(), excursion.id.desc())
        .limit(limit),
    )
    return [
        Excursion(
            as_utc(row.at),
            Place(row.site_id, row.location),
            row.type,
            row.value,
            row.min_value,
            row.max_value,
            row.uom,
            row.exception,
            row.batch_id,
            lot,
            product,
        )
        for row, lot, product in session.execute(query)
    ]


def site_names(session: Session, brand_id: int) -> dict[int, str]:
    """The brand's sites: id → name."""
    rows = session.execute(select(Site.id, Site.name).where(Site.brand_id == brand_id))
    return {key: name for key, name in rows}


def site_locations(session: Session, brand_id: int) -> dict[str, str]:
    """The brand's sites as events name them: location identifier (as entered, and in
    the canonical form captured events store it in) → site name."""
    rows = session.execute(
        select(Site.location_id, Site.name).where(
            Site.brand_id == brand_id, Site.location_id.is_not(None)
        )
    )
    names = {}
    for key, name in rows:
        names[key] = names[epcs.canonical(key).uri] = name
    return names
