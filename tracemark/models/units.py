"""Issued units and the jobs that issue them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKeyConstraint, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, BigId, str_enum, utcnow
from tracemark.models.catalog import Batch
from tracemark.models.keys import SigningKey


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class WorkerTask:
    """The columns of a task the worker runs (:mod:`tracemark.worker`): when it was asked
    for, started and finished, why it failed, and the lease of the worker running it.
    Each task keeps its own ``status`` (a :class:`JobStatus` column named per table)."""

    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    #: The worker running the task holds it until this time, renewing it as it goes; a
    #: task whose lease ran out (its worker died) is taken over by the next worker.
    lease_until: Mapped[dt.datetime | None]
    worker: Mapped[str | None] = mapped_column(String(100))


class IssuanceJob(WorkerTask, Base):
    """A request to issue ``requested`` codes for a batch.

    ``issued`` advances in the same transaction as each chunk of units, so it is always
    the exact number of units the job has stored and a resumed job continues from it.
    """

    __tablename__ = "issuance_job"
    __table_args__ = (
        # the batch and the key must be the job's brand's: enforced by the database
        ForeignKeyConstraint(["batch_id", "brand_id"], ["batch.id", "batch.brand_id"]),
        ForeignKeyConstraint(
            ["signing_key_id", "brand_id"], ["signing_key.id", "signing_key.brand_id"]
        ),
        UniqueConstraint("id", "batch_id", "brand_id"),
        UniqueConstraint("brand_id", "request_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(index=True)
    batch_id: Mapped[int] = mapped_column(index=True)
    signing_key_id: Mapped[int] = mapped_column()
    requested: Mapped[int] = mapped_column(Integer)
    #: Whether the units get a scratch-off PIN (derived, never stored: see
    #: ``tracemark.codes.pins``).
    with_pin: Mapped[bool] = mapped_column(default=False)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    #: The key of the form (or API call) that asked for the job: the same request sent
    #: twice (a double submit) finds the first job instead of queueing a second.
    request_key: Mapped[str | None] = mapped_column(String(64))

    batch: Mapped[Batch] = relationship(
        primaryjoin="IssuanceJob.batch_id == Batch.id", foreign_keys=[batch_id], viewonly=True
    )
    signing_key: Mapped[SigningKey] = relationship(
        primaryjoin="IssuanceJob.signing_key_id == SigningKey.id",
        foreign_keys=[signing_key_id],
        viewonly=True,
    )


class Unit(Base):
    """One physical unit's identity. Its kid is the job's key's; not repeated per row."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("brand_id", "serial"),
        UniqueConstraint("job_id", "seq"),
        # One composite key checks job, batch and brand together: a unit cannot name a
        # batch or brand other than its job's, and bulk inserts pay one check a row.
        ForeignKeyConstraint(
            ["job_id", "batch_id", "brand_id"],
            ["issuance_job.id", "issuance_job.batch_id", "issuance_job.brand_id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column()
    batch_id: Mapped[int] = mapped_column()
    job_id: Mapped[int] = mapped_column()
    #: Position within the job: label order, and the resume point.
    seq: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str] = mapped_column(String(20))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))

    job: Mapped[IssuanceJob] = relationship(
        primaryjoin="Unit.job_id == IssuanceJob.id", foreign_keys=[job_id], viewonly=True
    )
