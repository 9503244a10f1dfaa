-- Retention of check-ins (gis/trace/retention.py): the day partitions of events.checkins, each with the local day
-- its lower bound starts (read from the partition bound, whatever the partition's name).

-- name: lock
-- Not while a trace run of any rule set reads the partitions: dropping takes the parent's exclusive lock anyway;
-- the lock keeps a retention run from queueing behind itself.
SELECT pg_advisory_xact_lock(hashtext('covidgis.trace.retention'));

-- name: partitions
-- Every partition of events.checkins with a range bound (a DEFAULT partition has none and is never dropped).
SELECT n.nspname AS schema, c.relname AS name,
       (substring(pg_get_expr(c.relpartbound, c.oid) FROM $$FROM \('([^']+)'\)$$)::timestamptz
            AT TIME ZONE %(tz)s)::date AS day,
       c.reltuples::bigint AS estimated_rows
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = 'events.checkins'::regclass
  AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (%%'
ORDER BY day;
