"""serving: API keys, the published rule set, schema `restricted`, and the database roles the server reads through

Two roles (cluster-wide, created only if missing, LOGIN without a password: a trust-auth cluster needs none; on a
real server the DBA sets one and the deployment passes it in COVIDGIS_SERVE_PUBLIC_DB_PASSWORD):
- covidgis_public: USAGE on `pub` and SELECT on its views, nothing else — a bug in a view query cannot reach a
  restricted table, because the role cannot name one.
- covidgis_restricted: `pub` and `restricted` (views over personal and small-count data; credentials needed).
Views in both schemas are created by the migrating role (layers/*.sql) and run with its rights; default privileges
grant SELECT on every view created there later.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = {"covidgis_public": ["pub"], "covidgis_restricted": ["pub", "restricted"]}


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS restricted")
    op.execute("CREATE SCHEMA IF NOT EXISTS serve")
    # Bearer tokens: only the sha256 of the token is kept; the token is printed once by `covidgis users add`.
    op.create_table(
        "api_key",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("token_sha256", sa.Text, nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("role IN ('analyst', 'committee')", name="api_key_role_ck"),
        schema="serve",
    )
    op.create_index(
        "api_key_name_active_uq",
        "api_key",
        ["name"],
        unique=True,
        schema="serve",
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    # One row: which rule set the public zones show, and below which count a number is suppressed. `covidgis zones
    # publish` writes it from its settings (bumping risk.snapshot when it changes, so caches turn over).
    op.create_table(
        "published",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.true()),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("suppress_below", sa.Integer, nullable=False, server_default="5"),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id", name="published_single_row_ck"),
        sa.CheckConstraint("suppress_below >= 1", name="published_suppress_ck"),
        schema="risk",
    )
    op.execute("INSERT INTO risk.published (id, ruleset_id) VALUES (true, 'vn-4800-2021')")
    for role, schemas in ROLES.items():
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} LOGIN; END IF; END $$"
        )
        for schema in schemas:
            op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            op.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
            op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}")


def downgrade() -> None:
    for role, schemas in ROLES.items():
        for schema in schemas:
            op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} REVOKE SELECT ON TABLES FROM {role}")
            op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
            op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {role}")
    # The roles stay: they are cluster-wide and other databases of the cluster may use them.
    op.drop_table("published", schema="risk")
    op.execute("DROP SCHEMA IF EXISTS serve CASCADE")
    op.execute("DROP SCHEMA IF EXISTS restricted CASCADE")
