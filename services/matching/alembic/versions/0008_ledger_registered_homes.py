"""home ledger: homes of a registered complex are counted before their first placement (state `registered`)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BEFORE = ("in_place", "expiring", "proposed", "agreed", "reserved", "relocation_scheduled", "moved", "in_storage",
          "fallback", "sold", "dismantled")
STATES = ("registered", *BEFORE)


def _known(states: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_home_ledger_known_state"), "home_ledger", type_="check")
    op.create_check_constraint(op.f("ck_home_ledger_known_state"), "home_ledger", f"state IN ({', '.join(repr(s) for s in states)})")


def upgrade() -> None:
    op.alter_column("home_ledger", "placement_id", existing_type=sa.Uuid(), nullable=True)
    op.alter_column("home_ledger", "gemeente_code", existing_type=sa.String(length=6), nullable=True)
    _known(STATES)


def downgrade() -> None:
    op.execute("DELETE FROM home_ledger WHERE state = 'registered'")
    _known(BEFORE)
    op.alter_column("home_ledger", "gemeente_code", existing_type=sa.String(length=6), nullable=False)
    op.alter_column("home_ledger", "placement_id", existing_type=sa.Uuid(), nullable=False)
