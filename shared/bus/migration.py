"""Migration steps for the event plumbing tables (see shared.bus.tables).

Every stateful service's first revision calls these, so the three histories
create the same outbox / inbox / dead-letter / idempotency tables.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def create_bus_tables() -> None:
    op.create_table('dead_letters',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('consumer', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.String(length=120), nullable=True),
    sa.Column('subject', sa.String(length=250), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dead_letters'))
    )
    op.create_table('idempotency_keys',
    sa.Column('principal', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('principal', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('outbox',
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.String(length=120), nullable=False),
    sa.Column('aggregate_id', sa.String(length=120), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stream_seq', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_outbox')),
    sa.UniqueConstraint('event_id', name=op.f('uq_outbox_event_id'))
    )
    op.create_index('ix_outbox_published_at', 'outbox', ['published_at'], unique=False)
    op.create_index('ix_outbox_unpublished', 'outbox', ['seq'], unique=False, postgresql_where=sa.text('published_at IS NULL'))
    op.create_table('processed_events',
    sa.Column('consumer', sa.String(length=120), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('event_type', sa.String(length=120), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('consumer', 'event_id', name=op.f('pk_processed_events'))
    )



def add_dead_letter_handling() -> None:
    """Dead letters get a status (open / retried / resolved) and who resolved them; the inbox an outcome."""
    op.add_column('dead_letters', sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False))
    op.add_column('dead_letters', sa.Column('status', sa.String(length=12), server_default='open', nullable=False))
    op.add_column('dead_letters', sa.Column('resolved_by', sa.String(length=200), nullable=True))
    op.add_column('dead_letters', sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('dead_letters', sa.Column('note', sa.Text(), nullable=True))
    op.execute("UPDATE dead_letters SET last_seen_at = created_at")
    op.create_check_constraint(op.f('ck_dead_letters_status_known'), 'dead_letters', "status IN ('open', 'retried', 'resolved')")
    op.create_index('ix_dead_letters_open', 'dead_letters', ['id'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.add_column('processed_events', sa.Column('outcome', sa.String(length=20), nullable=True))
    op.add_column('processed_events', sa.Column('detail', sa.Text(), nullable=True))


def drop_dead_letter_handling() -> None:
    op.drop_column('processed_events', 'detail')
    op.drop_column('processed_events', 'outcome')
    op.drop_index('ix_dead_letters_open', table_name='dead_letters', postgresql_where=sa.text("status = 'open'"))
    op.drop_constraint(op.f('ck_dead_letters_status_known'), 'dead_letters', type_='check')
    for column in ('note', 'resolved_at', 'resolved_by', 'status', 'last_seen_at'):
        op.drop_column('dead_letters', column)


def drop_bus_tables() -> None:
    op.drop_table('processed_events')
    op.drop_index('ix_outbox_unpublished', table_name='outbox', postgresql_where=sa.text('published_at IS NULL'))
    op.drop_index('ix_outbox_published_at', table_name='outbox')
    op.drop_table('outbox')
    op.drop_table('idempotency_keys')
    op.drop_table('dead_letters')

