-- The days a batch's events (and the versions they corrected) fall on, per event table: first and last day
-- (gis/stats/touched.py; parameters %(name)s, placeholders {name} filled by gis.sqlfiles.compose).

-- name: cases
SELECT min(d), max(d) FROM (
    SELECT detected_on AS d FROM events.cases WHERE batch_id = %(batch)s
    UNION ALL SELECT (previous->>'detected_on')::date FROM ingest.audit WHERE batch_id = %(batch)s
) x;

-- name: tests
SELECT min(d), max(d) FROM (
    SELECT (collected_at AT TIME ZONE %(tz)s)::date AS d FROM events.tests WHERE batch_id = %(batch)s
    UNION ALL SELECT ((previous->>'collected_at')::timestamptz AT TIME ZONE %(tz)s)::date
    FROM ingest.audit WHERE batch_id = %(batch)s
) x;

-- name: vaccinations
SELECT min(d), max(d) FROM (
    SELECT vaccinated_on AS d FROM events.vaccinations WHERE batch_id = %(batch)s
    UNION ALL SELECT (previous->>'vaccinated_on')::date FROM ingest.audit WHERE batch_id = %(batch)s
) x;

-- name: quarantine_stays
-- A stay changes the count from its first day to the day after its last.
SELECT min(d0), max(d1) FROM (
    SELECT start_on AS d0, coalesce(end_on, start_on) + 1 AS d1 FROM events.quarantine_stays WHERE batch_id = %(batch)s
    UNION ALL SELECT (previous->>'start_on')::date, coalesce((previous->>'end_on')::date, (previous->>'start_on')::date) + 1
    FROM ingest.audit WHERE batch_id = %(batch)s
) x;

-- name: facilities
-- The facilities feed is a snapshot of capacity: every day computed so far reads it.
SELECT min(day), max(day) FROM stats.indicator WHERE EXISTS (SELECT 1 FROM events.facilities WHERE batch_id = %(batch)s);

-- name: communes
-- The communes the batch's events (and the versions they corrected) lie in. {table}: the events table.
SELECT array_agg(DISTINCT c) FROM (
    SELECT commune_code AS c FROM {table} WHERE batch_id = %(batch)s
    UNION ALL SELECT previous->>'commune_code' FROM ingest.audit WHERE batch_id = %(batch)s
) x WHERE c IS NOT NULL;

-- name: last_computed
SELECT max(day) FROM stats.indicator;
