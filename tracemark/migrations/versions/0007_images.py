"""images of products and batch stories

One table for pictures (re-encoded bytes with their SHA-256), owned by a product or by a
batch of the same brand; products get the ``(id, brand_id)`` key that ownership needs.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 19:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_product_id_brand_id"), ["id", "brand_id"])

    op.create_table(
        "image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("alt", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "published",
                name="publish_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "(product_id IS NULL) <> (batch_id IS NULL)", name=op.f("ck_image_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id", "brand_id"],
            ["batch.id", "batch.brand_id"],
            name=op.f("fk_image_batch_id_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id", "brand_id"],
            ["product.id", "product.brand_id"],
            name=op.f("fk_image_product_id_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image")),
    )
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_image_product_id"), ["product_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_product_id"))
        batch_op.drop_index(batch_op.f("ix_image_batch_id"))
    op.drop_table("image")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_product_id_brand_id"), type_="unique")
