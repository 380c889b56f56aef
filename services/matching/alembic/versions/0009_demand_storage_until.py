"""demand: inventory's end of the storage period (the solver's deadline for stored homes)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("placements", sa.Column("storage_until", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("placements", "storage_until")
