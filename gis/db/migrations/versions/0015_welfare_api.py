"""welfare: officers' scope (serve.api_key.area_code) and the roles `welfare` and `hotline` (issue 14, slice 2)

A `welfare` officer's key carries the commune or district (area code) they work in: the delivery API records only
for households of that area (an officer of commune A cannot record in commune B). `hotline` operators (the 1022
line) get their role here too, so both stages rely on one check of serve.api_key.role.

The household view is rewritten: its head and member count were two correlated subqueries per household over
events.households (eligibility of 1 M households took 256 s); they are now one grouped pass joined back, with the
same rows (a look-up of one household still reads only that household's rows: the filter is pushed down).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = "role IN ('analyst', 'committee', 'tracer')"
AFTER = "role IN ('analyst', 'committee', 'tracer', 'welfare', 'hotline')"


FLAGS = ("poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household")
HOUSEHOLD_VIEW = f"""
CREATE OR REPLACE VIEW welfare.household AS
-- One row per household: its head's row (else its latest row) gives hamlet, commune, size, address and flags; its
-- head's key (latest batch) and its members who have not left come from one grouped pass.
SELECT DISTINCT ON (h.household_id)
    h.household_id, h.area_code, h.commune_code, h.size, h.address,
    {", ".join(f"h.{f}" for f in FLAGS)},
    g.head_person_key, g.members
FROM events.households h
JOIN (
    SELECT x.household_id,
           (array_agg(x.person_key ORDER BY x.batch_id DESC) FILTER (WHERE x.role = 'head'))[1] AS head_person_key,
           (count(*) FILTER (WHERE x.role IS DISTINCT FROM 'left'))::int AS members
    FROM events.households x
    GROUP BY x.household_id
) g ON g.household_id = h.household_id
WHERE h.role IS DISTINCT FROM 'left'
ORDER BY h.household_id, (h.role = 'head') DESC, h.batch_id DESC, h.person_key
"""

HOUSEHOLD_VIEW_0014 = f"""
CREATE OR REPLACE VIEW welfare.household AS
SELECT DISTINCT ON (h.household_id)
    h.household_id, h.area_code, h.commune_code, h.size, h.address,
    {", ".join(f"h.{f}" for f in FLAGS)},
    (SELECT x.person_key FROM events.households x
     WHERE x.household_id = h.household_id AND x.role = 'head' ORDER BY x.batch_id DESC LIMIT 1) AS head_person_key,
    (SELECT count(*)::int FROM events.households x
     WHERE x.household_id = h.household_id AND x.role IS DISTINCT FROM 'left') AS members
FROM events.households h
WHERE h.role IS DISTINCT FROM 'left'
ORDER BY h.household_id, (h.role = 'head') DESC, h.batch_id DESC, h.person_key
"""


def upgrade() -> None:
    op.execute(HOUSEHOLD_VIEW)
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", AFTER, schema="serve")
    op.add_column("api_key", sa.Column("area_code", sa.Text), schema="serve")
    op.create_check_constraint("api_key_area_ck", "api_key", "area_code IS NULL OR role = 'welfare'", schema="serve")


def downgrade() -> None:
    op.execute(HOUSEHOLD_VIEW_0014)
    op.execute("DELETE FROM serve.api_key WHERE role IN ('welfare', 'hotline')")
    op.drop_constraint("api_key_area_ck", "api_key", schema="serve", type_="check")
    op.drop_column("api_key", "area_code", schema="serve")
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", BEFORE, schema="serve")
