"""DMP push: documents received (dmp_documents) and push traces (dmp_traces).

Revision ID: 0005_dmp
Revises: 0001_core
"""

from alembic import op

revision = "0005_dmp"
down_revision = "0001_core"
branch_labels = ("dmp",)
depends_on = None


def upgrade() -> None:
    from aiguillage.dmp.tables import metadata

    metadata.create_all(op.get_bind())


def downgrade() -> None:
    from aiguillage.dmp.tables import metadata

    metadata.drop_all(op.get_bind())
