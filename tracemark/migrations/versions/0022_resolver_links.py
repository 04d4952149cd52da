"""resolver links and GS1 company prefixes

``brand_prefix``: the GS1 company prefixes a brand holds (each held by one brand), which
its new products' GTINs must fall under.

``resolver_link``: one link per row (GS1 link type, target, titles per locale, language,
media type, default flag, audience), at the GTIN level or one of its qualified levels.

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-06 02:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "brand_prefix",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_brand_prefix_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_prefix")),
        sa.UniqueConstraint("prefix", name=op.f("uq_brand_prefix_prefix")),
    )
    op.create_index(op.f("ix_brand_prefix_brand_id"), "brand_prefix", ["brand_id"], unique=False)
    op.create_table(
        "resolver_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("qualifiers", sa.String(length=200), nullable=False),
        sa.Column("link_type", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("titles", sa.JSON(), nullable=False),
        sa.Column("hreflang", sa.String(length=35), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column(
            "audience",
            sa.Enum(
                "public",
                "regulator",
                "brand",
                name="link_audience",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id", "brand_id"],
            ["product.id", "product.brand_id"],
            name=op.f("fk_resolver_link_product_id_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolver_link")),
    )
    op.create_index(op.f("ix_resolver_link_brand_id"), "resolver_link", ["brand_id"], unique=False)
    op.create_index(
        "ix_resolver_link_level", "resolver_link", ["product_id", "qualifiers"], unique=False
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_resolver_link_level", table_name="resolver_link")
    op.drop_index(op.f("ix_resolver_link_brand_id"), table_name="resolver_link")
    op.drop_table("resolver_link")
    op.drop_index(op.f("ix_brand_prefix_brand_id"), table_name="brand_prefix")
    op.drop_table("brand_prefix")
