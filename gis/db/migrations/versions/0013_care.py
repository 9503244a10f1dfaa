"""care: rooms and admissions (schema events, filled by the `rooms` and `admissions` feeds), and schema `care`

Issue 13, first slice. `events.rooms` is the registry of rooms (physical and staffed beds, kind, sex), keyed by
(facility_id, room_id); `events.admissions` the movements of people under care or in quarantine (admit, move,
discharge, transfer_out, died). Occupancy is derived, never typed in: `care.stay` replays the admissions, one row
per stay (an `admit` or a `move` opens it, the person's next event closes it), so a person is in one place at a
time whatever the events say; gis/care/sql/occupancy.sql counts the stays open at an instant.

Indexes: (person_key, at) is the replay's order and what the ingest check of a batch's persons reads; (facility_id,
at) the occupancy of one facility; BRIN on batch_id (a batch is one contiguous insert), as for the other feeds.

The restricted role reads schema `care` (the coordinators' restricted layers, next slice); the public role gets
nothing here: public layers are views in `pub` that run with their owner's rights.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# The replay. Within one instant, an event that closes a stay sorts before one that opens a stay (a transfer_out at
# 10:00 and the receiving facility's admit at 10:00 are two stays, not one stay ended by its own start).
STAY_VIEW = """
CREATE VIEW care.stay AS
SELECT r.event_id, r.person_key, r.role, r.event AS opened_by, r.facility_id, r.room_id, r.at AS from_at,
       r.next_at AS to_at, r.next_event AS closed_by, r.next_event_id AS closed_by_event_id
FROM (SELECT a.event_id, a.person_key, a.role, a.event, a.facility_id, a.room_id, a.at,
             lead(a.at) OVER w AS next_at, lead(a.event) OVER w AS next_event, lead(a.event_id) OVER w AS next_event_id
      FROM events.admissions a
      WINDOW w AS (PARTITION BY a.person_key
                   ORDER BY a.at, CASE WHEN a.event IN ('admit', 'move') THEN 1 ELSE 0 END, a.event_id)) r
WHERE r.event IN ('admit', 'move')
"""


def _lineage() -> list[sa.Column]:
    """The columns every event table carries: its area (through its facility), lineage and row hash."""
    return [
        sa.Column("area_code", sa.Text),
        sa.Column("commune_code", sa.Text),
        sa.Column("located_by", sa.Text),
        sa.Column("snap_m", sa.Double),
        sa.Column("batch_id", sa.BigInteger, nullable=False),
        sa.Column("row_hash", sa.Text, nullable=False),
        sa.Column("ingested_at", TS, server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("room_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sex", sa.Text),
        sa.Column("beds", sa.Integer, nullable=False),
        sa.Column("staffed_beds", sa.Integer),
        sa.Column("cleaning_days", sa.Integer),
        *_lineage(),
        sa.PrimaryKeyConstraint("facility_id", "room_id"),
        schema="events",
    )
    op.create_table(
        "admissions",
        sa.Column("event_id", sa.Text, nullable=False),
        sa.Column("person_key", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("facility_id", sa.Text, nullable=False),
        sa.Column("room_id", sa.Text),
        sa.Column("at", TS, nullable=False),
        sa.Column("reason", sa.Text),
        *_lineage(),
        sa.PrimaryKeyConstraint("event_id"),
        schema="events",
    )
    op.create_index("admissions_person_at_idx", "admissions", ["person_key", "at"], schema="events")
    op.create_index("admissions_facility_at_idx", "admissions", ["facility_id", "at"], schema="events")
    op.execute("CREATE INDEX rooms_batch_idx ON events.rooms USING brin (batch_id) WITH (autosummarize = on)")
    op.execute("CREATE INDEX admissions_batch_idx ON events.admissions USING brin (batch_id) WITH (autosummarize = on)")
    op.execute("CREATE SCHEMA IF NOT EXISTS care")
    op.execute(STAY_VIEW)
    op.execute("GRANT USAGE ON SCHEMA care TO covidgis_restricted")
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA care TO covidgis_restricted")
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA care GRANT SELECT ON TABLES TO covidgis_restricted")


def downgrade() -> None:
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA care REVOKE SELECT ON TABLES FROM covidgis_restricted")
    op.execute("REVOKE ALL ON ALL TABLES IN SCHEMA care FROM covidgis_restricted")
    op.execute("REVOKE USAGE ON SCHEMA care FROM covidgis_restricted")
    op.execute("DROP SCHEMA IF EXISTS care CASCADE")
    op.drop_table("admissions", schema="events")
    op.drop_table("rooms", schema="events")
