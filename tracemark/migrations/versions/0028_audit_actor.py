"""audit log actor

``audit_log.actor``: which door an action came through (``user``, ``token:<prefix>``,
``rule:<id>``, ``cli``, ``system``, ``anonymous``), so an entry written by the integration
API, the CLI or a rule is told apart from a person's without a detail of its own. Earlier
entries get ``user`` when they name a user and stay empty otherwise.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 21:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=64), nullable=True))
    op.execute("UPDATE audit_log SET actor = 'user' WHERE user_id IS NOT NULL")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("actor")
