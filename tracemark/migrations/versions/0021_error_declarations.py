"""EPCIS error declarations, and the content of each event to tell a resend from a conflict

``trace_event.content_sha256``: the SHA-256 of the event as captured (without its
``recordTime`` and ``errorDeclaration``), so the same eventID with other content is a
conflict, not a resend; rows captured before this revision have none and are taken as
resends. ``trace_event.error_declared_at`` and ``error_declaration``: the EPCIS error
declaration (declarationTime, reason, correctiveEventIDs) of an event declared in error,
which then stops counting in traces, journeys and boards.

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-06 02:40:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("error_declared_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("error_declaration", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_column("error_declaration")
        batch_op.drop_column("error_declared_at")
        batch_op.drop_column("content_sha256")
