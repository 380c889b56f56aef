"""home ledger; remainders (committed units) and storage on the demand; one *pending* proposal per placement

The ledger starts empty: fill it from the stream with `python -m services.matching.app.readmodel.rebuild`.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATES = ("in_place", "expiring", "proposed", "agreed", "reserved", "relocation_scheduled", "moved", "in_storage",
          "fallback", "sold", "dismantled")


def upgrade() -> None:
    op.create_table(
        "home_ledger",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("complex_id", sa.Uuid(), nullable=False),
        sa.Column("investor_org", sa.String(length=100), nullable=False),
        sa.Column("gemeente_code", sa.String(length=6), nullable=False),
        sa.Column("province_code", sa.String(length=4), nullable=True),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=True),
        sa.Column("proposal_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})", name=op.f("ck_home_ledger_known_state")),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_home_ledger")),
    )
    for column in ("placement_id", "complex_id", "investor_org", "gemeente_code", "province_code", "proposal_id", "state"):
        op.create_index(op.f(f"ix_home_ledger_{column}"), "home_ledger", [column], unique=False)
    op.add_column("placements", sa.Column("committed_units", sa.Integer(), server_default="0", nullable=False))
    op.add_column("placements", sa.Column("storage_since", sa.Date(), nullable=True))
    # Parts already committed: the homes housed by accepted/reserved/scheduled proposals.
    op.execute(
        "UPDATE placements SET committed_units = c.housed FROM ("
        " SELECT placement_id, sum(unit_count - shortfall_units) AS housed FROM proposals"
        " WHERE status IN ('accepted', 'reserved', 'scheduled') GROUP BY placement_id"
        ") AS c WHERE placements.placement_id = c.placement_id"
    )
    op.drop_index("uq_proposals_open_placement", table_name="proposals",
                  postgresql_where=sa.text("status IN ('pending', 'accepted', 'reserved', 'scheduled')"))
    op.create_index("uq_proposals_pending_placement", "proposals", ["placement_id"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index("uq_proposals_pending_placement", table_name="proposals", postgresql_where=sa.text("status = 'pending'"))
    op.create_index("uq_proposals_open_placement", "proposals", ["placement_id"], unique=True,
                    postgresql_where=sa.text("status IN ('pending', 'accepted', 'reserved', 'scheduled')"))
    op.drop_column("placements", "storage_since")
    op.drop_column("placements", "committed_units")
    for column in ("placement_id", "complex_id", "investor_org", "gemeente_code", "province_code", "proposal_id", "state"):
        op.drop_index(op.f(f"ix_home_ledger_{column}"), table_name="home_ledger")
    op.drop_table("home_ledger")
