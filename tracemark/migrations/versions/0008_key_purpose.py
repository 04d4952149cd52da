"""key purpose

A signing key signs unit codes or provenance statements, never both. Existing keys sign
codes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 19:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sa.Enum(
                    "code",
                    "statement",
                    name="key_purpose",
                    native_enum=False,
                    create_constraint=False,
                    length=16,
                ),
                server_default="code",
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_signing_key_key_purpose"), "purpose IN ('code', 'statement')"
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("signing_key", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_signing_key_key_purpose"), type_="check")
        batch_op.drop_column("purpose")
