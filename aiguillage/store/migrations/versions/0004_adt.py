"""ADT projection: adt_patients (JSON state), adt_events (per-patient log), adt_stays, adt_movements.

Revision ID: 0004_adt
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_adt"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adt_patients",
        sa.Column("patient_key", sa.String(255), primary_key=True),
        sa.Column("merged_into", sa.String(255), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("moved_stays", sa.Text(), nullable=False),
        sa.Column("last_order", sa.String(255), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_adt_patients_merged_into", "adt_patients", ["merged_into"])
    op.create_table(
        "adt_events",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("patient_key", sa.String(255), nullable=False),
        sa.Column("stay_value", sa.String(255), nullable=True),
        sa.Column("order_key", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(8), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_adt_events_patient_order", "adt_events", ["patient_key", "order_key"])
    op.create_table(
        "adt_stays",
        sa.Column("stay_key", sa.String(255), primary_key=True),
        sa.Column("patient_key", sa.String(255), nullable=False),
        sa.Column("visit_number", sa.String(255), nullable=False),
        sa.Column("patient_class", sa.String(8), nullable=False),
        sa.Column("uf_hebergement", sa.String(64), nullable=False),
        sa.Column("uf_medicale", sa.String(64), nullable=False),
        sa.Column("uf_soins", sa.String(64), nullable=False),
        sa.Column("current_movement", sa.String(255), nullable=False),
        sa.Column("admit_at", sa.DateTime(), nullable=True),
        sa.Column("discharge_at", sa.DateTime(), nullable=True),
        sa.Column("discharged", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("ins_trusted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_adt_stays_patient_key", "adt_stays", ["patient_key"])
    op.create_index("ix_adt_stays_admit_discharge", "adt_stays", ["admit_at", "discharge_at"])
    op.create_table(
        "adt_movements",
        sa.Column("stay_key", sa.String(255), primary_key=True),
        sa.Column("movement_id", sa.String(255), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(8), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("patient_class", sa.String(8), nullable=False),
        sa.Column("uf_hebergement", sa.String(64), nullable=False),
        sa.Column("uf_medicale", sa.String(64), nullable=False),
        sa.Column("uf_soins", sa.String(64), nullable=False),
        sa.Column("nature", sa.String(8), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("historic", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("adt_movements")
    op.drop_table("adt_stays")
    op.drop_table("adt_events")
    op.drop_table("adt_patients")
