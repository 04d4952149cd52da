"""trustworthy verdicts: scans apart from views and staff scans, windowed places and
countries, owner devices, per-network PIN budgets

``scan_event.kind``: ``scan``, ``view`` or ``staff`` (existing events are scans).
``unit_scan_state``: ``views``, the clone-risk window (``window_start``, ``places``,
``places_next``, ``countries``, ``countries_next``) and ``owner_devices`` replace the
per-day device/network counters, the country history and the single claiming device
(whose daily hash could not recognise the owner on another day anyway: an owner adds
their device again by entering the PIN). ``pin_attempts``: wrong PINs per unit and client
network.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 21:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DROPPED = (
    ("devices_today", sa.Integer(), "0"),
    ("networks_today", sa.Integer(), "0"),
    ("day", sa.Date(), None),
    ("last_country", sa.String(length=2), None),
    ("last_country_at", sa.DateTime(timezone=True), None),
    ("prev_country", sa.String(length=2), None),
    ("prev_country_at", sa.DateTime(timezone=True), None),
    ("claim_device_hash", sa.String(length=32), None),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("scan_event") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=8), server_default="scan", nullable=False)
        )
    with op.batch_alter_table("unit_scan_state") as batch:
        batch.add_column(sa.Column("views", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("window_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("places", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("places_next", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("countries_next", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("owner_devices", sa.String(length=200), nullable=True))
        for name, _type, _default in _DROPPED:
            batch.drop_column(name)
    # the windowed counts start empty: countries counted "ever" until now
    op.execute("UPDATE unit_scan_state SET countries = 0")
    op.create_table(
        "pin_attempts",
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("network", sa.String(length=32), nullable=False),
        sa.Column("place", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("unit_id", "network", name=op.f("pk_pin_attempts")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("pin_attempts")
    with op.batch_alter_table("unit_scan_state") as batch:
        for name, type_, default in _DROPPED:
            batch.add_column(
                sa.Column(name, type_, server_default=default, nullable=default is None)
            )
        for name in ("owner_devices", "countries_next", "places_next", "places", "window_start",
                     "views"):  # fmt: skip
            batch.drop_column(name)
    with op.batch_alter_table("scan_event") as batch:
        batch.drop_column("kind")
