"""rematch requests: re-solves asked for by the event fold, served by the background matcher

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rematch_requests",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rematch_requests")),
    )


def downgrade() -> None:
    op.drop_table("rematch_requests")
