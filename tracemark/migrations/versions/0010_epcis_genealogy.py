"""EPCIS 2.0 events, suppliers and material lots, genealogy

Trace events gain the EPCIS fields (eventID unique per brand, action, readPoint,
bizLocation, parentID, transformationID, sources, destinations) and may stand for no
single batch; their objects, genealogy edges and sensor readings are child tables keyed
by ``(event, brand)``. Sites gain the location identifier events name them by.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 19:17:51.685314

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # the unique (id, brand_id) must exist before the child tables' keys refer to it
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("action", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("read_point", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("biz_location", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("transformation_id", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("sources", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("destinations", sa.JSON(), nullable=True))
        batch_op.alter_column("batch_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f("uq_trace_event_brand_id_event_id"), ["brand_id", "event_id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_trace_event_id_brand_id"), ["id", "brand_id"]
        )

    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("party_id", sa.String(length=300), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_supplier_brand_id_brand"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("brand_id", "name", name=op.f("uq_supplier_brand_id_name")),
        sa.UniqueConstraint("id", "brand_id", name=op.f("uq_supplier_id_brand_id")),
    )
    op.create_table(
        "material_lot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("material", sa.String(length=200), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("lot_number", sa.String(length=20), nullable=False),
        sa.Column("epc_class", sa.String(length=300), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "released",
                "on_hold",
                "rejected",
                "recalled",
                name="lot_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brand.id"],
            name=op.f("fk_material_lot_brand_id_brand"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id", "brand_id"],
            ["supplier.id", "supplier.brand_id"],
            name=op.f("fk_material_lot_supplier_id_supplier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_lot")),
        sa.UniqueConstraint(
            "brand_id", "epc_class", name=op.f("uq_material_lot_brand_id_epc_class")
        ),
        sa.UniqueConstraint("id", "brand_id", name=op.f("uq_material_lot_id_brand_id")),
    )
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_material_lot_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "genealogy_edge",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("input_epc", sa.String(length=300), nullable=False),
        sa.Column("output_epc", sa.String(length=300), nullable=False),
        sa.Column("input_quantity", sa.Float(), nullable=True),
        sa.Column("input_uom", sa.String(length=8), nullable=True),
        sa.Column("output_quantity", sa.Float(), nullable=True),
        sa.Column("output_uom", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id", "brand_id"],
            ["trace_event.id", "trace_event.brand_id"],
            name=op.f("fk_genealogy_edge_event_id_trace_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_genealogy_edge")),
    )
    with op.batch_alter_table("genealogy_edge", schema=None) as batch_op:
        batch_op.create_index("ix_genealogy_edge_event", ["event_id"], unique=False)
        batch_op.create_index(
            "ix_genealogy_edge_input", ["brand_id", "input_epc", "output_epc"], unique=False
        )
        batch_op.create_index(
            "ix_genealogy_edge_output", ["brand_id", "output_epc", "input_epc"], unique=False
        )

    op.create_table(
        "sensor_reading",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("min_value", sa.Float(), nullable=True),
        sa.Column("max_value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=8), nullable=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_id", sa.String(length=300), nullable=True),
        sa.Column("exception", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id", "brand_id"],
            ["trace_event.id", "trace_event.brand_id"],
            name=op.f("fk_sensor_reading_event_id_trace_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sensor_reading")),
    )
    with op.batch_alter_table("sensor_reading", schema=None) as batch_op:
        batch_op.create_index("ix_sensor_reading_event", ["event_id"], unique=False)

    op.create_table(
        "trace_event_object",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("epc", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=8), nullable=True),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("lot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id", "brand_id"],
            ["batch.id", "batch.brand_id"],
            name=op.f("fk_trace_event_object_batch_id_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id", "brand_id"],
            ["trace_event.id", "trace_event.brand_id"],
            name=op.f("fk_trace_event_object_event_id_trace_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id", "brand_id"],
            ["material_lot.id", "material_lot.brand_id"],
            name=op.f("fk_trace_event_object_lot_id_material_lot"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_event_object")),
    )
    with op.batch_alter_table("trace_event_object", schema=None) as batch_op:
        batch_op.create_index("ix_trace_event_object_batch", ["batch_id"], unique=False)
        batch_op.create_index("ix_trace_event_object_epc", ["brand_id", "epc"], unique=False)
        batch_op.create_index("ix_trace_event_object_event", ["event_id"], unique=False)
        batch_op.create_index("ix_trace_event_object_lot", ["lot_id"], unique=False)
        batch_op.create_index("ix_trace_event_object_unit", ["unit_id"], unique=False)

    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location_id", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_site_brand_id_location_id"), ["brand_id", "location_id"]
        )

    # ### end Alembic commands ###


def downgrade() -> None:
    """Downgrade schema."""
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_site_brand_id_location_id"), type_="unique")
        batch_op.drop_column("location_id")

    with op.batch_alter_table("trace_event_object", schema=None) as batch_op:
        batch_op.drop_index("ix_trace_event_object_unit")
        batch_op.drop_index("ix_trace_event_object_lot")
        batch_op.drop_index("ix_trace_event_object_event")
        batch_op.drop_index("ix_trace_event_object_epc")
        batch_op.drop_index("ix_trace_event_object_batch")

    op.drop_table("trace_event_object")
    with op.batch_alter_table("sensor_reading", schema=None) as batch_op:
        batch_op.drop_index("ix_sensor_reading_event")

    op.drop_table("sensor_reading")
    with op.batch_alter_table("genealogy_edge", schema=None) as batch_op:
        batch_op.drop_index("ix_genealogy_edge_output")
        batch_op.drop_index("ix_genealogy_edge_input")
        batch_op.drop_index("ix_genealogy_edge_event")

    op.drop_table("genealogy_edge")
    with op.batch_alter_table("material_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_lot_supplier_id"))

    op.drop_table("material_lot")
    op.drop_table("supplier")
    # events of no single batch have no place in the old schema
    op.execute("DELETE FROM trace_event WHERE batch_id IS NULL")
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_trace_event_id_brand_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_trace_event_brand_id_event_id"), type_="unique")
        batch_op.alter_column("batch_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("destinations")
        batch_op.drop_column("sources")
        batch_op.drop_column("transformation_id")
        batch_op.drop_column("parent_id")
        batch_op.drop_column("biz_location")
        batch_op.drop_column("read_point")
        batch_op.drop_column("action")
        batch_op.drop_column("event_id")

    # ### end Alembic commands ###
