"""stats and risk: daily indicators per area, zones per rule set and day with reasons, overrides, snapshot version

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTS = [
    "cases_7d",
    "cases_14d",
    "community_cases_7d",
    "community_cases_prev_7d",
    "unknown_source_cases_14d",
    "unknown_source_clusters_14d",
    "hard_to_trace_cases_14d",
    "known_source_community_cases_14d",
    "f1_in_community",
    "tests_7d",
    "positive_tests_7d",
    "vaccinated_18plus_1dose",
    "vaccinated_50plus_full",
    "vaccinated_65plus_full",
    "admissions_7d",
]


BATCH_INDEXED = ["cases", "tests", "vaccinations", "quarantine_stays"]
DAILY = [
    "tests",
    "positive_tests",
    "first_doses_18plus",
    "full_doses_50plus",
    "full_doses_65plus",
    "home_stays_started",
    "home_stays_ended",
]


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS stats")
    op.execute("CREATE SCHEMA IF NOT EXISTS risk")
    # Daily counts of the big feeds per unit and day, rolled up to every level: indicators sum a few of these rows
    # instead of scanning millions of events (stats/sql/daily.sql keeps it in step with the events).
    op.create_table(
        "daily",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in DAILY],
        sa.PrimaryKeyConstraint("day", "area_code"),
        schema="stats",
    )
    op.create_table(  # the days whose daily counts are up to date with the events
        "daily_day",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        schema="stats",
    )
    # The daily refresh reads one day of events at a time.
    op.create_index("tests_collected_at_idx", "tests", ["collected_at"], schema="events")
    op.create_index("vaccinations_vaccinated_on_idx", "vaccinations", ["vaccinated_on"], schema="events")
    op.create_index("quarantine_stays_start_on_idx", "quarantine_stays", ["start_on"], schema="events")
    op.create_index("quarantine_stays_end_on_idx", "quarantine_stays", ["end_on"], schema="events")
    # What a batch touched (gis/stats/touched.py) is read by batch id; one id per batch keeps these small
    # (B-tree deduplication) and cheap to maintain.
    for table in BATCH_INDEXED:
        op.create_index(f"{table}_batch_idx", table, ["batch_id"], schema="events")
    op.create_table(
        "indicator",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("admin_level", sa.SmallInteger, nullable=False),
        sa.Column("population", sa.Integer),
        sa.Column("population_18plus", sa.Integer),
        sa.Column("population_50plus", sa.Integer),
        sa.Column("population_65plus", sa.Integer),
        *[sa.Column(name, sa.Integer, nullable=False, server_default="0") for name in COUNTS],
        sa.Column("covid_inpatient_beds_7d_avg", sa.Float),
        sa.Column("staffed_inpatient_beds_7d_avg", sa.Float),
        sa.Column("treatment_capacity_met", sa.Boolean),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("day", "area_code"),
        schema="stats",
    )
    op.create_table(
        "override",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("start_day", sa.Date, nullable=False),
        sa.Column("end_day", sa.Date),  # inclusive; NULL = until lifted
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("end_day IS NULL OR end_day >= start_day", name="override_period_ck"),
        sa.CheckConstraint("length(trim(reason)) > 0 AND length(trim(author)) > 0", name="override_reason_ck"),
        schema="risk",
    )
    op.create_index("override_area_idx", "override", ["area_code", "start_day"], schema="risk")
    op.create_table(
        "zone",
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("area_code", sa.Text, nullable=False),
        sa.Column("admin_level", sa.SmallInteger, nullable=False),
        sa.Column("ruleset_version", sa.Text, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),  # the level in force: the override's if any
        sa.Column("colour", sa.Text, nullable=False),
        sa.Column("label_vi", sa.Text, nullable=False),
        sa.Column("label_en", sa.Text, nullable=False),
        sa.Column("computed_level", sa.SmallInteger, nullable=False),  # what the rule set says
        sa.Column("override_id", sa.BigInteger, sa.ForeignKey("risk.override.id", ondelete="SET NULL")),
        sa.Column("reasons", postgresql.JSONB, nullable=False),
        sa.Column("decisive", postgresql.JSONB, nullable=False),
        sa.Column("inputs", postgresql.JSONB, nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("ruleset_id", "day", "area_code"),
        schema="risk",
    )
    op.create_index("zone_area_day_idx", "zone", ["area_code", "day"], schema="risk")
    # One row: bumped in the transaction that changes any zone, so caches can key on it.
    op.create_table(
        "snapshot",
        sa.Column("id", sa.Boolean, primary_key=True, server_default=sa.true()),
        sa.Column("version", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("id", name="snapshot_single_row_ck"),
        schema="risk",
    )
    op.execute("INSERT INTO risk.snapshot (id, version) VALUES (true, 0)")
    # Neighbours (units of one level whose boundaries touch within a tolerance), per boundary load.
    op.create_table(
        "adjacency",
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("neighbour_code", sa.Text, nullable=False),
        sa.Column("tolerance_m", sa.Float, nullable=False),
        sa.Column("load_id", sa.BigInteger, nullable=False),  # the newest boundary load when computed
        sa.PrimaryKeyConstraint("code", "neighbour_code"),
        schema="risk",
    )


def downgrade() -> None:
    for table in BATCH_INDEXED:
        op.drop_index(f"{table}_batch_idx", table_name=table, schema="events")
    for name, table in (
        ("tests_collected_at_idx", "tests"),
        ("vaccinations_vaccinated_on_idx", "vaccinations"),
        ("quarantine_stays_start_on_idx", "quarantine_stays"),
        ("quarantine_stays_end_on_idx", "quarantine_stays"),
    ):
        op.drop_index(name, table_name=table, schema="events")
    op.execute("DROP SCHEMA IF EXISTS risk CASCADE")
    op.execute("DROP SCHEMA IF EXISTS stats CASCADE")
