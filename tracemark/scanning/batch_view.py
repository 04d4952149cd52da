"""What the portal shows about a batch, in one locale, with fallbacks.

Texts fall back from the exact locale (``pt_BR``) to its language (``pt``), then to
English, then to whatever the brand wrote: a consumer always sees something, in the best
language available.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass, field, replace

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tracemark.content import richtext
from tracemark.content.images import image_path
from tracemark.epcis import identifiers as epcs
from tracemark.models import (
    Batch,
    BatchStory,
    Document,
    DocumentContent,
    Image,
    PublishState,
    SensorReading,
    Site,
    TraceEvent,
)
from tracemark.models.base import as_utc
from tracemark.trace import events as trace

DEFAULT_LOCALE = "en"


#: Journey events (and their sensor excursions) shown per batch; the earliest are kept.
MAX_JOURNEY = 50


@dataclass(frozen=True)
class JourneyStep:
    when: dt.datetime
    biz_step: str
    place: str | None
    country: str | None


@dataclass(frozen=True)
class ExcursionView:
    """A sensor reading its report flagged (EPCIS ``exception``) on a journey event."""

    when: dt.datetime
    #: e.g. ``gs1:Temperature``.
    type: str
    value: float | None
    uom: str | None
    #: The threshold the report gave (``tm:limit``), when it gave one.
    limit: float | None
    place: str | None
    country: str | None


@dataclass(frozen=True)
class DocumentView:
    id: int
    title: str
    issuer: str | None
    issued_on: dt.date | None
    sha256: str
    size: int


@dataclass(frozen=True)
class ImageView:
    path: str
    width: int
    height: int
    alt: str

    @classmethod
    def of(cls, image: Image) -> ImageView:
        return cls(image_path(image), image.width, image.height, image.alt)


@dataclass(frozen=True)
class BatchView:
    product_name: str
    product_description: str | None
    lot: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    site: Site | None
    story_title: str | None
    story_body: str | None
    #: The brand's notice in the page's language (or along its chain to English); None
    #: when it wrote none there: the page then shows the status's standard text, never a
    #: notice in a language the reader may not read.
    notice: str | None
    documents: list[DocumentView] = field(default_factory=list)
    journey: list[JourneyStep] = field(default_factory=list)
    #: The story rendered from its Markdown source and sanitised
    #: (:mod:`tracemark.content.richtext`).
    story_html: Markup | None = None
    #: The product's published pictures.
    images: list[ImageView] = field(default_factory=list)
    #: The locale the story is written in (a fallback may differ from the page's).
    story_locale: str | None = None
    excursions: list[ExcursionView] = field(default_factory=list)
    #: What the faces derive from this view alone (a rendered part of the page, the
    #: JSON of the batch), kept as long as the view is cached: every copy of a cached
    #: view (one per scan, with its fresh notice) shares this one dict.
    memo: dict = field(default_factory=dict, compare=False, repr=False)


def locale_chain(locale: str) -> list[str]:
    """``zh_Hans_CN`` → ``["zh_Hans_CN", "zh_Hans", "zh", "en"]`` (no duplicates)."""
    parts = locale.replace("-", "_").split("_")
    chain = ["_".join(parts[:n]) for n in range(len(parts), 0, -1)]
    return list(dict.fromkeys([*chain, DEFAULT_LOCALE]))


def pick(texts: dict[str, str], locale: str, *, anywhere: bool = True) -> str | None:
    """The best text for ``locale`` in a ``{locale: text}`` mapping: along its locale
    chain, then (``anywhere``) any text at all, else None."""
    for candidate in locale_chain(locale):
        if texts.get(candidate):
            return texts[candidate]
    if not anywhere:
        return None
    return next((text for text in texts.values() if text), None)


def batch_view(session: Session, batch_id: int, locale: str) -> BatchView:
    batch = session.get_one(Batch, batch_id)
    product = batch.product
    product_texts = product.texts or {}
    names = {key: value.get("name", "") for key, value in product_texts.items()}
    descriptions = {key: value.get("description", "") for key, value in product_texts.items()}
    stories = {
        story.locale: story
        for story in session.scalars(
            select(BatchStory).where(
                BatchStory.batch_id == batch.id, BatchStory.state == PublishState.PUBLISHED
            )
        )
    }
    story_locale = pick({key: key for key in stories}, locale)
    story = stories.get(story_locale) if story_locale else None
    product_images = session.scalars(
        select(Image)
        .where(Image.product_id == product.id, Image.state == PublishState.PUBLISHED)
        .order_by(Image.id)
    )
    documents = [
        DocumentView(doc.id, doc.title, doc.issuer, doc.issued_on, doc.sha256, doc.size)
        for doc in session.scalars(
            select(Document)
            .where(Document.batch_id == batch.id, Document.state == PublishState.PUBLISHED)
            .order_by(Document.issued_on, Document.id)
        )
    ]
    journey, excursions = batch_journey(session, batch)
    return BatchView(
        # the product's own name is its base name: a translation into another language
        # than the page's is never preferred to it
        product_name=pick(names, locale, anywhere=False) or product.name,
        product_description=pick(descriptions, locale),
        lot=batch.lot,
        production_date=batch.production_date,
        expiry_date=batch.expiry_date,
        site=batch.site,
        story_title=story.title if story else None,
        story_body=story.body if story else None,
        notice=pick(batch.notice or {}, locale, anywhere=False),
        documents=documents,
        journey=journey,
        excursions=excursions,
        story_html=story_html(session, story) if story else None,
        images=[ImageView.of(image) for image in product_images],
        story_locale=story.locale if story else None,
    )


def batch_journey(session: Session, batch: Batch) -> tuple[list[JourneyStep], list[ExcursionView]]:
    """The batch's journey from the supply-chain events about it (recorded for it, or
    naming its class, its units or a case they were packed into), each event once, in
    event time order whatever order they arrived in; and the sensor excursions those
    events reported. Two queries at most (none for readings when there is no event)."""
    events = trace.events_of_batch(session, batch, limit=MAX_JOURNEY)
    if not events:
        return [], []
    sites = trace.sites_of(session, events)
    places = {event.id: _place(event, sites.get(event.site_id)) for event in events}
    journey = [
        JourneyStep(as_utc(event.event_time), event.biz_step, *places[event.id]) for event in events
    ]
    by_id = {event.id: event for event in events}
    readings = session.scalars(
        select(SensorReading)
        .where(
            SensorReading.brand_id == batch.brand_id,
            SensorReading.event_id.in_(list(by_id)),
            SensorReading.exception.is_not(None),
        )
        .order_by(SensorReading.id)
    )
    excursions = [
        ExcursionView(
            as_utc(reading.time or by_id[reading.event_id].event_time),
            reading.type,
            reading.value if reading.value is not None else reading.max_value,
            reading.uom,
            _limit(by_id[reading.event_id], reading),
            *places[reading.event_id],
        )
        for reading in readings
    ]
    return journey, sorted(excursions, key=lambda x: x.when)


def _place(event: TraceEvent, site: Site | None) -> tuple[str | None, str | None]:
    """Where an event happened: the brand's site (a site whose ``location_id`` the event
    named), else the place or location it named, unless that is an identifier no
    consumer can read (an EPC URN such as an SGLN, or its canonical Digital Link)."""
    if site is not None:
        return site.name, event.country or site.country
    named = event.place or event.biz_location or event.read_point
    unreadable = named is None or named.startswith(("urn:", epcs.CANONICAL_HOST))
    return (None if unreadable else named), event.country


def _limit(event: TraceEvent, reading: SensorReading) -> float | None:
    """The ``tm:limit`` of the event's sensor report that gave ``reading``, if any."""
    for element in (event.data or {}).get("sensorElementList") or ():
        for report in element.get("sensorReport") or () if isinstance(element, dict) else ():
            if (
                isinstance(report, dict)
                and report.get("type") == reading.type
                and report.get("value") == reading.value
                and isinstance(report.get("tm:limit"), int | float)
                and not isinstance(report.get("tm:limit"), bool)
            ):
                return float(report["tm:limit"])
    return None


