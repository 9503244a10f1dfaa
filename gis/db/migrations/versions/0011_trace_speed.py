"""trace: no foreign keys from trace.visit and trace.exposure to trace.case_window (issue 12, "Speed")

A trace of 1,000 F0 writes about a million exposures; the foreign key checked each of them with a row lock on its
case window (one trigger call per row), and the cascade ran one per deleted window. The trace engine is the only
writer of the schema and already replaces a case's exposures, visits and window together in one transaction
(gis/trace/sql/trace.sql: delete_exposures, delete_visits, delete_windows under the run's advisory lock), so the keys
protected nothing the engine does not.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("visit", "exposure")


def upgrade() -> None:
    for table in TABLES:
        op.execute(
            f"""
            DO $$
            DECLARE c text;
            BEGIN
                FOR c IN SELECT conname FROM pg_constraint
                         WHERE conrelid = 'trace.{table}'::regclass AND contype = 'f'
                           AND confrelid = 'trace.case_window'::regclass
                LOOP
                    EXECUTE format('ALTER TABLE trace.{table} DROP CONSTRAINT %I', c);
                END LOOP;
            END $$
            """
        )


def downgrade() -> None:
    for table in TABLES:
        op.create_foreign_key(
            f"{table}_ruleset_id_case_id_fkey",
            table,
            "case_window",
            ["ruleset_id", "case_id"],
            ["ruleset_id", "case_id"],
            source_schema="trace",
            referent_schema="trace",
            ondelete="CASCADE",
        )
