"""plots (sites) with availability windows, capacity reservations and their lines

Revision ID: 0002
Revises: 0001

The CHECK reserved_units <= capacity_units is the database's guarantee that no plot is
ever overbooked; the partial indexes serve the free-capacity-at-date and distance queries.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reservations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('proposal_id', sa.UUID(), nullable=False),
    sa.Column('placement_id', sa.UUID(), nullable=False),
    sa.Column('complex_id', sa.UUID(), nullable=False),
    sa.Column('investor_org', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('move_window_start', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('confirmed', 'rejected', 'released')", name=op.f('ck_reservations_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_reservations_proposal_id'))
    )
    op.create_index('ix_reservations_created_at_id', 'reservations', ['created_at', 'id'], unique=False)
    op.create_table('sites',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('province_code', sa.String(length=4), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('lat', sa.Double(), nullable=False),
    sa.Column('lon', sa.Double(), nullable=False),
    sa.Column('rd_x', sa.Double(), nullable=False),
    sa.Column('rd_y', sa.Double(), nullable=False),
    sa.Column('boundary', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('area_ha', sa.Double(), nullable=True),
    sa.Column('capacity_units', sa.Integer(), nullable=False),
    sa.Column('reserved_units', sa.Integer(), server_default='0', nullable=False),
    sa.Column('free_units', sa.Integer(), sa.Computed('capacity_units - reserved_units', persisted=True), nullable=False),
    sa.Column('available_from', sa.Date(), nullable=False),
    sa.Column('available_until', sa.Date(), nullable=True),
    sa.Column('expected_instrument', sa.String(length=30), nullable=False),
    sa.Column('min_term_years', sa.Double(), nullable=False),
    sa.Column('max_layers', sa.Integer(), nullable=False),
    sa.Column('allows_tijdelijk_bbl', sa.Boolean(), nullable=False),
    sa.Column('allows_permanent', sa.Boolean(), nullable=False),
    sa.Column('doelgroep_restrictions', postgresql.ARRAY(sa.String(length=30)), nullable=False),
    sa.Column('social_rent_only', sa.Boolean(), nullable=False),
    sa.Column('bouwrijp', sa.Boolean(), nullable=False),
    sa.Column('utility_water', sa.Boolean(), nullable=False),
    sa.Column('utility_electricity', sa.Boolean(), nullable=False),
    sa.Column('utility_sewer', sa.Boolean(), nullable=False),
    sa.Column('utility_heat', sa.Boolean(), nullable=False),
    sa.Column('exclusions', postgresql.ARRAY(sa.String(length=30)), nullable=False),
    sa.Column('dist_ov_m', sa.Double(), nullable=True),
    sa.Column('dist_shops_m', sa.Double(), nullable=True),
    sa.Column('cluster_id', sa.String(length=100), nullable=True),
    sa.Column('vaste_kern_units', sa.Integer(), nullable=True),
    sa.Column('reserved_until', sa.Date(), nullable=True),
    sa.Column('location_may_shift', sa.Boolean(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name=op.f('ck_sites_status_known')),
    sa.CheckConstraint('available_until IS NULL OR available_until >= available_from', name=op.f('ck_sites_window_order')),
    sa.CheckConstraint('capacity_units > 0', name=op.f('ck_sites_capacity_positive')),
    sa.CheckConstraint('max_layers BETWEEN 1 AND 6', name=op.f('ck_sites_max_layers_range')),
    sa.CheckConstraint('reserved_units >= 0 AND reserved_units <= capacity_units', name=op.f('ck_sites_reserved_within_capacity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites'))
    )
    op.create_index('ix_sites_created_at_id', 'sites', ['created_at', 'id'], unique=False)
    op.create_index('ix_sites_gemeente_code', 'sites', ['gemeente_code'], unique=False)
    op.create_index('ix_sites_province_code', 'sites', ['province_code'], unique=False)
    op.create_index('ix_sites_published_lat_lon', 'sites', ['lat', 'lon'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_sites_published_window', 'sites', ['available_from', 'available_until', 'free_units'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_table('reservation_lines',
    sa.Column('reservation_id', sa.UUID(), nullable=False),
    sa.Column('site_id', sa.UUID(), nullable=False),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.CheckConstraint('units > 0', name=op.f('ck_reservation_lines_units_positive')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_reservation_lines_reservation_id_reservations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('reservation_id', 'site_id', name=op.f('pk_reservation_lines'))
    )
    op.create_index('ix_reservation_lines_gemeente_code', 'reservation_lines', ['gemeente_code'], unique=False)
    op.create_index('ix_reservation_lines_site_id', 'reservation_lines', ['site_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reservation_lines_site_id', table_name='reservation_lines')
    op.drop_index('ix_reservation_lines_gemeente_code', table_name='reservation_lines')
    op.drop_table('reservation_lines')
    op.drop_index('ix_sites_published_window', table_name='sites', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('ix_sites_published_lat_lon', table_name='sites', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('ix_sites_province_code', table_name='sites')
    op.drop_index('ix_sites_gemeente_code', table_name='sites')
    op.drop_index('ix_sites_created_at_id', table_name='sites')
    op.drop_table('sites')
    op.drop_index('ix_reservations_created_at_id', table_name='reservations')
    op.drop_table('reservations')
