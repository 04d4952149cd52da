"""rules and outbox

A brand's declarative rules, the firing of a rule on an event, the outbox of e-mails and
webhooks a firing sends, and the brand's notification language.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 00:49:57.438084

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("template_key", sa.String(length=100), nullable=True),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column(
            "operator",
            sa.Enum(
                "eq",
                "ne",
                "lt",
                "le",
                "gt",
                "ge",
                "in",
                "contains",
                "failed",
                "excursion",
                "present",
                name="rule_operator",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.String(length=500), nullable=True),
        sa.Column("biz_step", sa.String(length=64), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_rule_brand_id_brand"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule")),
        sa.UniqueConstraint("brand_id", "name", name=op.f("uq_rule_brand_id_name")),
        sa.UniqueConstraint("id", "brand_id", name=op.f("uq_rule_id_brand_id")),
    )
    op.create_table(
        "rule_firing",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_rule_firing_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "brand_id"],
            ["trace_event.id", "trace_event.brand_id"],
            name=op.f("fk_rule_firing_event_id_trace_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["rule.id"], name=op.f("fk_rule_firing_rule_id_rule"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_firing")),
        sa.UniqueConstraint("rule_id", "event_id", name=op.f("uq_rule_firing_rule_id_event_id")),
    )
    with op.batch_alter_table("rule_firing", schema=None) as batch_op:
        batch_op.create_index("ix_rule_firing_brand_id_id", ["brand_id", "id"], unique=False)
        batch_op.create_index("ix_rule_firing_event", ["event_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("firing_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "webhook",
                name="message_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "dead",
                name="message_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_outbox_message_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["firing_id"],
            ["rule_firing.id"],
            name=op.f("fk_outbox_message_firing_id_rule_firing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_message_dedupe_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_brand_id_id", ["brand_id", "id"], unique=False)
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_message_firing_id"), ["firing_id"], unique=False
        )

    with op.batch_alter_table("brand", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("brand", schema=None) as batch_op:
        batch_op.drop_column("locale")

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_firing_id"))
        batch_op.drop_index("ix_outbox_message_due")
        batch_op.drop_index("ix_outbox_message_brand_id_id")

    op.drop_table("outbox_message")
    with op.batch_alter_table("rule_firing", schema=None) as batch_op:
        batch_op.drop_index("ix_rule_firing_event")
        batch_op.drop_index("ix_rule_firing_brand_id_id")

    op.drop_table("rule_firing")
    op.drop_table("rule")
