-- Proposals of a narrow lockdown (gis/trace/proposals.py): per local day, the hamlets holding an exposure venue with
-- at least lockdown_min_contacts contacts, or with at least lockdown_min_f0_residents F0 residents infectious that
-- day. Read from what the trace engine stored (trace.visit, trace.exposure, trace.case_window); written to
-- trace.proposal, whose rows are withdrawn, never deleted.

-- name: lock
-- One proposal run per rule set at a time (a feed job and a CLI run may propose the same day).
SELECT pg_advisory_xact_lock(hashtext('covidgis.trace.proposal:' || %(ruleset)s));

-- name: venue_days
-- Per (hamlet, venue, local day of the F0 visits) of the days asked: the distinct contacts those visits exposed and
-- the F0 behind them (as the restricted layer exposure-venues counts them). A venue with no hamlet (outside the
-- boundaries, or not located) proposes nothing.
WITH days AS (SELECT unnest(%(days)s::date[]) AS day)
SELECT v.area_code, f.venue_id, v.name AS venue_name, v.kind AS venue_kind,
       (f.checked_in_at AT TIME ZONE %(tz)s)::date AS day,
       count(DISTINCT e.person_key)::int AS contacts,
       array_agg(DISTINCT f.case_id ORDER BY f.case_id) AS cases,
       array_agg(DISTINCT e.person_key ORDER BY e.person_key) AS persons
FROM trace.visit f
JOIN trace.exposure e ON e.ruleset_id = f.ruleset_id AND e.case_id = f.case_id AND e.case_checkin_id = f.checkin_id
JOIN events.venues v ON v.venue_id = f.venue_id
WHERE f.ruleset_id = %(ruleset)s AND v.area_code IS NOT NULL
  AND f.checked_in_at >= ((SELECT min(day) FROM days)::timestamp AT TIME ZONE %(tz)s)
  AND f.checked_in_at < (((SELECT max(day) FROM days) + 1)::timestamp AT TIME ZONE %(tz)s)
  AND (f.checked_in_at AT TIME ZONE %(tz)s)::date IN (SELECT day FROM days)
GROUP BY v.area_code, f.venue_id, v.name, v.kind, (f.checked_in_at AT TIME ZONE %(tz)s)::date
ORDER BY day, v.area_code, contacts DESC, f.venue_id;

-- name: residents
-- Per (hamlet, local day asked): the F0 living there (events.cases.area_code) whose infectious window, as traced in
-- the rule set, covers part of the day. Withdrawn cases have no window.
WITH days AS (SELECT unnest(%(days)s::date[]) AS day)
SELECT c.area_code, d.day, count(*)::int AS f0, array_agg(w.case_id ORDER BY w.case_id) AS cases
FROM days d
JOIN trace.case_window w
  ON w.ruleset_id = %(ruleset)s
 AND w.window_start < ((d.day + 1)::timestamp AT TIME ZONE %(tz)s)
 AND w.window_end > (d.day::timestamp AT TIME ZONE %(tz)s)
JOIN events.cases c ON c.case_id = w.case_id
WHERE c.area_code IS NOT NULL
GROUP BY c.area_code, d.day;

-- name: areas
-- Level and population of the hamlets on the day (the boundaries valid then).
SELECT a.code AS area_code, a.level AS admin_level, a.population
FROM admin.area a
WHERE a.code = ANY (%(codes)s::text[]) AND a.valid_from <= %(day)s AND (a.valid_to IS NULL OR a.valid_to > %(day)s);

-- name: upsert
-- A proposal is inserted, or updated in place (updated_at moves only when what it says changed, or it comes back
-- after a withdrawal). Returns whether the row was new and whether it changed.
INSERT INTO trace.proposal AS p (proposal_id, ruleset_id, day, area_code, admin_level, population, contacts,
                                 f0_residents, venues, cases, reasons)
VALUES (%(proposal_id)s, %(ruleset)s, %(day)s, %(area_code)s, %(admin_level)s, %(population)s, %(contacts)s,
        %(f0_residents)s, %(venues)s::text[], %(cases)s::text[], %(reasons)s::jsonb)
