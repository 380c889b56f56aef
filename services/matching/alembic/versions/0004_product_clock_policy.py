"""the product clock this service follows, versioned matching policies, the policy version of proposals and runs

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.product_clock import create_clock_table, drop_clock_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_clock_table()
    op.create_table(
        "policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parameters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_by_org", sa.String(length=200), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_policy_versions")),
    )
    op.add_column("proposals", sa.Column("policy_version", sa.Integer(), nullable=True))
    op.add_column("matching_runs", sa.Column("policy_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("matching_runs", "policy_version")
    op.drop_column("proposals", "policy_version")
    op.drop_table("policy_versions")
    drop_clock_table()
