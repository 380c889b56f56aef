"""inventory domain: complexes, units, placements (no overlapping terms per unit), relocations, clock offset

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # btree_gist lets one exclusion constraint compare a uuid (=) and a date range (&&).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('clock_offset',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_clock_offset_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clock_offset'))
    )
    op.create_table('complexes',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('short_code', sa.String(length=16), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=True),
    sa.Column('unit_count', sa.Integer(), nullable=False),
    sa.Column('typology', sa.String(length=20), nullable=False),
    sa.Column('layers', sa.SmallInteger(), nullable=False),
    sa.Column('floor_area_m2', sa.Float(), nullable=False),
    sa.Column('bedrooms', sa.SmallInteger(), nullable=False),
    sa.Column('modules_per_unit', sa.Float(), nullable=False),
    sa.Column('zelfstandig', sa.Boolean(), nullable=False),
    sa.Column('bbl_level', sa.String(length=20), nullable=False),
    sa.Column('composition_changed', sa.Boolean(), nullable=False),
    sa.Column('rechtens_verkregen_date', sa.Date(), nullable=True),
    sa.Column('beng_compliant', sa.Boolean(), nullable=False),
    sa.Column('energy_label', sa.String(length=5), nullable=True),
    sa.Column('build_year', sa.SmallInteger(), nullable=True),
    sa.Column('technical_lifetime_yr', sa.SmallInteger(), nullable=False),
    sa.Column('depreciation_yr', sa.SmallInteger(), nullable=False),
    sa.Column('build_cost_eur_per_unit', sa.Float(), nullable=True),
    sa.Column('rent_eur_month', sa.Float(), nullable=True),
    sa.Column('min_group_size', sa.Integer(), nullable=False),
    sa.Column('doelgroepen', postgresql.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('rthf', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('sft', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complexes')),
    sa.UniqueConstraint('short_code', name=op.f('uq_complexes_short_code'))
    )
    op.create_index('ix_complexes_investor_org_created', 'complexes', ['investor_org', 'created_at', 'id'], unique=False)
    op.create_table('placements',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('complex_id', sa.UUID(), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('site_id', sa.UUID(), nullable=True),
    sa.Column('gemeente_code', sa.String(length=6), nullable=False),
    sa.Column('province_code', sa.String(length=4), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('instrument', sa.String(length=30), nullable=False),
    sa.Column('permit_reference', sa.String(length=120), nullable=True),
    sa.Column('procedure_weeks', sa.SmallInteger(), nullable=True),
    sa.Column('restore_obligation', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('sequence_no', sa.SmallInteger(), nullable=False),
    sa.Column('unit_count', sa.Integer(), nullable=False),
    sa.Column('relocation_id', sa.UUID(), nullable=True),
    sa.Column('created_by_relocation_id', sa.UUID(), nullable=True),
    sa.Column('expiring_emitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_emitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_placements_term_positive')),
    sa.ForeignKeyConstraint(['complex_id'], ['complexes.id'], name=op.f('fk_placements_complex_id_complexes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements'))
    )
    op.create_index('ix_placements_complex_id', 'placements', ['complex_id'], unique=False)
    op.create_index('ix_placements_end_date_id', 'placements', ['end_date', 'id'], unique=False)
    op.create_index('ix_placements_ended_due', 'placements', ['end_date'], unique=False, postgresql_where=sa.text('ended_emitted_at IS NULL'))
    op.create_index('ix_placements_expiring_due', 'placements', ['end_date'], unique=False, postgresql_where=sa.text('expiring_emitted_at IS NULL'))
    op.create_index('ix_placements_gemeente_code', 'placements', ['gemeente_code'], unique=False)
    op.create_index('ix_placements_investor_org', 'placements', ['investor_org'], unique=False)
    op.create_table('units',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('complex_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['complex_id'], ['complexes.id'], name=op.f('fk_units_complex_id_complexes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('complex_id', 'seq', name='uq_units_complex_seq')
    )
    op.create_table('placement_units',
    sa.Column('placement_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    postgresql.ExcludeConstraint((sa.column('unit_id'), '='), (sa.text("daterange(start_date, end_date, '[)')"), '&&'), using='gist', name='ex_placement_units_no_overlap'),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_placement_units_placement_id_placements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_placement_units_unit_id_units')),
    sa.PrimaryKeyConstraint('placement_id', 'unit_id', name=op.f('pk_placement_units'))
    )
    op.create_index('ix_placement_units_unit_id', 'placement_units', ['unit_id'], unique=False)
    op.create_table('relocations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('reservation_id', sa.UUID(), nullable=False),
    sa.Column('proposal_id', sa.UUID(), nullable=False),
    sa.Column('placement_id', sa.UUID(), nullable=False),
    sa.Column('complex_id', sa.UUID(), nullable=False),
    sa.Column('investor_org', sa.String(length=100), nullable=False),
    sa.Column('gemeente_codes', postgresql.ARRAY(sa.String(length=6)), nullable=False),
    sa.Column('move_window_start', sa.Date(), nullable=False),
    sa.Column('move_window_end', sa.Date(), nullable=False),
    sa.Column('allocations', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('unallocated_unit_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['complex_id'], ['complexes.id'], name=op.f('fk_relocations_complex_id_complexes')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'], name=op.f('fk_relocations_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_relocations')),
    sa.UniqueConstraint('reservation_id', name=op.f('uq_relocations_reservation_id'))
    )
    op.create_index('ix_relocations_investor_org', 'relocations', ['investor_org'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_relocations_investor_org', table_name='relocations')
    op.drop_table('relocations')
    op.drop_index('ix_placement_units_unit_id', table_name='placement_units')
    op.drop_table('placement_units')
    op.drop_table('units')
    op.drop_index('ix_placements_investor_org', table_name='placements')
    op.drop_index('ix_placements_gemeente_code', table_name='placements')
    op.drop_index('ix_placements_expiring_due', table_name='placements', postgresql_where=sa.text('expiring_emitted_at IS NULL'))
    op.drop_index('ix_placements_ended_due', table_name='placements', postgresql_where=sa.text('ended_emitted_at IS NULL'))
    op.drop_index('ix_placements_end_date_id', table_name='placements')
    op.drop_index('ix_placements_complex_id', table_name='placements')
    op.drop_table('placements')
    op.drop_index('ix_complexes_investor_org_created', table_name='complexes')
    op.drop_table('complexes')
    op.drop_table('clock_offset')
