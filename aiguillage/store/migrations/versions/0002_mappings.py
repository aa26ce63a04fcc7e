"""Mapping tables: tables (settings, version), entries, unmapped queue + held-message links, audit.

Revision ID: 0002_mappings
Revises: 0001_core
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_mappings"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mapping_tables",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("target_system", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_index("ux_mapping_tables_source_field", "mapping_tables", ["source", "field"], unique=True)
    op.create_table(
        "mapping_entries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("local_key", sa.String(255), nullable=False),
        sa.Column("local_value", sa.String(255), nullable=False),
        sa.Column("target_system", sa.String(255), nullable=False),
        sa.Column("target_code", sa.String(64), nullable=False),
        sa.Column("target_display", sa.String(1024), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ux_mapping_entries_key", "mapping_entries", ["source", "field", "local_key"], unique=True)
    op.create_table(
        "mapping_unmapped",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("local_key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("example_message_id", sa.String(32), nullable=False),
    )
    op.create_index("ux_mapping_unmapped_key", "mapping_unmapped", ["source", "field", "local_key"], unique=True)
    op.create_table(
        "mapping_unmapped_messages",
        sa.Column("unmapped_id", sa.String(32), sa.ForeignKey("mapping_unmapped.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("message_id", sa.String(32), primary_key=True),
    )
    op.create_table(
        "mapping_audit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("local_value", sa.String(255), nullable=False),
        sa.Column("old_system", sa.String(255), nullable=False),
        sa.Column("old_code", sa.String(64), nullable=False),
        sa.Column("old_display", sa.String(1024), nullable=False),
        sa.Column("new_system", sa.String(255), nullable=False),
        sa.Column("new_code", sa.String(64), nullable=False),
        sa.Column("new_display", sa.String(1024), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
    )
    op.create_index("ix_mapping_audit_table", "mapping_audit", ["source", "field", "id"])


def downgrade() -> None:
    op.drop_table("mapping_audit")
    op.drop_table("mapping_unmapped_messages")
    op.drop_table("mapping_unmapped")
    op.drop_table("mapping_entries")
    op.drop_table("mapping_tables")