ON CONFLICT (proposal_id) DO UPDATE SET
    admin_level = excluded.admin_level, population = excluded.population, contacts = excluded.contacts,
    f0_residents = excluded.f0_residents, venues = excluded.venues, cases = excluded.cases, reasons = excluded.reasons,
    updated_at = CASE
        WHEN p.withdrawn_at IS NOT NULL
          OR (p.population, p.contacts, p.f0_residents, p.venues, p.cases, p.reasons)
             IS DISTINCT FROM (excluded.population, excluded.contacts, excluded.f0_residents, excluded.venues,
                               excluded.cases, excluded.reasons)
        THEN now() ELSE p.updated_at END,
    withdrawn_at = NULL
RETURNING (xmax = 0) AS inserted, updated_at = now() AS changed;

-- name: withdraw
-- Proposals of the days asked that the trace no longer supports (a case withdrawn or corrected, contacts below the
-- threshold): withdrawn, never deleted.
UPDATE trace.proposal SET withdrawn_at = now(), updated_at = now()
WHERE ruleset_id = %(ruleset)s AND day = ANY (%(days)s::date[]) AND withdrawn_at IS NULL
  AND proposal_id <> ALL (%(kept)s::text[]);

-- name: list
SELECT p.proposal_id, p.ruleset_id, p.day, p.area_code, a.name AS area_name, p.admin_level, p.population, p.contacts,
       p.f0_residents, p.venues, p.cases, p.reasons, p.created_at, p.updated_at, p.withdrawn_at
FROM trace.proposal p
LEFT JOIN admin.area a ON a.code = p.area_code AND a.valid_from <= p.day AND (a.valid_to IS NULL OR a.valid_to > p.day)
WHERE p.ruleset_id = %(ruleset)s AND p.day = %(day)s AND (%(withdrawn)s OR p.withdrawn_at IS NULL)
ORDER BY p.withdrawn_at IS NOT NULL, p.contacts DESC, p.f0_residents DESC, p.area_code;

-- name: batch_days_cases
-- A cases batch: every day its cases (their current and previous detection dates) were infectious, plus the days of
-- live proposals citing them (a case whose date moved leaves its old days).
WITH c AS (
    SELECT case_id, detected_on FROM events.cases WHERE batch_id = %(batch)s
    UNION
    SELECT key ->> 'case_id', (previous ->> 'detected_on')::date
    FROM ingest.audit WHERE batch_id = %(batch)s AND key ? 'case_id' AND previous ? 'detected_on'
)
SELECT DISTINCT d::date AS day
FROM c, generate_series(c.detected_on - %(before_days)s, c.detected_on, interval '1 day') d
UNION
SELECT p.day FROM trace.proposal p
WHERE p.ruleset_id = %(ruleset)s AND p.withdrawn_at IS NULL AND p.cases && ARRAY(SELECT case_id FROM c);

-- name: batch_days_checkins
-- A check-ins batch (and the versions it corrected): the local days of its check-ins and the day before (a contact
-- just after midnight exposed by a visit the evening before).
WITH b AS (
    SELECT checked_in_at FROM events.checkins WHERE batch_id = %(batch)s
    UNION ALL
    SELECT (previous ->> 'checked_in_at')::timestamptz
    FROM ingest.audit WHERE batch_id = %(batch)s AND previous ? 'venue_id' AND previous ? 'checked_in_at'
), d AS (SELECT DISTINCT (checked_in_at AT TIME ZONE %(tz)s)::date AS day FROM b)
SELECT day FROM d UNION SELECT day - 1 FROM d;

-- name: batch_days_venues
-- A venues batch (a venue that arrives or moves to another hamlet): the days of its venues' locations.
SELECT DISTINCT l.day
FROM trace.location l JOIN events.venues v ON v.venue_id = l.venue_id
WHERE l.ruleset_id = %(ruleset)s AND v.batch_id = %(batch)s;
