"""event plumbing: outbox, inbox, dead letters, idempotency keys

Revision ID: 0001
Revises:
"""

from shared.bus.migration import create_bus_tables, drop_bus_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_bus_tables()


def downgrade() -> None:
    drop_bus_tables()
