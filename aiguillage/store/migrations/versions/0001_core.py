"""Core tables: messages, outbox, api_clients.

Revision ID: 0001_core
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_codes", sa.String(1024), nullable=False),
        sa.Column("error_text", sa.String(4000), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("message_type", sa.String(32), nullable=False),
        sa.Column("control_id", sa.String(199), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("correlation_key", sa.String(255), nullable=True),
        sa.Column("response", sa.LargeBinary(), nullable=True),
        sa.Column("meta", sa.String(8000), nullable=False),
    )
    op.create_index("ix_messages_status_received", "messages", ["status", "received_at"])
    op.create_index("ix_messages_channel_received", "messages", ["channel", "received_at"])
    op.create_index("ix_messages_correlation_key", "messages", ["correlation_key"])
    op.create_index(
        "ux_messages_dedupe",
        "messages",
        ["channel", "dedupe_key"],
        unique=True,
        sqlite_where=sa.text("dedupe_key IS NOT NULL"),
        postgresql_where=sa.text("dedupe_key IS NOT NULL"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("key", sa.String(255), nullable=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(1024), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_clients")
    op.drop_table("outbox")
    op.drop_table("messages")
