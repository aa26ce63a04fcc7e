"""ROR exposure store: resources (JSON), history and search index tables.

Revision ID: 0003_ror
Revises: 0001_core
"""

from alembic import op

revision = "0003_ror"
down_revision = "0001_core"
branch_labels = ("ror",)
depends_on = None


def upgrade() -> None:
    from aiguillage.ror.tables import metadata

    bind = op.get_bind()
    metadata.create_all(bind)


def downgrade() -> None:
    from aiguillage.ror.tables import metadata

    metadata.drop_all(op.get_bind())
