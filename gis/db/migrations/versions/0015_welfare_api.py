"""welfare: officers' scope (serve.api_key.area_code) and the roles `welfare` and `hotline` (issue 14, slice 2)

A `welfare` officer's key carries the commune or district (area code) they work in: the delivery API records only
for households of that area (an officer of commune A cannot record in commune B). `hotline` operators (the 1022
line) get their role here too, so both stages rely on one check of serve.api_key.role.

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


def upgrade() -> None:
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", AFTER, schema="serve")
    op.add_column("api_key", sa.Column("area_code", sa.Text), schema="serve")
    op.create_check_constraint("api_key_area_ck", "api_key", "area_code IS NULL OR role = 'welfare'", schema="serve")


def downgrade() -> None:
    op.execute("DELETE FROM serve.api_key WHERE role IN ('welfare', 'hotline')")
    op.drop_constraint("api_key_area_ck", "api_key", schema="serve", type_="check")
    op.drop_column("api_key", "area_code", schema="serve")
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", BEFORE, schema="serve")
