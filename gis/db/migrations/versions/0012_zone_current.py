"""risk: the masked numbers of the public current zones, kept per snapshot (issue 15, item 5)

pub.zones computed its masked columns (`details_suppressed`, `decisive`, `reasons`: layers/_published_numbers.sql)
for every row it answered, ~0.4 s per 1,000 hamlets. `zone_current` holds them, computed once when a snapshot
changes (gis/risk/changes.py, in the transaction that bumps risk.snapshot), one row per current public zone, with
what they were computed from: the row versions (xmin) of the zone, of its stats.indicator row and of risk.published.
pub.zones (layers/zones.sql) takes a row's stored values only while all three are the ones it reads, and computes
them as before otherwise (a writer that bypassed the recompute, a dump restored, this migration before the first
recompute): a stale value is never shown. The public role cannot read it (schema risk).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


class Xid(sa.types.UserDefinedType):
    """PostgreSQL's transaction id type, the type of a row's xmin."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid"


def upgrade() -> None:
    op.create_table(
        "zone_current",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("zone_xmin", Xid, nullable=False),
        sa.Column("indicator_xmin", Xid),  # NULL: the zone had no stats.indicator row
        sa.Column("published_xmin", Xid, nullable=False),
        sa.Column("details_suppressed", sa.Boolean, nullable=False),
        sa.Column("decisive", postgresql.JSONB, nullable=False),
        sa.Column("reasons", postgresql.JSONB, nullable=False),
        schema="risk",
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS pub.zones")  # reads the table; the layers of the revision re-create it
    op.drop_table("zone_current", schema="risk")