def story_html(session: Session, story: BatchStory) -> Markup:
    """``story``'s body as the portal shows it, with its batch's pictures."""
    images = session.scalars(select(Image).where(Image.batch_id == story.batch_id))
    return richtext.render(story.body, {image.id: image for image in images})


class BatchViewCache:
    """Batch views by (batch, locale) for ``ttl`` seconds: stories, reports and journeys
    change rarely, while every scan of a batch reads them. The notice, which follows the
    batch's status, is always taken fresh.

    A change made through this worker is seen at once (:meth:`forget`); other workers
    see it within ``ttl``, which bounds how late a published or withdrawn story, picture
    or report can show.
    """

    def __init__(self, ttl: float = 30.0, size: int = 2048) -> None:
        self._ttl, self._size = ttl, size
        self._entries: dict[tuple[int, str], tuple[float, BatchView]] = {}
        self._lock = threading.Lock()

    def get(
        self,
        session: Session | sessionmaker[Session],
        batch_id: int,
        notice: dict[str, str],
        locale: str,
    ) -> BatchView:
        """The view of ``batch_id`` in ``locale`` with ``notice`` (fresh) in it. Given a
        ``sessionmaker``, a session is opened only when the view must be built."""
        key, now = (batch_id, locale), time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
        if hit is None or now - hit[0] > self._ttl:
            if isinstance(session, Session):
                hit = (now, batch_view(session, batch_id, locale))
            else:
                with session() as opened:
                    hit = (now, batch_view(opened, batch_id, locale))
            with self._lock:
                if len(self._entries) >= self._size:
                    self._entries.clear()
                self._entries[key] = hit
        view, fresh = hit[1], pick(notice or {}, locale, anywhere=False)
        # Usually the notice is still the one the view was built with: no copy needed.
        return view if view.notice == fresh else replace(view, notice=fresh)

    def forget(self, batch_ids: set[int] | None = None) -> None:
        """Drop the views of ``batch_ids`` (every view when None) after a change."""
        with self._lock:
            if batch_ids is None:
                self._entries.clear()
            else:
                for key in [key for key in self._entries if key[0] in batch_ids]:
                    del self._entries[key]


def published_document(session: Session, document_id: int) -> tuple[Document, bytes] | None:
    """A published document and its bytes, or None (also when its hash no longer matches)."""
    row = session.execute(
        select(Document, DocumentContent.data)
        .join(DocumentContent, DocumentContent.document_id == Document.id)
        .where(Document.id == document_id, Document.state == PublishState.PUBLISHED)
    ).first()
    if row is None:
        return None
    document, data = row
    if hashlib.sha256(data).hexdigest() != document.sha256:
        return None
    return document, bytes(data)
