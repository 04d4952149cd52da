"""Issued units and the jobs that issue them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, BigId, str_enum, utcnow
from tracemark.models.catalog import Batch
from tracemark.models.keys import SigningKey


class JobStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class IssuanceJob(Base):
    """A request to issue ``requested`` codes for a batch.

    ``issued`` advances in the same transaction as each chunk of units, so it is always
    the exact number of units the job has stored and a resumed job continues from it.
    """

    __tablename__ = "issuance_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="RESTRICT"), index=True)
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("signing_key.id", ondelete="RESTRICT"))
    requested: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "job_status"), default=JobStatus.PENDING
    )
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]

    batch: Mapped[Batch] = relationship()
    signing_key: Mapped[SigningKey] = relationship()


class Unit(Base):
    """One physical unit's identity. Its kid is the job's key's; not repeated per row."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("brand_id", "serial"),
        UniqueConstraint("job_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id", ondelete="RESTRICT"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="RESTRICT"))
    job_id: Mapped[int] = mapped_column(ForeignKey("issuance_job.id", ondelete="RESTRICT"))
    #: Position within the job: label order, and the resume point.
    seq: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str] = mapped_column(String(20))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))

    job: Mapped[IssuanceJob] = relationship()
