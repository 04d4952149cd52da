"""checkpoints

Checkpoint templates (versioned per brand and key) and the files attached to recorded
checkpoints.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 01:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "checkpoint_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("biz_step", sa.String(length=64), nullable=False),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_checkpoint_template_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_template")),
        sa.UniqueConstraint(
            "brand_id", "key", "version", name=op.f("uq_checkpoint_template_brand_id_key_version")
        ),
        sa.UniqueConstraint("id", "brand_id", name=op.f("uq_checkpoint_template_id_brand_id")),
    )
    op.create_table(
        "checkpoint_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_checkpoint_file_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint_file")),
        sa.UniqueConstraint("brand_id", "sha256", name=op.f("uq_checkpoint_file_brand_id_sha256")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("checkpoint_file")
    op.drop_table("checkpoint_template")
