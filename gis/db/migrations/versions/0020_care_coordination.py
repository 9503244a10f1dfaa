"""care: the current stay of each person, kept with the admissions; the coordinator role (issue 13, slice 3)

`care.current_stay` is the replay's present, maintained rather than replayed per call: one row per person whose
last event (in the replay's order, care.stay) opened a stay that nothing closed, i.e. exactly
`care.stay WHERE to_at IS NULL` (tests/care/test_care_current_stay.py holds the two equal). Statement-level
triggers on events.admissions (insert, update, delete, with their transition tables; truncate) recompute the rows
of the people a statement touched, in the statement's transaction: an ingest batch's merge and its corrections
update it before the batch commits, and a write around the feed keeps it too. What reads it: the free beds of
`nearest-free-bed` and of the transfer offers (gis/care/sql/transfers.sql free_rooms), which counted every stay
open now from the whole replay per call. Occupancy at a past instant still replays care.stay.

The state is "after every recorded event": an event stamped ahead of now (the feeds allow up to
COVIDGIS_INGEST_FUTURE_SLACK_MINUTES) already counts, so a bed promised by an admit at 10:05 is not offered at 10:00.

`serve.api_key.role` gains `coordinator`: the provincial F0 coordination centre (request and accept transfers,
the OGC processes request-transfer and accept-transfer of gis/serve/processes.py). Those processes run as the
restricted role, which may now insert and update care.transfer_request (and nothing else it may write) and read
the registries the offers count (events.facilities, events.rooms: no personal data): a request
a coordinator opens has no observation or batch (obs_id, batch_id NULL) and names who asked (requested_by).
Acceptances to one facility serialise on a transaction advisory lock (gis/care/sql/transfers.sql lock_facility),
which needs no write right on events.facilities.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BEFORE = "role IN ('analyst', 'committee', 'tracer', 'welfare', 'hotline')"
AFTER = "role IN ('analyst', 'committee', 'tracer', 'welfare', 'hotline', 'coordinator')"

# The people a statement touched ({touched}: a query over its transition tables) get their rows again: deleted,
# then their last event in the replay's order (care.stay's window, reversed) when it opens a stay.
REFRESH = """
DELETE FROM care.current_stay c WHERE c.person_key IN ({touched});
INSERT INTO care.current_stay (person_key, event_id, role, opened_by, facility_id, room_id, from_at)
SELECT l.person_key, l.event_id, l.role, l.event, l.facility_id, l.room_id, l.at
FROM (SELECT DISTINCT ON (a.person_key) a.person_key, a.event_id, a.role, a.event, a.facility_id, a.room_id, a.at
      FROM events.admissions a
      WHERE a.person_key IN ({touched})
      ORDER BY a.person_key, a.at DESC, CASE WHEN a.event IN ('admit', 'move') THEN 1 ELSE 0 END DESC,
               a.event_id DESC) l
WHERE l.event IN ('admit', 'move');
"""
TOUCHED = {
    "insert": "SELECT n.person_key FROM new_rows n",
    "update": "SELECT n.person_key FROM new_rows n UNION SELECT o.person_key FROM old_rows o",
    "delete": "SELECT o.person_key FROM old_rows o",
}
TRANSITIONS = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.execute("""
        CREATE TABLE care.current_stay (
            person_key text PRIMARY KEY,
            event_id text NOT NULL,
            role text NOT NULL,
            opened_by text NOT NULL,
            facility_id text NOT NULL,
            room_id text,
            from_at timestamptz NOT NULL
        )
    """)
    op.execute("CREATE INDEX current_stay_facility_room_idx ON care.current_stay (facility_id, room_id)")
    for operation, touched in TOUCHED.items():
        op.execute(f"""
            CREATE FUNCTION care.current_stay_after_{operation}() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
            BEGIN
                {REFRESH.format(touched=touched)}
                RETURN NULL;
            END $$
        """)
        op.execute(f"""
            CREATE TRIGGER current_stay_after_{operation} AFTER {operation.upper()} ON events.admissions
            {TRANSITIONS[operation]} FOR EACH STATEMENT EXECUTE FUNCTION care.current_stay_after_{operation}()
        """)
    op.execute("""
        CREATE FUNCTION care.current_stay_after_truncate() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            TRUNCATE care.current_stay;
            RETURN NULL;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER current_stay_after_truncate AFTER TRUNCATE ON events.admissions
        FOR EACH STATEMENT EXECUTE FUNCTION care.current_stay_after_truncate()
    """)
    op.execute("""
        INSERT INTO care.current_stay (person_key, event_id, role, opened_by, facility_id, room_id, from_at)
        SELECT s.person_key, s.event_id, s.role, s.opened_by, s.facility_id, s.room_id, s.from_at
        FROM care.stay s WHERE s.to_at IS NULL
    """)
    op.execute("GRANT SELECT ON care.current_stay TO covidgis_restricted")
    op.execute("""
        ALTER TABLE care.transfer_request ALTER COLUMN obs_id DROP NOT NULL, ALTER COLUMN batch_id DROP NOT NULL,
            ADD COLUMN requested_by text
    """)
    op.execute("GRANT INSERT, UPDATE ON care.transfer_request TO covidgis_restricted")
    op.execute("GRANT USAGE ON SCHEMA events TO covidgis_restricted")  # the registries the offers count
    op.execute("GRANT SELECT ON events.facilities, events.rooms TO covidgis_restricted")
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", AFTER, schema="serve")


def downgrade() -> None:
    op.execute("DELETE FROM serve.api_key WHERE role = 'coordinator'")
    op.drop_constraint("api_key_role_ck", "api_key", schema="serve", type_="check")
    op.create_check_constraint("api_key_role_ck", "api_key", BEFORE, schema="serve")
    op.execute("REVOKE INSERT, UPDATE ON care.transfer_request FROM covidgis_restricted")
    op.execute("REVOKE SELECT ON events.facilities, events.rooms FROM covidgis_restricted")
    op.execute("REVOKE USAGE ON SCHEMA events FROM covidgis_restricted")
    op.execute("DELETE FROM care.transfer_request WHERE obs_id IS NULL OR batch_id IS NULL")
    op.execute("""
        ALTER TABLE care.transfer_request DROP COLUMN requested_by, ALTER COLUMN obs_id SET NOT NULL,
            ALTER COLUMN batch_id SET NOT NULL
    """)
    for operation in (*TOUCHED, "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS current_stay_after_{operation} ON events.admissions")
        op.execute(f"DROP FUNCTION IF EXISTS care.current_stay_after_{operation}()")
    op.execute("DROP TABLE IF EXISTS care.current_stay")
