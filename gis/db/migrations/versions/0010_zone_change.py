"""risk: the change feed of the public zones (issue 15, item 4)

PC-Covid asks `/collections/zones/items?changed-since=V` and syncs the few zones whose level or colour changed since
snapshot version V instead of every zone. Three tables, written only by gis/risk/changes.py in the transaction that
bumps risk.snapshot (a recompute, `covidgis zones publish`):
- `zone_public`: the public current zones (pub.zones semantics: the latest computed day of the published rule set)
  as last recorded — code, level, colour, and the snapshot version that last changed them;
- `zone_change`: per snapshot version, the codes whose public (level, colour) changed in it (NULLs: the area left
  the public zones), kept for the last K versions (COVIDGIS_RISK_CHANGES_KEEP_VERSIONS);
- `zone_feed`: one row, the oldest V the feed can answer (every change after it is kept); an older V is a 410.
The feed starts at the snapshot version this migration finds: `zone_public` is seeded from the current zones.
The public role reads the feed through pub views (layers/_zone_changes.sql), never these tables.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zone_public",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("colour", sa.Text, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        schema="risk",
    )
    op.create_table(
        "zone_change",
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("level", sa.SmallInteger),  # NULL: no longer among the public zones
        sa.Column("colour", sa.Text),
        sa.PrimaryKeyConstraint("version", "code"),
        schema="risk",
    )
    op.create_table(
        "zone_feed",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.true()),
        sa.Column("oldest_version", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id", name="zone_feed_single_row_ck"),
        schema="risk",
    )
    op.execute("INSERT INTO risk.zone_feed (id, oldest_version) SELECT true, version FROM risk.snapshot")
    op.execute(
        """
        INSERT INTO risk.zone_public (code, level, colour, version)
        SELECT z.area_code, z.level, z.colour, s.version
        FROM risk.zone z
        JOIN risk.published p ON p.ruleset_id = z.ruleset_id
        JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day
         AND (a.valid_to IS NULL OR a.valid_to > z.day)
        CROSS JOIN risk.snapshot s
        WHERE z.day = (SELECT max(m.day) FROM risk.zone m WHERE m.ruleset_id = p.ruleset_id)
        ON CONFLICT (code) DO NOTHING
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS pub.zone_changes")
    op.execute("DROP VIEW IF EXISTS pub.zone_feed")
    op.drop_table("zone_feed", schema="risk")
    op.drop_table("zone_change", schema="risk")
    op.drop_table("zone_public", schema="risk")
