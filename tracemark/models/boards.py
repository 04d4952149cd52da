"""Tables the quality and supply-chain boards read instead of the raw trace events.

They are kept by :mod:`tracemark.reporting.board_rollup` from new events (behind a watermark, like
the scan rollups), so a board reads rows proportional to what it shows:

* ``inspection_first`` — per inspected batch, unit or material lot, its first inspection
  by event time (when, passed or not, the line and supplier it counts for);
* ``defect_day`` — failing QC tests per day, product, line and defect type;
* ``object_place`` — per object (EPC), where its latest event by event time left it: at
  a place, in transit (shipped, not received) or gone (consumed, sold, destroyed);
* ``sensor_excursion`` — sensor readings with an alarm or a value outside its bounds.

Unknown values are ``""`` and "no product" is ``product_id`` 0, so key columns are never
null.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tracemark.models.base import Base, BigId
from tracemark.models.trace import ID_LENGTH

#: What an ``inspection_first`` row is about.
SUBJECT_KINDS = ("batch", "unit", "lot")
#: Where ``object_place`` says an object is.
PLACE_STATES = ("site", "transit", "gone")


class InspectionFirst(Base):
    __tablename__ = "inspection_first"
    __table_args__ = (Index("ix_inspection_first_time", "brand_id", "kind", "first_at"),)

    brand_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``batch``, ``unit`` or ``lot`` (a material lot).
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The trace event of the first inspection, its time, and whether it passed.
    event_id: Mapped[int] = mapped_column(BigId)
    first_at: Mapped[dt.datetime]
    passed: Mapped[bool]
    product_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The event's ``tm:line``, else the batch's line; ``""`` unknown (and for lots).
    line: Mapped[str] = mapped_column(String(100), default="", server_default="")
    #: The material lot's supplier (lots only).
    supplier_id: Mapped[int | None] = mapped_column(Integer)


class DefectDay(Base):
    __tablename__ = "defect_day"

    brand_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The test's ``defect`` when given, else the test's name.
    defect: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ObjectPlace(Base):
    __tablename__ = "object_place"
    __table_args__ = (
        Index("ix_object_place_state", "brand_id", "state", "site_id", "since"),
        Index("ix_object_place_container", "brand_id", "container"),
    )

    brand_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Canonical identifier (see :func:`tracemark.epcis.identifiers.canonical`).
    epc: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    #: ``site`` (at ``site_id``/``location``), ``transit`` or ``gone``.
    state: Mapped[str] = mapped_column(String(8))
    site_id: Mapped[int | None] = mapped_column(Integer)
    #: The place as events name it (bizLocation, readPoint); ``""`` unknown.
    location: Mapped[str] = mapped_column(String(ID_LENGTH), default="", server_default="")
    #: Since when the object is in this state at this place.
    since: Mapped[dt.datetime]
    #: The latest event (by event time) and its time.
    event_id: Mapped[int] = mapped_column(BigId)
    event_time: Mapped[dt.datetime]
    product_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    batch_id: Mapped[int | None] = mapped_column(Integer)
    lot_id: Mapped[int | None] = mapped_column(Integer)
    #: The container (case, pallet) the object was last packed into and not taken out of:
    #: the object goes where the container goes.
    container: Mapped[str | None] = mapped_column(String(ID_LENGTH))


class SensorExcursion(Base):
    __tablename__ = "sensor_excursion"
    __table_args__ = (Index("ix_sensor_excursion_time", "brand_id", "at"),)

    #: The ``sensor_reading`` row.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    brand_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[int] = mapped_column(BigId)
    #: The reading's time, else its event's.
    at: Mapped[dt.datetime]
    site_id: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(ID_LENGTH), default="", server_default="")
    batch_id: Mapped[int | None] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    type: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    uom: Mapped[str | None] = mapped_column(String(8))
    exception: Mapped[str | None] = mapped_column(String(32))
