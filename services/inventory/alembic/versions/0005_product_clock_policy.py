"""product clock version (ClockSet ordering) and the followed matching policy

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('clock_offset', sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))
    op.create_table('followed_policy',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('horizon_months', sa.Integer(), nullable=False),
    sa.Column('storage_gap_months', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_followed_policy_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followed_policy'))
    )


def downgrade() -> None:
    op.drop_table('followed_policy')
    op.drop_column('clock_offset', 'version')
