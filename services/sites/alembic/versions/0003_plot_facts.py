"""plot facts: allows_social_rent, soft site_factors apart from the hard exclusions, promised_units

Revision ID: 0003
Revises: 0002

geluid and water_risk move from `exclusions` (hard: never used) to `site_factors` (soft: a cost per
home). free_units becomes capacity - reserved - promised, and the CHECK that no plot is overbooked
counts the municipality's promised homes too.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SOFT = "ARRAY['geluid', 'water_risk']::varchar(30)[]"


def upgrade() -> None:
    op.add_column("sites", sa.Column("allows_social_rent", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column(
        "sites", sa.Column("site_factors", postgresql.ARRAY(sa.String(length=30)), server_default="{}", nullable=False)
    )
    op.add_column("sites", sa.Column("promised_units", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        f"""
        UPDATE sites
           SET site_factors = ARRAY(SELECT unnest(exclusions) INTERSECT SELECT unnest({SOFT}) ORDER BY 1),
               exclusions = ARRAY(SELECT unnest(exclusions) EXCEPT SELECT unnest({SOFT}) ORDER BY 1)
         WHERE exclusions && {SOFT}
        """
    )
    op.drop_constraint(op.f("ck_sites_reserved_within_capacity"), "sites", type_="check")
    op.create_check_constraint(
        op.f("ck_sites_reserved_within_capacity"),
        "sites",
        "reserved_units >= 0 AND promised_units >= 0 AND reserved_units + promised_units <= capacity_units",
    )
    # a generated column's expression cannot change in place (before PostgreSQL 17): drop and add it, with its index
    op.drop_index("ix_sites_published_window", table_name="sites", postgresql_where=sa.text("status = 'published'"))
    op.drop_column("sites", "free_units")
    op.add_column(
        "sites",
        sa.Column(
            "free_units", sa.Integer(), sa.Computed("capacity_units - reserved_units - promised_units", persisted=True), nullable=False
        ),
    )
    op.create_index(
        "ix_sites_published_window", "sites", ["available_from", "available_until", "free_units"], unique=False,
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("ix_sites_published_window", table_name="sites", postgresql_where=sa.text("status = 'published'"))
    op.drop_column("sites", "free_units")
    op.add_column(
        "sites", sa.Column("free_units", sa.Integer(), sa.Computed("capacity_units - reserved_units", persisted=True), nullable=False)
    )
    op.create_index(
        "ix_sites_published_window", "sites", ["available_from", "available_until", "free_units"], unique=False,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.drop_constraint(op.f("ck_sites_reserved_within_capacity"), "sites", type_="check")
    op.create_check_constraint(
        op.f("ck_sites_reserved_within_capacity"), "sites", "reserved_units >= 0 AND reserved_units <= capacity_units"
    )
    op.execute("UPDATE sites SET exclusions = ARRAY(SELECT DISTINCT unnest(exclusions || site_factors) ORDER BY 1)")
    op.execute("UPDATE sites SET exclusions = array_remove(exclusions, 'military')")
    op.drop_column("sites", "promised_units")
    op.drop_column("sites", "site_factors")
    op.drop_column("sites", "allows_social_rent")
