"""scan rollups

The scan event's device class, the per-day scan rollup the analytics boards read, the
rollup watermark, and an index on claim times (partial: scans never write to it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 19:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTS = (
    "scans",
    "first_scans",
    "repeat_scans",
    "suspicious",
    "not_genuine",
    "withheld",
    "claims",
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("scan_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device_class", sa.String(length=8), nullable=True))
    op.create_table(
        "scan_rollup",
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in _COUNTS),
        sa.PrimaryKeyConstraint(
            "brand_id", "dimension", "day", "product_id", "value", name=op.f("pk_scan_rollup")
        ),
    )
    op.create_table(
        "rollup_watermark",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column(
            "last_event_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            server_default="0",
            nullable=False,
        ),
        sa.Column("claims_from", sa.Date(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_watermark")),
    )
    with op.batch_alter_table("unit_scan_state", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unit_scan_state_claimed_at",
            ["claimed_at"],
            unique=False,
            postgresql_where=sa.text("claimed_at IS NOT NULL"),
            sqlite_where=sa.text("claimed_at IS NOT NULL"),
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("unit_scan_state", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_unit_scan_state_claimed_at",
            postgresql_where=sa.text("claimed_at IS NOT NULL"),
            sqlite_where=sa.text("claimed_at IS NOT NULL"),
        )
    op.drop_table("rollup_watermark")
    op.drop_table("scan_rollup")
    with op.batch_alter_table("scan_event", schema=None) as batch_op:
        batch_op.drop_column("device_class")
