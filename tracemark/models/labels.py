"""Label files rendered in the background for one issuance job."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracemark.models.base import Base, str_enum
from tracemark.models.units import IssuanceJob, JobStatus, WorkerTask


class LabelFormat(enum.StrEnum):
    PDF = "pdf"
    SVG = "svg"
    PNG = "png"
    CSV = "csv"


class LabelRender(WorkerTask, Base):
    """The labels of one issuance job in one format: a print run's file.

    Rendered by the worker under a lease like issuance jobs (``status``, ``lease_until``,
    ``worker``); ``done`` counts the labels written so far; ``file_name`` is relative to
    the label folder and exists only once the render is done (files are renamed into
    place when complete).
    """

    __tablename__ = "label_render"
    __table_args__ = (
        # the job must be of the render's batch and brand: enforced by the database
        ForeignKeyConstraint(
            ["job_id", "batch_id", "brand_id"],
            ["issuance_job.id", "issuance_job.batch_id", "issuance_job.brand_id"],
        ),
        UniqueConstraint("job_id", "format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column()
    batch_id: Mapped[int] = mapped_column(index=True)
    job_id: Mapped[int] = mapped_column()
    format: Mapped[LabelFormat] = mapped_column(str_enum(LabelFormat, "label_format"))
    status: Mapped[JobStatus] = mapped_column(
        str_enum(JobStatus, "label_render_status"), default=JobStatus.PENDING
    )
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str | None] = mapped_column(String(200))

    job: Mapped[IssuanceJob] = relationship(
        primaryjoin="LabelRender.job_id == IssuanceJob.id", foreign_keys=[job_id], viewonly=True
    )
