"""label renders, issuance request keys

Label files rendered by the worker for one issuance job and format (``label_render``,
leased like issuance jobs), and the request key that makes a double-submitted issuance
form find its first job (unique per brand).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:17:32.437939

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "label_render",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "pdf",
                "svg",
                "png",
                "csv",
                name="label_format",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "done",
                "failed",
                name="label_render_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id", "batch_id", "brand_id"],
            ["issuance_job.id", "issuance_job.batch_id", "issuance_job.brand_id"],
            name=op.f("fk_label_render_job_id_issuance_job"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_render")),
        sa.UniqueConstraint("job_id", "format", name=op.f("uq_label_render_job_id_format")),
    )
    with op.batch_alter_table("label_render", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_render_batch_id"), ["batch_id"], unique=False)

    with op.batch_alter_table("issuance_job", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_issuance_job_brand_id_request_key"), ["brand_id", "request_key"]
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("issuance_job", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_issuance_job_brand_id_request_key"), type_="unique")
        batch_op.drop_column("request_key")

    with op.batch_alter_table("label_render", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_render_batch_id"))

    op.drop_table("label_render")
