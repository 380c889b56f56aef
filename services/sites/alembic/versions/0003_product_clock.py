"""the product clock this service follows (from inventory.clock.set)

Revision ID: 0003
Revises: 0002
"""

from shared.product_clock import create_clock_table, drop_clock_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_clock_table()


def downgrade() -> None:
    drop_clock_table()
