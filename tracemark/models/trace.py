"""Supply-chain events modelled on GS1 EPCIS 2.0, and the genealogy they imply.

An event's objects (EPCs and quantities of lot classes, in their EPCIS role) are rows of
``trace_event_object``, resolved at capture to the brand's units, batches and material
lots where they name one; transformations add ``genealogy_edge`` rows (input class →
output class) that traces walk in either direction. Identifiers are stored in one
canonical form (see :mod:`tracemark.epcis.identifiers`), so a lot named by an EPC URN in
one document and by a Digital Link URI in another is the same node.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, BigId, utcnow
from tracemark.models.catalog import Site


def event_fk() -> ForeignKeyConstraint:
    """The key of a row that belongs to one trace event (``event_id``): the event must be
    of the row's brand, and deleting the event deletes the row."""
    return ForeignKeyConstraint(
        ["event_id", "brand_id"],
        ["trace_event.id", "trace_event.brand_id"],
        ondelete="CASCADE",
    )


#: Longest identifier (EPC, class, location, party) kept.
ID_LENGTH = 300


class TraceEvent(Base):
    __tablename__ = "trace_event"
    __table_args__ = (
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
        ForeignKeyConstraint(["site_id", "brand_id"], ["site.id", "site.brand_id"]),
        Index("ix_trace_event_batch_time", "batch_id", "event_time"),
        # EPCIS eventID: a capture skips events the brand already holds
        UniqueConstraint("brand_id", "event_id"),
        # target of the composite keys of the event's child rows
        UniqueConstraint("id", "brand_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    #: The one batch the event is about as a whole (named by its class, or recorded for
    #: it); None when it is about units, material lots or several batches.
    batch_id: Mapped[int | None] = mapped_column()
    #: EPCIS eventID (a URI); None only for events recorded without one.
    event_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: EPCIS event type: ObjectEvent, AggregationEvent, TransformationEvent, ...
    event_type: Mapped[str] = mapped_column(String(32), default="ObjectEvent")
    #: ADD, OBSERVE or DELETE (None for transformations).
    action: Mapped[str | None] = mapped_column(String(8))
    event_time: Mapped[dt.datetime]
    #: The offset the event happened in, e.g. ``+02:00`` (EPCIS eventTimeZoneOffset).
    event_timezone: Mapped[str] = mapped_column(String(6), default="+00:00")
    #: CBV business step, e.g. ``commissioning``, ``inspecting``, ``shipping``.
    biz_step: Mapped[str] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    read_point: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    biz_location: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: AggregationEvent parentID (a case, pallet, ...).
    parent_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    transformation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: EPCIS sourceList / destinationList: ``[{"type": ..., "source"|"destination": ...}]``.
    sources: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    destinations: Mapped[list[dict[str, str]] | None] = mapped_column(JSON(none_as_null=True))
    site_id: Mapped[int | None] = mapped_column()
    #: Free-text place when the event happened outside the brand's sites.
    place: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    #: Everything else the event said, verbatim (sensorElementList, certificationInfo,
    #: extensions such as ``tm:operator``); custom fields for recorded events.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: SHA-256 of the event as captured (without recordTime and errorDeclaration): the
    #: same eventID with other content is a conflict. None for rows from before 0021.
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    #: When the event was declared in error (EPCIS errorDeclaration's declarationTime);
    #: such an event stays queryable but stops counting in traces, journeys and boards.
    error_declared_at: Mapped[dt.datetime | None] = mapped_column()
    #: The error declaration as sent (declarationTime, reason, correctiveEventIDs, ...).
    error_declaration: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Canonical identifier → the spelling the captured event gave it in, where they
    #: differ (EPC URN partners get their company prefix length back; GS1-EPC-Format).
    spellings: Mapped[dict[str, str] | None] = mapped_column(JSON(none_as_null=True))

    site: Mapped[Site | None] = relationship(
        primaryjoin="TraceEvent.site_id == Site.id", foreign_keys=[site_id], viewonly=True
    )


class TraceEventObject(Base):
    """One identifier an event names, in its EPCIS role.

    ``role`` is ``epc``, ``child``, ``input`` or ``output`` for instance lists (epcList,
    childEPCs, inputEPCList, outputEPCList) and the same with ``_quantity`` for quantity
    lists. ``unit_id``/``batch_id``/``lot_id`` say what the identifier resolved to in the
    brand: a unit (and its batch), a batch's class, or a material lot's class.
    """

    __tablename__ = "trace_event_object"
    __table_args__ = (
        event_fk(),
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
        ForeignKeyConstraint(["lot_id", "brand_id"], ["material_lot.id", "material_lot.brand_id"]),
        Index("ix_trace_event_object_event", "event_id"),
        Index("ix_trace_event_object_epc", "brand_id", "epc"),
        Index("ix_trace_event_object_unit", "unit_id"),
        Index("ix_trace_event_object_batch", "batch_id"),
        Index("ix_trace_event_object_lot", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column()
    event_id: Mapped[int] = mapped_column()
    role: Mapped[str] = mapped_column(String(16))
    #: Canonical identifier (see :func:`tracemark.epcis.identifiers.canonical`).
    epc: Mapped[str] = mapped_column(String(ID_LENGTH))
    quantity: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(8))
    unit_id: Mapped[int | None] = mapped_column(BigId)
    batch_id: Mapped[int | None] = mapped_column()
    lot_id: Mapped[int | None] = mapped_column()


class GenealogyEdge(Base):
    """Input → output of a transformation, by canonical class (or instance) identifier.

    Indexed from both ends so a trace walks backward (output → inputs) or forward
    (input → outputs) with one index probe per step.
    """

    __tablename__ = "genealogy_edge"
    __table_args__ = (
        event_fk(),
        Index("ix_genealogy_edge_output", "brand_id", "output_epc", "input_epc"),
        Index("ix_genealogy_edge_input", "brand_id", "input_epc", "output_epc"),
        Index("ix_genealogy_edge_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column()
    event_id: Mapped[int] = mapped_column()
    input_epc: Mapped[str] = mapped_column(String(ID_LENGTH))
    output_epc: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: How much of the input went in, and how much of the output came out (if given).
    input_quantity: Mapped[float | None] = mapped_column(Float)
    input_uom: Mapped[str | None] = mapped_column(String(8))
    output_quantity: Mapped[float | None] = mapped_column(Float)
    output_uom: Mapped[str | None] = mapped_column(String(8))


class SensorReading(Base):
    """One sensorReport value of an event (temperature, humidity, ...), for queries;
    the event keeps its full sensorElementList for export."""

    __tablename__ = "sensor_reading"
    __table_args__ = (
        event_fk(),
        Index("ix_sensor_reading_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column()
    event_id: Mapped[int] = mapped_column()
    #: e.g. ``gs1:Temperature``, ``gs1:RelativeHumidity``.
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(8))
    time: Mapped[dt.datetime | None]
    device_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    #: EPCIS sensorReport exception (``ALARM_CONDITION``, ``ERROR_CONDITION``): an excursion.
    exception: Mapped[str | None] = mapped_column(String(32))
