"""Drop the index on messages.correlation_key.

Nothing filters on the bus key (it is only read back with its row), and a random-keyed index costs
every intake commit one more B-tree page written to the WAL and to the database file.

Revision ID: 0006_messages_correlation_index
Revises: 0001_core
"""

from alembic import op

revision = "0006_messages_correlation_index"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_messages_correlation_key", table_name="messages")


def downgrade() -> None:
    op.create_index("ix_messages_correlation_key", "messages", ["correlation_key"])
