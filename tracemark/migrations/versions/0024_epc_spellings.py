"""every GS1 key in one canonical form, the spelling of capture kept

``trace_event.spellings``: canonical identifier → the spelling the captured event gave it
in (an EPC URN, a Digital Link on another host), where they differ, so an answer can
give the EPC URN with the company prefix length the sender used, or the identifier as
captured (``GS1-EPC-Format``).

Identifiers stored before this revision as written (SSCC, SGLN, PGLN, GRAI, GIAI, GSRN,
GDTI, idpat; only SGTIN and LGTIN were normalised) are rewritten to their canonical
Digital Link in object rows, genealogy edges and the events' parentID, readPoint and
bizLocation, so a query finds them in any spelling. (Their first spelling is not
recorded; malformed ones stay as they were.)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 21:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (table, column) holding identifiers.
_COLUMNS = (
    ("trace_event_object", "epc"),
    ("genealogy_edge", "input_epc"),
    ("genealogy_edge", "output_epc"),
    ("trace_event", "parent_id"),
    ("trace_event", "read_point"),
    ("trace_event", "biz_location"),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spellings", sa.JSON(), nullable=True))
    from tracemark.epcis.identifiers import canonical

    connection = op.get_bind()
    for table_name, column_name in _COLUMNS:
        table = sa.table(table_name, sa.column(column_name, sa.String))
        column = table.c[column_name]
        values = connection.execute(
            sa.select(column)
            .distinct()
            .where(
                sa.or_(
                    column.like("urn:epc:%"),
                    sa.and_(column.like("http%"), column.not_like("https://id.gs1.org/01/%")),
                )
            )
        ).scalars()
        for value in list(values):
            uri = canonical(value).uri
            if uri != value:
                connection.execute(sa.update(table).where(column == value).values({column: uri}))


def downgrade() -> None:
    """Downgrade schema (canonical identifiers stay canonical)."""
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_column("spellings")
