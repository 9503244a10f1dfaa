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
       substring(pg_get_expr(c.relpartbound, c.oid) FROM $$FROM \('([^']+)'\)$$)::timestamptz AS lower,
       substring(pg_get_expr(c.relpartbound, c.oid) FROM $$TO \('([^']+)'\)$$)::timestamptz AS upper,
       c.reltuples::bigint AS estimated_rows
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = 'events.checkins'::regclass
  AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (%%'
ORDER BY day;

-- name: keep_exposures
-- Before a partition is dropped: the exposures whose contact check-in it holds, which the view trace.exposure derives
-- from those check-ins, are stored (trace.exposure_kept) as they read now, so what tracing derived stays.
INSERT INTO trace.exposure_kept (ruleset_id, case_id, checkin_id, checked_in_at, venue_id, person_key, case_checkin_id,
                                 overlap_minutes, risk, exposed_on, computed_at)
SELECT x.ruleset_id, x.case_id, x.checkin_id, x.checked_in_at, x.venue_id, x.person_key, x.case_checkin_id,
       x.overlap_minutes, x.risk, x.exposed_on, x.computed_at
FROM trace.exposure x
WHERE x.checked_in_at >= %(lower)s AND x.checked_in_at < %(upper)s
ON CONFLICT DO NOTHING;
