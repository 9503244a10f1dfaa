-- The trace engine's statements (gis/trace/engine.py), parameters %(name)s, run with conn.exec_driver_sql.
-- A run is one transaction: the cases to trace go into the temp table trace_target, their old rows are replaced by
-- set operations over all of them at once, then the locations of interest of the (venue, local day) pairs they
-- touched before or after (trace_pairs) are recomputed from every case's visits. Exposures are not stored: the view
-- trace.exposure derives them from the visits' contact ranges and the check-ins (migration 0022).
-- Common parameters: ruleset (rule set id), tz (the local time zone).

-- name: lock
-- One run per rule set at a time (the scheduler's feed jobs run in parallel): the locations are shared.
SELECT pg_advisory_xact_lock(hashtext('covidgis.trace:' || %(ruleset)s));

-- name: no_jit
-- JIT compiles every partition's expressions of a statement over the partitioned check-ins: measured 36 s of
-- compilation for a statement that runs in 0.2 s (120 day partitions). Tracing runs short statements.
SET LOCAL jit = off;

-- name: work_mem
-- The sorts and hashes of a large run (the distinct contacts of a thousand F0's visits) stay in memory: one run per rule set
-- at a time (lock), so this is one backend's.
SET LOCAL work_mem = '256MB';

-- name: create_target
CREATE TEMP TABLE trace_target (case_id text PRIMARY KEY) ON COMMIT DROP;

-- name: create_pairs
CREATE TEMP TABLE trace_pairs (venue_id text, day date, PRIMARY KEY (venue_id, day)) ON COMMIT DROP;

-- name: target_cases
INSERT INTO trace_target SELECT DISTINCT c FROM unnest(%(cases)s::text[]) c WHERE c IS NOT NULL;

-- name: target_day
-- The cases detected on the day, and those traced on it before (a case whose date was corrected away).
INSERT INTO trace_target
SELECT case_id FROM events.cases WHERE detected_on = %(day)s
UNION SELECT case_id FROM trace.case_window WHERE ruleset_id = %(ruleset)s AND detected_on = %(day)s;

-- name: target_all
INSERT INTO trace_target
SELECT case_id FROM events.cases UNION SELECT case_id FROM trace.case_window WHERE ruleset_id = %(ruleset)s;

-- name: skip_retained
-- Retention-safe re-trace: a traced case (not withdrawn) whose window starts before the oldest check-in partition
-- kept, and with a stored visit before it, lost check-ins to retention (gis/trace/retention.py): tracing it again
-- would replace its exposures by none, so it leaves the target and keeps its stored rows. Returns those cases.
WITH oldest AS (
    SELECT min(substring(pg_get_expr(c.relpartbound, c.oid) FROM $$FROM \('([^']+)'\)$$)::timestamptz) AS lower
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'events.checkins'::regclass AND pg_get_expr(c.relpartbound, c.oid) LIKE 'FOR VALUES FROM (%%'
)
DELETE FROM trace_target t USING events.cases c, oldest o
WHERE c.case_id = t.case_id AND c.status IS DISTINCT FROM 'withdrawn'
  AND ((c.detected_on - %(before_days)s)::timestamp AT TIME ZONE %(tz)s) < coalesce(o.lower, 'infinity')
  AND EXISTS (SELECT 1 FROM trace.visit v
              WHERE v.ruleset_id = %(ruleset)s AND v.case_id = t.case_id
                AND v.checked_in_at < coalesce(o.lower, 'infinity'))
RETURNING t.case_id;

-- name: analyze_target
ANALYZE trace_target;

-- name: batch_checkins
-- Incremental path, after a check-ins batch: the batch's rows read once (checkins_batch_idx, BRIN).
CREATE TEMP TABLE trace_batch ON COMMIT DROP AS
SELECT checkin_id, checked_in_at, person_key, venue_id FROM events.checkins WHERE batch_id = %(batch)s;

-- name: analyze_batch
ANALYZE trace_batch;

-- name: incremental_cases
-- The target cases a check-ins batch can only add contacts to (checkin_within: an exposure depends on an F0 visit and
-- the contact's own check-in, nothing else): already traced with the window their case row gives now, not withdrawn,
-- with none of their own check-ins in the batch from the window's start to its end plus the longest dwell (which
-- would change their visits or a visit's end), in a batch that corrected no earlier row (ingest.audit), and traced
-- since migration 0022 (their visits carry a contact range). They leave trace_target: their rows are
-- kept, not replaced, and the batch's check-ins are their new exposures through the view trace.exposure.
CREATE TEMP TABLE trace_incr ON COMMIT DROP AS
SELECT w.case_id, w.person_key
FROM trace_target t
JOIN trace.case_window w ON w.ruleset_id = %(ruleset)s AND w.case_id = t.case_id
JOIN events.cases c ON c.case_id = t.case_id
WHERE c.status IS DISTINCT FROM 'withdrawn' AND c.person_key = w.person_key AND c.detected_on = w.detected_on
  AND NOT EXISTS (SELECT 1 FROM trace.visit v
                  WHERE v.ruleset_id = %(ruleset)s AND v.case_id = w.case_id AND v.covisit IS NULL)
  AND w.window_start = ((c.detected_on - %(before_days)s)::timestamp AT TIME ZONE %(tz)s)
  AND w.window_end = ((c.detected_on + 1)::timestamp AT TIME ZONE %(tz)s)
  AND EXISTS (SELECT 1 FROM trace_batch)
  AND NOT EXISTS (SELECT 1 FROM ingest.audit a WHERE a.batch_id = %(batch)s)
  AND NOT EXISTS (SELECT 1 FROM trace_batch b
                  WHERE b.person_key = w.person_key AND b.checked_in_at >= w.window_start
                    AND b.checked_in_at < w.window_end + %(max_dwell)s * interval '1 minute');

-- name: incremental_split
DELETE FROM trace_target t USING trace_incr i WHERE i.case_id = t.case_id;

-- name: analyze_incr
ANALYZE trace_incr;

-- name: old_pairs
INSERT INTO trace_pairs
SELECT DISTINCT v.venue_id, (v.checked_in_at AT TIME ZONE %(tz)s)::date
FROM trace.visit v JOIN trace_target t ON t.case_id = v.case_id
WHERE v.ruleset_id = %(ruleset)s
ON CONFLICT DO NOTHING;

-- name: analyze_stored
-- After a run that changed many stored rows (a first trace of many F0): their statistics now, so the next runs' plans
-- (a one-case re-trace probes by key; the exposure view's join per visit) do not wait for autovacuum's analyze.
ANALYZE trace.visit, trace.case_window;

-- name: delete_kept
-- The target cases' stored exposures (traced before migration 0022, or kept from check-ins retention dropped): a
-- trace replaces them by what the view derives from its new visits.
DELETE FROM trace.exposure_kept x USING trace_target t WHERE x.ruleset_id = %(ruleset)s AND x.case_id = t.case_id;

-- name: delete_visits
DELETE FROM trace.visit v USING trace_target t WHERE v.ruleset_id = %(ruleset)s AND v.case_id = t.case_id;

-- name: delete_windows
DELETE FROM trace.case_window w USING trace_target t WHERE w.ruleset_id = %(ruleset)s AND w.case_id = t.case_id;

-- name: insert_windows
-- The infectious window: from local midnight window_before_days before the detection day to the end of the
-- detection day. The rule sets say "to the day the case entered isolation or treatment, at the latest the detection
-- date"; the cases feed has no isolation date yet, so the window ends with the detection day. A withdrawn case is
-- never an F0.
INSERT INTO trace.case_window (ruleset_id, case_id, person_key, detected_on, window_start, window_end)
SELECT %(ruleset)s, c.case_id, c.person_key, c.detected_on,
       ((c.detected_on - %(before_days)s)::timestamp AT TIME ZONE %(tz)s),
       ((c.detected_on + 1)::timestamp AT TIME ZONE %(tz)s)
FROM events.cases c JOIN trace_target t ON t.case_id = c.case_id
WHERE c.status IS DISTINCT FROM 'withdrawn';

-- name: window_bounds
-- The first and last instant of the windows: constants for the visit statement, so the planner prunes the check-in
-- partitions outside them (a parameterised range alone would plan every partition, ~1 ms each).
SELECT min(w.window_start), max(w.window_end)
FROM trace.case_window w JOIN trace_target t ON t.case_id = w.case_id
WHERE w.ruleset_id = %(ruleset)s;

-- name: f0_checkins
-- The F0s' own check-ins from the first window's start to the last window's end (+ the longest dwell, for the next
-- check-in that ends a visit), read once; the partitions outside wlo/whi are pruned at plan time. A few F0s: an
-- index probe per person and partition (checkins_person_time_idx); many over a long period (a full rebuild): one
-- hash join over the partitions. A join per case straight into the visits would plan and prune every partition
-- once per case.
CREATE TEMP TABLE trace_f0_checkins ON COMMIT DROP AS
SELECT k.checkin_id, k.checked_in_at, k.person_key, k.venue_id
FROM (SELECT DISTINCT w.person_key FROM trace.case_window w JOIN trace_target t ON t.case_id = w.case_id
      WHERE w.ruleset_id = %(ruleset)s) p
JOIN events.checkins k ON k.person_key = p.person_key
WHERE k.checked_in_at >= %(wlo)s AND k.checked_in_at < %(whi)s::timestamptz + %(max_dwell)s * interval '1 minute';

-- name: index_f0_checkins
CREATE INDEX ON trace_f0_checkins (person_key, checked_in_at);

-- name: analyze_f0_checkins
ANALYZE trace_f0_checkins;

-- name: insert_visits
-- The F0's own check-ins in the window (trace_f0_checkins). Nobody checks out: a visit ends at the person's next
-- check-in at another venue, at the latest after the dwell of the venue's kind (%(dwell)s: JSON kind -> minutes,
-- 'other' the fallback, also for a venue not in the registry yet). contact_from / contact_to: the instants
-- (inclusive) a contact's check-in at the venue can have: checkin_within ±%(minutes)s minutes around the F0's
-- check-in; overlap from the dwell before it (a contact's stay is capped by the dwell) to the visit's end.
CREATE TEMP TABLE trace_new_visit ON COMMIT DROP AS
SELECT v.*,
       CASE WHEN %(covisit)s = 'checkin_within' THEN v.checked_in_at - %(minutes)s * interval '1 minute'
            ELSE v.checked_in_at - v.dwell END AS contact_from,
       CASE WHEN %(covisit)s = 'checkin_within' THEN v.checked_in_at + %(minutes)s * interval '1 minute'
            ELSE v.visit_end END AS contact_to
FROM (
SELECT DISTINCT ON (w.case_id, k.checkin_id, k.checked_in_at)
       w.ruleset_id, w.case_id, k.checkin_id, k.checked_in_at, k.venue_id,
       least(k.checked_in_at + d.dwell, coalesce(nx.next_at, 'infinity')) AS visit_end,
       w.person_key, d.dwell
FROM trace.case_window w
JOIN trace_target t ON t.case_id = w.case_id
JOIN trace_f0_checkins k
  ON k.person_key = w.person_key AND k.checked_in_at >= w.window_start AND k.checked_in_at < w.window_end
LEFT JOIN events.venues vn ON vn.venue_id = k.venue_id
CROSS JOIN LATERAL (
    SELECT coalesce((%(dwell)s::jsonb ->> vn.kind)::int, (%(dwell)s::jsonb ->> 'other')::int) * interval '1 minute'
        AS dwell
) d
LEFT JOIN LATERAL (
    SELECT min(n.checked_in_at) AS next_at FROM trace_f0_checkins n
    WHERE n.person_key = k.person_key AND n.checked_in_at > k.checked_in_at
      AND n.checked_in_at < k.checked_in_at + d.dwell AND n.venue_id <> k.venue_id
) nx ON true
WHERE w.ruleset_id = %(ruleset)s
ORDER BY w.case_id, k.checkin_id, k.checked_in_at
) v;

-- name: analyze_visits
ANALYZE trace_new_visit;

-- name: store_visits
-- With what the view trace.exposure derives the visit's exposures from: its contact range, the F0's key, the dwell,
-- the rule set's co-visit rule, risk (checkin_within) and close threshold (overlap), the local time zone.
INSERT INTO trace.visit (ruleset_id, case_id, checkin_id, checked_in_at, venue_id, visit_end, dwell, contact_from,
                         contact_to, person_key, covisit, exposure_risk, close_minutes, tz)
SELECT ruleset_id, case_id, checkin_id, checked_in_at, venue_id, visit_end, dwell, contact_from, contact_to,
       person_key, %(covisit)s, %(exposure)s, %(close_minutes)s, %(tz)s
FROM trace_new_visit;

-- name: incremental_pairs
-- The (venue, local day) pairs of the incremental cases' visits whose location window a batch check-in can fall in
-- (the day, widened by the longest reach); their other pairs keep what they had (no input of theirs changed).
INSERT INTO trace_pairs
SELECT DISTINCT v.venue_id, (v.checked_in_at AT TIME ZONE %(tz)s)::date
FROM trace_incr i
JOIN trace.visit v ON v.ruleset_id = %(ruleset)s AND v.case_id = i.case_id
WHERE EXISTS (
    SELECT 1 FROM trace_batch b
    WHERE b.venue_id = v.venue_id
      AND b.checked_in_at >= (((v.checked_in_at AT TIME ZONE %(tz)s)::date)::timestamp AT TIME ZONE %(tz)s)
                             - %(max_reach)s * interval '1 minute'
      AND b.checked_in_at < ((((v.checked_in_at AT TIME ZONE %(tz)s)::date + 1)::timestamp AT TIME ZONE %(tz)s)
                             + %(max_reach)s * interval '1 minute'))
ON CONFLICT DO NOTHING;

-- name: incremental_join
INSERT INTO trace_target SELECT case_id FROM trace_incr;

-- name: new_pairs
INSERT INTO trace_pairs
SELECT DISTINCT v.venue_id, (v.checked_in_at AT TIME ZONE %(tz)s)::date
FROM trace.visit v JOIN trace_target t ON t.case_id = v.case_id
WHERE v.ruleset_id = %(ruleset)s
ON CONFLICT DO NOTHING;

-- name: venue_batch_pairs
-- A venues batch: every traced (venue, day) of its venues (new, or corrected: kind, name, place).
INSERT INTO trace_pairs
SELECT DISTINCT v.venue_id, (v.checked_in_at AT TIME ZONE %(tz)s)::date
FROM trace.visit v JOIN events.venues vn ON vn.venue_id = v.venue_id
WHERE v.ruleset_id = %(ruleset)s AND vn.batch_id = %(batch)s
ON CONFLICT DO NOTHING;

-- name: counts
SELECT (SELECT count(*) FROM trace.case_window w JOIN trace_target t ON t.case_id = w.case_id
        WHERE w.ruleset_id = %(ruleset)s)::int,
       (SELECT count(*) FROM trace.visit v JOIN trace_target t ON t.case_id = v.case_id
        WHERE v.ruleset_id = %(ruleset)s)::int,
       (SELECT count(DISTINCT v.venue_id) FROM trace.visit v JOIN trace_target t ON t.case_id = v.case_id
        WHERE v.ruleset_id = %(ruleset)s)::int;

-- name: contacts_checkin_within
-- The distinct contact people of the target cases: every (visit, contact check-in) pair counts (which F0 visit an
-- exposure is assigned to changes no one's being a contact), so this is the join of trace.exposure_pair's
-- checkin_within branch written out (measured 0.6 s instead of 0.86 s through the view for 1,000 F0 on the
-- benchmark's province), plus the stored rows; deduplicated once, hashed (count(DISTINCT) would sort).
SELECT count(*)::int FROM (
    SELECT k.person_key
    FROM trace.visit v
    JOIN trace_target t ON t.case_id = v.case_id
    JOIN events.checkins k
      ON k.venue_id = v.venue_id AND k.checked_in_at >= v.contact_from AND k.checked_in_at <= v.contact_to
     AND k.person_key <> v.person_key
    WHERE v.ruleset_id = %(ruleset)s
    UNION
    SELECT x.person_key FROM trace.exposure_kept x JOIN trace_target t ON t.case_id = x.case_id
    WHERE x.ruleset_id = %(ruleset)s
) d;

-- name: contacts_overlap
-- The same under overlap, through the view (a pair needs more than zero minutes of overlap).
SELECT count(*)::int FROM (
    SELECT x.person_key FROM trace.exposure_pair x JOIN trace_target t ON t.case_id = x.case_id
    WHERE x.ruleset_id = %(ruleset)s
    UNION
    SELECT x.person_key FROM trace.exposure_kept x JOIN trace_target t ON t.case_id = x.case_id
    WHERE x.ruleset_id = %(ruleset)s
) d;

-- name: pair_bounds
-- The instants the touched pairs' location windows can reach (plo/phi of upsert_locations, for partition pruning).
SELECT (min(day)::timestamp AT TIME ZONE %(tz)s) - %(max_reach)s * interval '1 minute',
       ((max(day) + 1)::timestamp AT TIME ZONE %(tz)s) + %(max_reach)s * interval '1 minute'
FROM trace_pairs;

-- name: upsert_locations
-- One candidate location per (venue, local day) of the touched pairs, from every case's visits there that day; a
-- venue not in the registry yet has none (its check-ins are traced; its location comes with the venue).
-- Window: checkin_within ±minutes around the first and last F0 check-in; overlap: first F0 check-in to the last
-- visit's end. Exposure type: checkin_within's from the rule; overlap: close when an F0 stayed close_minutes or more.
-- visitors: distinct people (keys) who checked in there in the window, F0s included: the publication threshold is
-- about people, so a listing never points at one person. published_at is set the first time it is published,
-- updated_at whenever what the public reads (window, type, advice) changes or it comes back after a withdrawal.
WITH candidate AS (
    SELECT p.venue_id, p.day, vn.kind,
           min(v.checked_in_at) AS first_at, max(v.checked_in_at) AS last_at, max(v.visit_end) AS last_end,
           max(extract(epoch FROM v.visit_end - v.checked_in_at)) / 60 AS longest_minutes,
           count(DISTINCT v.case_id)::int AS cases
    FROM trace_pairs p
    JOIN events.venues vn ON vn.venue_id = p.venue_id
    JOIN trace.visit v
      ON v.ruleset_id = %(ruleset)s AND v.venue_id = p.venue_id
     AND v.checked_in_at >= (p.day::timestamp AT TIME ZONE %(tz)s)
     AND v.checked_in_at < ((p.day + 1)::timestamp AT TIME ZONE %(tz)s)
    GROUP BY p.venue_id, p.day, vn.kind
), windowed AS (
    SELECT c.*,
           CASE WHEN %(covisit)s = 'checkin_within' THEN c.first_at - %(minutes)s * interval '1 minute'
                ELSE c.first_at END AS start_at,
           CASE WHEN %(covisit)s = 'checkin_within' THEN c.last_at + %(minutes)s * interval '1 minute'
                ELSE c.last_end END AS end_at,
           CASE WHEN %(covisit)s = 'checkin_within' THEN %(exposure)s
                WHEN c.longest_minutes >= %(close_minutes)s THEN 'close' ELSE 'casual' END AS exposure_type,
           coalesce(c.kind = ANY (%(public_kinds)s::text[]), false) AS public
    FROM candidate c
), counted AS MATERIALIZED (  -- visitors is read three times below: counted once per location, not per reference
    SELECT w.*,
           (SELECT count(DISTINCT k.person_key) FROM events.checkins k
            WHERE k.venue_id = w.venue_id AND k.checked_in_at BETWEEN w.start_at AND w.end_at
              AND k.checked_in_at >= %(plo)s AND k.checked_in_at <= %(phi)s)::int AS visitors
    FROM windowed w
)
INSERT INTO trace.location AS l (event_id, ruleset_id, venue_id, day, start_at, end_at, exposure_type, advice_vi,
                                 advice_en, cases, visitors, public, published, published_at, updated_at, withdrawn_at)
SELECT 'loi-' || left(md5(%(ruleset)s || '|' || c.venue_id || '|' || c.day::text), 16), %(ruleset)s, c.venue_id,
       c.day, c.start_at, c.end_at, c.exposure_type,
       %(advice)s::jsonb -> c.exposure_type ->> 'vi', %(advice)s::jsonb -> c.exposure_type ->> 'en',
       c.cases, c.visitors, c.public, c.public AND c.visitors >= %(min_visitors)s,
       CASE WHEN c.public AND c.visitors >= %(min_visitors)s THEN now() END, now(), NULL
FROM counted c
ON CONFLICT (event_id) DO UPDATE SET
    start_at = excluded.start_at, end_at = excluded.end_at, exposure_type = excluded.exposure_type,
    advice_vi = excluded.advice_vi, advice_en = excluded.advice_en, cases = excluded.cases,
    visitors = excluded.visitors, public = excluded.public, published = excluded.published,
    published_at = coalesce(l.published_at, excluded.published_at),
    updated_at = CASE
        WHEN l.withdrawn_at IS NOT NULL
          OR (l.start_at, l.end_at, l.exposure_type, l.advice_vi, l.advice_en)
             IS DISTINCT FROM (excluded.start_at, excluded.end_at, excluded.exposure_type, excluded.advice_vi,
                               excluded.advice_en)
        THEN now() ELSE l.updated_at END,
    withdrawn_at = NULL;

-- name: withdraw_locations
-- A location of a touched pair that no visit supports any more (its cases withdrawn or corrected) is withdrawn:
-- never deleted, so a feed reader sees it go.
UPDATE trace.location l SET withdrawn_at = now(), published = false, updated_at = now()
FROM trace_pairs p
WHERE l.ruleset_id = %(ruleset)s AND l.venue_id = p.venue_id AND l.day = p.day AND l.withdrawn_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM trace.visit v
      WHERE v.ruleset_id = %(ruleset)s AND v.venue_id = p.venue_id
        AND v.checked_in_at >= (p.day::timestamp AT TIME ZONE %(tz)s)
        AND v.checked_in_at < ((p.day + 1)::timestamp AT TIME ZONE %(tz)s));

-- name: insert_run
INSERT INTO trace.run (ruleset_id, trigger, batch_id, started_at, finished_at, cases, visits, venues, contacts,
                       locations)
VALUES (%(ruleset)s, %(trigger)s, %(batch_id)s, %(started_at)s, clock_timestamp(), %(cases)s, %(visits)s,
        %(venues)s, %(contacts)s, %(locations)s)
RETURNING run_id;

-- name: batch_cases
-- A cases batch: its cases (new, corrected, withdrawn: a correction carries the batch's id).
SELECT case_id FROM events.cases WHERE batch_id = %(batch)s
UNION SELECT key ->> 'case_id' FROM ingest.audit WHERE batch_id = %(batch)s AND key ? 'case_id';

-- name: batch_checkin_cases
-- A check-ins batch (and the versions it corrected): the cases whose window holds one of their own check-ins in it,
-- and the traced cases with a visit at one of its venues within %(reach)s minutes (a new contact). The batch is new
-- to the planner's statistics (they hold no row of its id, so they say one row), so no plan may rest on its size:
-- each venue's check-in times are gathered into one array (bv) and a visit is tested against its own venue's times
-- only (an EXISTS over the batch was a nested loop over all of it per visit: 15.8 M rows for 461 visits); a case
-- is looked for only when detected on a day whose window the batch reaches, and its own check-ins in the batch are
-- probed by person (checkins_person_time_idx), never a hash of the whole batch.
WITH b AS (
    SELECT person_key, venue_id, checked_in_at FROM events.checkins WHERE batch_id = %(batch)s
    UNION ALL
    SELECT previous ->> 'person_key', previous ->> 'venue_id', (previous ->> 'checked_in_at')::timestamptz
    FROM ingest.audit WHERE batch_id = %(batch)s AND previous ? 'venue_id'
), bv AS (
    SELECT venue_id, min(checked_in_at) AS lo, max(checked_in_at) AS hi, array_agg(checked_in_at) AS times
    FROM b GROUP BY venue_id
), corrected AS MATERIALIZED (  -- the versions the batch replaced: a few, if any
    SELECT previous ->> 'person_key' AS person_key, (previous ->> 'checked_in_at')::timestamptz AS checked_in_at
    FROM ingest.audit WHERE batch_id = %(batch)s AND previous ? 'venue_id'
), span AS (
    SELECT (min(lo) AT TIME ZONE %(tz)s)::date AS first_day, (max(hi) AT TIME ZONE %(tz)s)::date AS last_day FROM bv
)
SELECT c.case_id
FROM events.cases c
CROSS JOIN span
CROSS JOIN LATERAL (SELECT (c.detected_on - %(before_days)s)::timestamp AT TIME ZONE %(tz)s AS lo,
                           (c.detected_on + 1)::timestamp AT TIME ZONE %(tz)s AS hi) w
WHERE c.detected_on >= span.first_day AND c.detected_on <= span.last_day + %(before_days)s
  AND (EXISTS (SELECT 1 FROM events.checkins k
               WHERE k.person_key = c.person_key AND k.checked_in_at >= w.lo AND k.checked_in_at < w.hi
                 AND k.batch_id = %(batch)s)
       OR EXISTS (SELECT 1 FROM corrected r
                  WHERE r.person_key = c.person_key AND r.checked_in_at >= w.lo AND r.checked_in_at < w.hi))
UNION
SELECT v.case_id
FROM bv
JOIN trace.visit v
  ON v.ruleset_id = %(ruleset)s AND v.venue_id = bv.venue_id
 AND v.checked_in_at <= bv.hi + %(reach)s * interval '1 minute'
 AND greatest(v.visit_end, v.checked_in_at + %(reach)s * interval '1 minute') >= bv.lo
WHERE EXISTS (SELECT 1 FROM unnest(bv.times) AS t(at)
              WHERE t.at >= v.checked_in_at - %(reach)s * interval '1 minute'
                AND t.at <= greatest(v.visit_end, v.checked_in_at + %(reach)s * interval '1 minute'));

-- name: case_contacts
-- The contact check-ins of one case in a rule set (`covidgis trace contacts`): pseudonymised keys only.
SELECT checkin_id, venue_id, checked_in_at, person_key, case_id, overlap_minutes, risk, ruleset_id
FROM trace.exposure
WHERE ruleset_id = %(ruleset)s AND case_id = %(case_id)s
ORDER BY checked_in_at, checkin_id;

-- name: case_traced
SELECT EXISTS (SELECT 1 FROM trace.case_window WHERE ruleset_id = %(ruleset)s AND case_id = %(case_id)s);

-- name: mark_notified
-- A tracer notified a contact (`covidgis trace mark`); only a person with an exposure in the rule set is a contact.
INSERT INTO trace.notification (ruleset_id, person_key, notified_at, notified_by)
SELECT %(ruleset)s, %(person_key)s, clock_timestamp(), %(by)s
WHERE EXISTS (SELECT 1 FROM trace.exposure WHERE ruleset_id = %(ruleset)s AND person_key = %(person_key)s)
RETURNING notified_at;
