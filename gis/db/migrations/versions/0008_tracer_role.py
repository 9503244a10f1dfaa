"""serving: the role `tracer` for API keys (the provincial CDC's tracing teams, issue 12)

Tracers read the tracing layers (exposure venues, exposure contacts) besides the public ones; which collections each
role reads is gis/serve/auth.py ROLE_COLLECTIONS. Only the check on serve.api_key.role changes.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint(
        "api_key_role_ck", "api_key", "role IN ('analyst', 'committee', 'tracer')", schema="serve"
    )


def downgrade() -> None:
    # A tracer key cannot become another role (an analyst reads more): downgrading removes tracers' keys.
    op.execute("DELETE FROM serve.api_key WHERE role = 'tracer'")
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", "role IN ('analyst', 'committee')", schema="serve")
