"""dead letters: status, last seen, resolved by/at, note; inbox outcome of refusals

Revision ID: 0004
Revises: 0003
"""

from shared.bus.migration import add_dead_letter_handling, drop_dead_letter_handling

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letter_handling()


def downgrade() -> None:
    drop_dead_letter_handling()
