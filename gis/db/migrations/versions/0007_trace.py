"""trace: each F0's infectious window, visits and the exposures they caused; contacts; locations of interest; runs

Schema `trace` (issue 12): written only by gis/trace/engine.py, one transaction
per run, which replaces the rows of the cases it traces (so a corrected or withdrawn case leaves nothing stale) and
recomputes the locations of interest of the venues it touched. Locations are never deleted: a location no case
supports any more keeps its row with `withdrawn_at` set, so PC-Covid's copy sees the withdrawal.

Indexes are the ones the engine's statements need: visits and exposures by (ruleset, venue) for the locations of a
venue; exposures by (ruleset, person) for the contact view; check-ins by batch (BRIN: a batch is one contiguous insert
per day partition) so the trace after a check-in batch finds the batch's rows without reading every partition.

The restricted role may read the schema (the tracers' restricted layers); the public role gets nothing here: public
layers are views in `pub` that run with their owner's rights.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
RISK_CK = "risk IN ('close', 'casual')"

CONTACT_VIEW = """
CREATE VIEW trace.contact AS
-- One contact per (rule set, person key) with all its exposures; status derived from the events, never typed in:
--   became_f0    a case of the same key (not withdrawn, not one of the exposing cases) detected on or after the
--                first exposure day and at most 14 days after the last;
--   quarantined  a quarantine stay of the key starting on or after the first exposure day (and at most 14 days
--                after the last: a stay months later is not this exposure's);
--   cleared      14 days passed since the last exposure with neither;
--   notified     `covidgis trace mark` recorded a notification;
--   new          none of these.
WITH e AS (
    SELECT x.ruleset_id, x.person_key, array_agg(DISTINCT x.case_id ORDER BY x.case_id) AS cases,
           count(*)::int AS exposures,
           min(x.checked_in_at) AS first_exposed_at, max(x.checked_in_at) AS last_exposed_at,
           min(x.exposed_on) AS first_exposed_on, max(x.exposed_on) AS last_exposed_on,
           CASE WHEN bool_or(x.risk = 'close') THEN 'close' ELSE 'casual' END AS risk
    FROM trace.exposure x
    GROUP BY x.ruleset_id, x.person_key
)
SELECT e.ruleset_id, e.person_key, e.cases, e.exposures, e.first_exposed_at, e.last_exposed_at, e.risk,
    CASE
        WHEN EXISTS (SELECT 1 FROM events.cases c
                     WHERE c.person_key = e.person_key AND c.case_id <> ALL (e.cases)
                       AND c.status IS DISTINCT FROM 'withdrawn'
                       AND c.detected_on >= e.first_exposed_on AND c.detected_on <= e.last_exposed_on + 14)
            THEN 'became_f0'
        WHEN EXISTS (SELECT 1 FROM events.quarantine_stays q
                     WHERE q.person_key = e.person_key
                       AND q.start_on >= e.first_exposed_on AND q.start_on <= e.last_exposed_on + 14)
            THEN 'quarantined'
        WHEN now() >= e.last_exposed_at + interval '14 days' THEN 'cleared'
        WHEN EXISTS (SELECT 1 FROM trace.notification n
                     WHERE n.ruleset_id = e.ruleset_id AND n.person_key = e.person_key)
            THEN 'notified'
        ELSE 'new'
    END AS status
FROM e
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS trace")
    # A case's infectious window in a rule set. window_end is the end of the detection day: no isolation or
    # admission date is ingested yet, and the rule sets' `isolation_or_detection` ends at detection at the latest.
    op.create_table(
        "case_window",
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("detected_on", sa.Date, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("computed_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("ruleset_id", "case_id"),
        schema="trace",
    )
    # The F0's own check-ins in the window; visit_end = the next check-in elsewhere, capped by the kind's dwell.
    op.create_table(
        "visit",
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("checkin_id", sa.Text, nullable=False),
        sa.Column("checked_in_at", TS, nullable=False),
        sa.Column("venue_id", sa.Text, nullable=False),
        sa.Column("visit_end", TS, nullable=False),
        sa.PrimaryKeyConstraint("ruleset_id", "case_id", "checkin_id", "checked_in_at"),
        sa.ForeignKeyConstraint(
            ["ruleset_id", "case_id"], ["trace.case_window.ruleset_id", "trace.case_window.case_id"], ondelete="CASCADE"
        ),
        schema="trace",
    )
    op.create_index("visit_venue_idx", "visit", ["ruleset_id", "venue_id", "checked_in_at"], schema="trace")
    # One row per contact check-in per F0 (the F0's own excluded). exposed_on: the check-in's local day (the
    # engine's time zone), what the contact status compares with dates of stays and cases. overlap_minutes: the
    # overlap rule's minutes; NULL under checkin_within, which has no visit length.
    op.create_table(
        "exposure",
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Text, nullable=False),
        sa.Column("checkin_id", sa.Text, nullable=False),
        sa.Column("checked_in_at", TS, nullable=False),
        sa.Column("venue_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("case_checkin_id", sa.Text, nullable=False),
        sa.Column("overlap_minutes", sa.Double),
        sa.Column("risk", sa.Text, nullable=False),
        sa.Column("exposed_on", sa.Date, nullable=False),
        sa.Column("computed_at", TS, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("ruleset_id", "case_id", "checkin_id", "checked_in_at"),
        sa.ForeignKeyConstraint(
            ["ruleset_id", "case_id"], ["trace.case_window.ruleset_id", "trace.case_window.case_id"], ondelete="CASCADE"
        ),
        sa.CheckConstraint(RISK_CK, name="exposure_risk_ck"),
        schema="trace",
    )
    op.create_index("exposure_person_idx", "exposure", ["ruleset_id", "person_key"], schema="trace")
    op.create_index("exposure_venue_idx", "exposure", ["ruleset_id", "venue_id"], schema="trace")
    op.create_table(
        "notification",
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("notified_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("notified_by", sa.Text),
        sa.PrimaryKeyConstraint("ruleset_id", "person_key", "notified_at"),
        schema="trace",
    )
    # One candidate location of interest per (rule set, venue, local day of the F0 visits); `day` keys it.
    op.create_table(
        "location",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("venue_id", sa.Text, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("start_at", TS, nullable=False),
        sa.Column("end_at", TS, nullable=False),
        sa.Column("exposure_type", sa.Text, nullable=False),
        sa.Column("advice_vi", sa.Text, nullable=False),
        sa.Column("advice_en", sa.Text, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("visitors", sa.Integer, nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("published_at", TS),
        sa.Column("updated_at", TS, server_default=sa.func.now(), nullable=False),
        sa.Column("withdrawn_at", TS),
        sa.CheckConstraint("exposure_type IN ('close', 'casual')", name="location_exposure_type_ck"),
        sa.CheckConstraint("NOT (published AND withdrawn_at IS NOT NULL)", name="location_withdrawn_unpublished_ck"),
        sa.UniqueConstraint("ruleset_id", "venue_id", "day", name="location_venue_day_uq"),
        schema="trace",
    )
    op.create_index(
        "location_published_idx", "location", ["ruleset_id"], schema="trace", postgresql_where=sa.text("published")
    )
    op.create_table(
        "run",
        sa.Column("run_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("ruleset_id", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("batch_id", sa.BigInteger),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("venues", sa.Integer, nullable=False),
        sa.Column("contacts", sa.Integer, nullable=False),
        sa.Column("locations", sa.Integer, nullable=False),
        sa.CheckConstraint("trigger IN ('cli', 'batch')", name="run_trigger_ck"),
        schema="trace",
    )
    op.execute(CONTACT_VIEW)
    op.execute("CREATE INDEX checkins_batch_idx ON events.checkins USING brin (batch_id) WITH (autosummarize = on)")
    op.execute("GRANT USAGE ON SCHEMA trace TO covidgis_restricted")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA trace TO covidgis_restricted")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA trace GRANT SELECT ON TABLES TO covidgis_restricted")


def downgrade() -> None:
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA trace REVOKE SELECT ON TABLES FROM covidgis_restricted")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA trace FROM covidgis_restricted")
    op.execute("REVOKE USAGE ON SCHEMA trace FROM covidgis_restricted")
    op.execute("DROP INDEX IF EXISTS events.checkins_batch_idx")
    op.execute("DROP SCHEMA IF EXISTS trace CASCADE")
