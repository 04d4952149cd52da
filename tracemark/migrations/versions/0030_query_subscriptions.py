"""query subscriptions

``saved_query`` (a brand's named EPCIS queries) and ``query_subscription`` (a webhook
that receives, signed, the new events matching one), see tracemark.trace.subscriptions.

Revision ID: 0030
Revises: 0028
Create Date: 2026-12-06 22:18:45.192787

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0030"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "saved_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_saved_query_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_query")),
        sa.UniqueConstraint("brand_id", "name", name=op.f("uq_saved_query_brand_id_name")),
    )
    op.create_table(
        "query_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("dest", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_query_subscription_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["saved_query.id"],
            name=op.f("fk_query_subscription_query_id_saved_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_query_subscription")),
    )
    with op.batch_alter_table("query_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_query_subscription_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_query_subscription_query_id"), ["query_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("query_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_query_subscription_query_id"))
        batch_op.drop_index(batch_op.f("ix_query_subscription_brand_id"))

    op.drop_table("query_subscription")
    op.drop_table("saved_query")
