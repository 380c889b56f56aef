"""read model (complexes, placements, plots), proposals with their allocations, matching runs

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complexes',
    sa.Column('complex_id', sa.Uuid(), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('spec', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('complex_id', name=op.f('pk_complexes'))
    )
    op.create_table('matching_runs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('allow_garantiekavel_override', sa.Boolean(), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('wall_time_s', sa.Double(), nullable=False),
    sa.Column('demand_units', sa.Integer(), nullable=False),
    sa.Column('housed_units', sa.Integer(), nullable=False),
    sa.Column('shortfall_units', sa.Integer(), nullable=False),
    sa.Column('proposals_created', sa.Integer(), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_runs'))
    )
    op.create_index(op.f('ix_matching_runs_created_at'), 'matching_runs', ['created_at'], unique=False)
    op.create_table('placements',
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('complex_id', sa.Uuid(), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('province_code', sa.String(length=4), nullable=True),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('instrument', sa.String(length=40), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('unit_count', sa.Integer(), nullable=False),
    sa.Column('complex_spec', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('demand_status', sa.String(length=20), nullable=False),
    sa.Column('shortfall_units', sa.Integer(), nullable=False),
    sa.Column('excluded_sites', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('declined_allocations', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('placement_id', name=op.f('pk_placements'))
    )
    op.create_index(op.f('ix_placements_complex_id'), 'placements', ['complex_id'], unique=False)
    op.create_index(op.f('ix_placements_demand_status'), 'placements', ['demand_status'], unique=False)
    op.create_index(op.f('ix_placements_investor_org'), 'placements', ['investor_org'], unique=False)
    op.create_table('plots',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('province_code', sa.String(length=4), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('capacity_units', sa.Integer(), nullable=False),
    sa.Column('reserved_units', sa.Integer(), nullable=False),
    sa.Column('snapshot', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_plots'))
    )
    op.create_index(op.f('ix_plots_gemeente_code'), 'plots', ['gemeente_code'], unique=False)
    op.create_index(op.f('ix_plots_status'), 'plots', ['status'], unique=False)
    op.create_table('proposals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('placement_id', sa.Uuid(), nullable=False),
    sa.Column('complex_id', sa.Uuid(), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('unit_count', sa.Integer(), nullable=False),
    sa.Column('shortfall_units', sa.Integer(), nullable=False),
    sa.Column('rung', sa.String(length=20), nullable=False),
    sa.Column('cost', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('binding_constraints', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('alternatives', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('parties', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('acceptances', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('move_window_start', sa.Date(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('run_id', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    op.create_index(op.f('ix_proposals_expires_at'), 'proposals', ['expires_at'], unique=False)
    op.create_index(op.f('ix_proposals_investor_org'), 'proposals', ['investor_org'], unique=False)
    op.create_index(op.f('ix_proposals_placement_id'), 'proposals', ['placement_id'], unique=False)
    op.create_index(op.f('ix_proposals_status'), 'proposals', ['status'], unique=False)
    op.create_index('uq_proposals_open_placement', 'proposals', ['placement_id'], unique=True, postgresql_where=sa.text("status IN ('pending', 'accepted', 'reserved', 'scheduled')"))
    op.create_table('proposal_allocations',
    sa.Column('proposal_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('distance_km', sa.Double(), nullable=False),
    sa.Column('rung', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_allocations_proposal_id_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('proposal_id', 'site_id', name=op.f('pk_proposal_allocations'))
    )
    op.create_index(op.f('ix_proposal_allocations_gemeente_code'), 'proposal_allocations', ['gemeente_code'], unique=False)
    op.create_index(op.f('ix_proposal_allocations_site_id'), 'proposal_allocations', ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_proposal_allocations_site_id'), table_name='proposal_allocations')
    op.drop_index(op.f('ix_proposal_allocations_gemeente_code'), table_name='proposal_allocations')
    op.drop_table('proposal_allocations')
    op.drop_index('uq_proposals_open_placement', table_name='proposals', postgresql_where=sa.text("status IN ('pending', 'accepted', 'reserved', 'scheduled')"))
    op.drop_index(op.f('ix_proposals_status'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_placement_id'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_investor_org'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_expires_at'), table_name='proposals')
    op.drop_table('proposals')
    op.drop_index(op.f('ix_plots_status'), table_name='plots')
    op.drop_index(op.f('ix_plots_gemeente_code'), table_name='plots')
    op.drop_table('plots')
    op.drop_index(op.f('ix_placements_investor_org'), table_name='placements')
    op.drop_index(op.f('ix_placements_demand_status'), table_name='placements')
    op.drop_index(op.f('ix_placements_complex_id'), table_name='placements')
    op.drop_table('placements')
    op.drop_index(op.f('ix_matching_runs_created_at'), table_name='matching_runs')
    op.drop_table('matching_runs')
    op.drop_table('complexes')
