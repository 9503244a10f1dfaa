-- Lineage of a batch and its rejects.

-- name: open_batch
INSERT INTO ingest.batch (feed, file_name, file_sha256, started_at)
VALUES (%(feed)s, %(file_name)s, %(sha256)s, clock_timestamp())
RETURNING id

-- name: insert_rejects
-- The rejected row as staged: the person field is already its pseudonymous key, never the raw identifier.
INSERT INTO ingest.reject (batch_id, file_name, row_number, field, reason, message, record)
SELECT %(batch_id)s, %(file_name)s, p._row, p.field, p.reason, p.message,
       to_jsonb(s) - ARRAY['_row', '_bad', '_reason', '_field', '_message', '_hash']
FROM problem p JOIN stage s ON s._row = p._row
ORDER BY p._row

-- name: counts
SELECT (SELECT count(*) FROM stage) AS rows_read,
       (SELECT count(DISTINCT _row) FROM problem) AS rejected,
       (SELECT coalesce(jsonb_object_agg(reason, n), '{}'::jsonb)
          FROM (SELECT reason, count(DISTINCT _row) AS n FROM problem GROUP BY reason) r) AS by_reason

-- name: close_batch
UPDATE ingest.batch
SET rows_read = %(rows_read)s, accepted = %(accepted)s, rejected = %(rejected)s, duplicates = %(duplicates)s,
    corrections = %(corrections)s, rejected_by_reason = %(by_reason)s, finished_at = clock_timestamp()
WHERE id = %(batch_id)s

-- name: batch_rejects
SELECT row_number, field, reason, message, record
FROM ingest.reject
WHERE batch_id = %(batch_id)s
ORDER BY row_number, id

-- name: batch
SELECT id, feed, file_name, file_sha256, rows_read, accepted, rejected, duplicates, corrections,
       rejected_by_reason, started_at, finished_at
FROM ingest.batch
WHERE id = %(batch_id)s
