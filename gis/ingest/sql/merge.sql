-- Merge a validated batch into its event table, in the batch transaction: new keys are inserted, a known key
-- with other content is a correction (previous version to ingest.audit), a known key with the same content is
-- a duplicate and changes nothing.
--
-- `incoming` is not a table: it is the SELECT of the good rows (typed, located), composed per feed (statements.py)
-- and read straight from the staging table by insert_new. Their row hash, md5(ROW(<staged values>)::text), came
-- with them (rowcode.py): on the server it cost the merge 2-5 s per million rows. New rows go first (ON CONFLICT DO
-- NOTHING); only when some rows were not inserted (their key exists) does create_changed look for the keys whose
-- stored content differs, and only those are audited and updated. A batch of new rows never joins the event table.

-- name: incoming
SELECT {typed}, {area_code} AS area_code, {commune_code} AS commune_code, {located_by} AS located_by,
       {snap_m} AS snap_m, s._hash AS row_hash
FROM stage s {joins}
WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = s._row)

-- name: partition_days
SELECT d.day, (d.day::timestamp AT TIME ZONE %(tz)s) AS lower, ((d.day + 1)::timestamp AT TIME ZONE %(tz)s) AS upper
FROM (SELECT DISTINCT ({column} AT TIME ZONE %(tz)s)::date AS day
      FROM stage s WHERE NOT EXISTS (SELECT 1 FROM problem p WHERE p._row = s._row)) d
ORDER BY d.day

-- name: create_partition
-- A day's partition is made by the first batch with rows on that day, inside that batch's transaction: DDL is
-- transactional in PostgreSQL, so a failed or killed batch leaves no partition behind, and no day gets an empty
-- partition made ahead of time. It takes a short lock on the parent; one job at a time per feed keeps that cheap.
CREATE TABLE IF NOT EXISTS {partition} PARTITION OF {table} FOR VALUES FROM (%(lower)s) TO (%(upper)s)

-- name: insert_new
-- First tried without ON CONFLICT (speculative insertion costs 1.1 s per million rows) inside a savepoint: a batch
-- of new rows, the common case, is done. If a key is stored already, the savepoint is rolled back and the insert
-- runs again with on_conflict (a re-sent file fails at once on its first row).
INSERT INTO {table} ({columns}, batch_id)
SELECT {columns}, %(batch_id)s FROM ({incoming}) i

-- name: on_conflict
ON CONFLICT ({keys}) DO NOTHING

-- name: create_changed
-- The good rows whose key is stored with other content (rows this batch just inserted have the same hash).
CREATE TEMP TABLE changed ON COMMIT DROP AS
SELECT i.* FROM ({incoming}) i JOIN {table} t ON {key_join}
WHERE t.row_hash <> i.row_hash

-- name: audit_corrections
INSERT INTO ingest.audit (batch_id, feed, key, previous)
SELECT %(batch_id)s, %(feed)s, jsonb_build_object({key_pairs}), to_jsonb(t)
FROM {table} t JOIN changed i ON {key_join}

-- name: update_corrections
UPDATE {table} t SET {assignments}, batch_id = %(batch_id)s, ingested_at = now()
FROM changed i
WHERE {key_join}

-- name: test_delay
-- Test-only (COVIDGIS_INGEST_TEST_MERGE_DELAY_S): hold the merged, uncommitted batch so a test can kill it.
SELECT pg_sleep(%(seconds)s)
