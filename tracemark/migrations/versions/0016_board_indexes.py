"""quality and supply-chain boards

The tables the quality and supply-chain boards read (first inspections, defects per
day, where each object is, sensor excursions), kept from new trace events behind a
watermark; when a batch's status last changed; an index on batches by status.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 01:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_since", _TIME, nullable=True))
        batch_op.create_index("ix_batch_brand_status", ["brand_id", "status"], unique=False)
    op.create_table(
        "inspection_first",
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subject_id", _BIG, nullable=False),
        sa.Column("event_id", _BIG, nullable=False),
        sa.Column("first_at", _TIME, nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("product_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("line", sa.String(length=100), server_default="", nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("brand_id", "kind", "subject_id", name=op.f("pk_inspection_first")),
    )
    op.create_index(
        "ix_inspection_first_time", "inspection_first", ["brand_id", "kind", "first_at"]
    )
    op.create_table(
        "defect_day",
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=100), nullable=False),
        sa.Column("defect", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(
            "brand_id", "day", "product_id", "line", "defect", name=op.f("pk_defect_day")
        ),
    )
    op.create_table(
        "object_place",
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("epc", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=300), server_default="", nullable=False),
        sa.Column("since", _TIME, nullable=False),
        sa.Column("event_id", _BIG, nullable=False),
        sa.Column("event_time", _TIME, nullable=False),
        sa.Column("product_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("brand_id", "epc", name=op.f("pk_object_place")),
    )
    op.create_index(
        "ix_object_place_state", "object_place", ["brand_id", "state", "site_id", "since"]
    )
    op.create_table(
        "sensor_excursion",
        sa.Column("id", _BIG, autoincrement=False, nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("event_id", _BIG, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("location", sa.String(length=300), server_default="", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Integer(), server_default="0", nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=8), nullable=True),
        sa.Column("exception", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_excursion")),
    )
    op.create_index("ix_sensor_excursion_time", "sensor_excursion", ["brand_id", "at"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_sensor_excursion_time", table_name="sensor_excursion")
    op.drop_table("sensor_excursion")
    op.drop_index("ix_object_place_state", table_name="object_place")
    op.drop_table("object_place")
    op.drop_table("defect_day")
    op.drop_index("ix_inspection_first_time", table_name="inspection_first")
    op.drop_table("inspection_first")
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_brand_status")
        batch_op.drop_column("status_since")
