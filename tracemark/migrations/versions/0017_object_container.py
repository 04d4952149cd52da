"""objects follow their container on the supply-chain board

``object_place.container``: the container (case, pallet) an object was last packed into,
so that shipping or receiving the container moves what it holds. Rows written before
this revision have none until their object's next packing event.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 05:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("object_place", schema=None) as batch_op:
        batch_op.add_column(sa.Column("container", sa.String(length=300), nullable=True))
        batch_op.create_index("ix_object_place_container", ["brand_id", "container"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("object_place", schema=None) as batch_op:
        batch_op.drop_index("ix_object_place_container")
        batch_op.drop_column("container")
