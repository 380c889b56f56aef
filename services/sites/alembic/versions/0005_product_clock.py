"""the product clock this service follows (from inventory.clock.set)

Revision ID: 0005
Revises: 0004
"""

from shared.product_clock import create_clock_table, drop_clock_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_clock_table()


def downgrade() -> None:
    drop_clock_table()
