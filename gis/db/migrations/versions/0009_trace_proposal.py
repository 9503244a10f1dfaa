"""trace: proposals of a narrow lockdown (issue 12, item 7)

`trace.proposal`: per (rule set, day, hamlet), a hamlet holding an exposure venue with at least the rule set's
`lockdown_min_contacts` contacts, or with at least `lockdown_min_f0_residents` F0 residents infectious that day.
Written only by gis/trace/proposals.py; rows are never deleted: a proposal no longer supported gets `withdrawn_at`
(the committee may have adopted it: `covidgis zones override --proposal ID` cites its id). Nothing is applied
automatically. The restricted role reads it (the schema's default privileges, migration 0007).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "proposal",
        # 'P-' || day || '-' || area_code || '-' || ruleset_id: stable, so a re-run updates the same row.
        sa.Column("proposal_id", sa.Text, primary_key=True),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("admin_level", sa.SmallInteger, nullable=False),
        sa.Column("population", sa.Integer),
        # the most contacts at one exposure venue of the hamlet that day; F0 residents infectious that day
        sa.Column("contacts", sa.Integer, nullable=False),
        sa.Column("f0_residents", sa.Integer, nullable=False),
        # exposure venues of the hamlet reaching lockdown_min_contacts; the F0 behind the proposal (visitors of those
        # venues and residents), so a correction of one of them finds the proposal's day again
        sa.Column("venues", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("cases", postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("reasons", postgresql.JSONB, nullable=False),
        sa.Column("created_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("withdrawn_at", TS),
        sa.UniqueConstraint("ruleset_id", "day", "area_code", name="proposal_day_area_uq"),
        schema="trace",
    )
    op.create_index("proposal_cases_idx", "proposal", ["cases"], schema="trace", postgresql_using="gin")


def downgrade() -> None:
    op.drop_table("proposal", schema="trace")
