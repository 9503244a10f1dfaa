"""care: criterion 3 computed per province and district (issue 13)

`care.capacity` holds, per (day, area_code), the verdict of Decision 4800's criterion 3 as gis/care/capacity.py
evaluates it from what care knows (facilities by tier, staffed beds of the rooms feed, occupancy replayed from
admissions at the end of the day) and the sub-criteria of gis/care/rulesets/vn-4800-capacity-2021.yml: each one's
value, verdict (met, not_met, not_assessed) and reason in `criteria`. The indicator treatment_capacity_met of a
unit served by an area with a row that day reads `met` (gis/stats/sql/indicators.sql).
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE care.capacity (
            day date NOT NULL,
            area_code text NOT NULL,
            admin_level smallint NOT NULL CHECK (admin_level IN (1, 2)),  -- province or district
            met boolean NOT NULL,           -- every assessed sub-criterion met (criterion3.combination: all)
            criteria jsonb NOT NULL,        -- [{id, scope, value, verdict, reason_vi, reason_en, status}, ...]
            ruleset text NOT NULL,          -- the capacity rule file id (version)
            computed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (day, area_code)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE care.capacity")
