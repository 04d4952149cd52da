"""Reading new events after a stored watermark, in batches: the one roll-up (:class:`Rollup`)
behind the scan rollups (:mod:`tracemark.reporting.rollups`) and the board tables
(:mod:`tracemark.reporting.board_rollup`).

A watermark row (``rollup_watermark``, one per name) holds the last event id counted. A
run takes the events after it, by id, a batch at a time; each batch is one transaction
that locks the watermark row, hands the id range to the caller's ``apply`` and moves the
watermark, so the tables and the watermark commit together. The lock makes a second
runner wait and then start after the first one's batch: no event is counted twice, or
lost when a runner dies (its transaction rolls back whole).

Event ids are handed out before their transactions commit, so an id may become visible
after a larger one. Events are therefore read only once they are ``settle`` old (by the
time column the caller names); a batch stops before the first younger event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracemark.db import insert_for
from tracemark.models import RollupWatermark
from tracemark.models.base import utcnow

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: Events younger than this are left for the next run (see the module docstring).
SETTLE = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class RollupRun:
    #: Events read (for the scan rollups, forged ones that no brand counts included).
    events: int
    batches: int
    last_event_id: int


def ensure_watermark(sessions: sessionmaker[Session], name: str) -> None:
    """Create the watermark row ``name`` if it is missing."""
    with sessions.begin() as session:
        insert_ = insert_for(session)
        session.execute(
            insert_(RollupWatermark.__table__).values(name=name).on_conflict_do_nothing()
        )


def lock_watermark(session: Session, now: dt.datetime, name: str) -> RollupWatermark:
    """Lock the watermark row (an UPDATE: a row lock on PostgreSQL, the write lock on
    SQLite) and read it; a concurrent runner waits here until this transaction ends."""
    session.execute(
        update(RollupWatermark).where(RollupWatermark.name == name).values(updated_at=now)
    )
    return session.execute(select(RollupWatermark).where(RollupWatermark.name == name)).scalar_one()


class RunOptions(TypedDict, total=False):
    """How far one run of a :class:`Rollup` goes (the keywords of :meth:`Rollup.run`)."""

    batch_size: int | None
    now: dt.datetime | None
    settle: dt.timedelta
    max_batches: int | None


@dataclass(frozen=True)
class Rollup:
    """Tables kept from the events of ``model`` after the watermark row ``name``.

    ``apply(session, low, high)`` updates the tables from the events ``low < id <= high``
    in the batch's transaction; ``time_column`` is the event's time that decides whether
    it has settled; ``batch_size`` is the events per transaction unless a run says.
    """

    name: str
    model: Any
    time_column: Any
    apply: Callable[[Session, int, int], None]
    batch_size: int

    def run(self, sessions: sessionmaker[Session], **options: Unpack[RunOptions]) -> RollupRun:
        """Hand the settled events after the watermark to ``apply``.

        A batch holds at most ``batch_size`` events, all older than ``now - settle``
        (defaults: the rollup's batch size, the current time, :data:`SETTLE`); its
        transaction then moves the watermark to its last id. Runs until no settled event
        is left, or ``max_batches``. Safe to run from several processes at once.
        """
        batch_size = options.get("batch_size") or self.batch_size
        now = options.get("now") or utcnow()
        horizon = now - options.get("settle", SETTLE)
        max_batches = options.get("max_batches")
        ensure_watermark(sessions, self.name)
        events = batches = last = 0
        while max_batches is None or batches < max_batches:
            with sessions.begin() as session:
                watermark = lock_watermark(session, now, self.name)
                low = last = watermark.last_event_id
                high = _settled_end(session, self.model, self.time_column, low, batch_size, horizon)
                if high is None:
                    break
                self.apply(session, low, high)
                watermark.last_event_id = last = high
                session.flush()
            events, batches = events + high - low, batches + 1
        return RollupRun(events, batches, last)


def _settled_end(
    session: Session,
    model: Any,
    time_column: Any,
    low: int,
    batch_size: int,
    horizon: dt.datetime,
) -> int | None:
    """The last id of the next batch after ``low``, stopping before the first event
    younger than ``horizon``; None when there is none."""
    page = (select(model.id).where(model.id > low).order_by(model.id).limit(batch_size)).subquery()
    high = session.scalar(select(func.max(page.c.id)))
    if high is None:
        return None
    young = session.scalar(
        select(func.min(model.id)).where(model.id > low, model.id <= high, time_column >= horizon)
    )
    if young is not None:
        high = young - 1
    return high if high > low else None
