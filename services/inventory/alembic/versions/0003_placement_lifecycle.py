"""placement lifecycle: state, storage period, RTHF fallback claim, end state, version (ETag)

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATES = (
    "scheduled", "active", "expiring", "relocation_scheduled", "relocated", "in_storage", "fallback",
    "closed_sold", "closed_dismantled",
)


def upgrade() -> None:
    op.add_column('placements', sa.Column('lifecycle', sa.String(length=30), server_default='active', nullable=False))
    op.add_column('placements', sa.Column('storage_since', sa.Date(), nullable=True))
    op.add_column('placements', sa.Column('storage_until', sa.Date(), nullable=True))
    op.add_column('placements', sa.Column('fallback_claim', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('placements', sa.Column('closed_on', sa.Date(), nullable=True))
    op.add_column('placements', sa.Column('close_reason', sa.String(length=500), nullable=True))
    op.add_column('placements', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    # Back-fill from what the rows already say: a plan recorded, the end or the expiry signalled, a follow-up
    # not yet begun on the (demo-moved) clock; follow-ups already begun stay active (no started event for the past).
    # Storage runs until end + 6 months (the default storage gap); the next scan applies the fallback after it.
    op.execute(
        """
        UPDATE placements SET lifecycle = CASE
            WHEN relocation_id IS NOT NULL AND ended_emitted_at IS NOT NULL THEN 'relocated'
            WHEN relocation_id IS NOT NULL THEN 'relocation_scheduled'
            WHEN ended_emitted_at IS NOT NULL THEN 'in_storage'
            WHEN created_by_relocation_id IS NOT NULL
                 AND start_date > current_date + COALESCE((SELECT offset_days FROM clock_offset WHERE id = 1), 0)
                 THEN 'scheduled'
            WHEN expiring_emitted_at IS NOT NULL THEN 'expiring'
            ELSE 'active' END
        """
    )
    op.execute(
        """
        UPDATE placements SET storage_since = end_date, storage_until = (end_date + interval '6 months')::date
        WHERE lifecycle = 'in_storage'
        """
    )
    op.create_check_constraint(
        op.f('ck_placements_lifecycle_known'), 'placements', f"lifecycle IN ({', '.join(repr(s) for s in STATES)})"
    )
    op.create_index('ix_placements_lifecycle', 'placements', ['lifecycle'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_placements_lifecycle', table_name='placements')
    op.drop_constraint(op.f('ck_placements_lifecycle_known'), 'placements', type_='check')
    for column in ('version', 'close_reason', 'closed_on', 'fallback_claim', 'storage_until', 'storage_since', 'lifecycle'):
        op.drop_column('placements', column)
