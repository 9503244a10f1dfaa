-- Restricted layer `trace-indicators` (roles committee, analyst, tracer): what no tracing system published, per rule
-- set, per day and per ISO week (period 'day' | 'week', period_start its first day), and per venue kind (venue_kind
-- 'all' for every kind; the F0 and publication columns are only on 'all' rows). Small counts are not suppressed
-- (restricted). Each group of columns counts its own cohort:
--   F0 (detected in the period, traced in the rule set):
--     f0, f0_with_checkin (at least one check-in in the infectious window), share_f0_with_checkin,
--     contacts_per_f0 (distinct contact people per F0, summed over the F0, over f0)
--   locations of interest first published in the period, by a trace run after an ingest batch:
--     locations_published, seconds_to_publish_median / _p90: from the batch landing (ingest.batch.finished_at)
--     to the run that published it committing (trace.run.finished_at; published_at is that run's start)
--   contacts whose first exposure (at this venue kind, for a kind row) fell in the period:
--     contacts, quarantined_24h / _72h and their shares: an F1 stay of the person starting on the exposure's local
--     day or the next (24 h) / within 3 days (72 h); stays are dated by day, so "24 h" is "by the next day"
--     became_f0, yield_share: the contact was detected as a case (not withdrawn, not one of the exposing cases)
--     within 14 days after the exposure
-- Local days are Asia/Ho_Chi_Minh (COVIDGIS_TRACE_TIMEZONE's default: a view cannot read a setting).
CREATE OR REPLACE VIEW restricted.trace_indicators AS
WITH f0 AS (
    SELECT w.ruleset_id, w.case_id, w.detected_on AS day,
           EXISTS (SELECT 1 FROM trace.visit v WHERE v.ruleset_id = w.ruleset_id AND v.case_id = w.case_id)
               AS with_checkin,
           (SELECT count(DISTINCT e.person_key) FROM trace.exposure e
            WHERE e.ruleset_id = w.ruleset_id AND e.case_id = w.case_id)::int AS contacts
    FROM trace.case_window w
), published AS (
    SELECT l.ruleset_id, (l.published_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
           extract(epoch FROM r.finished_at - b.finished_at)::double precision AS seconds
    FROM trace.location l
    LEFT JOIN LATERAL (
        SELECT r.batch_id, r.finished_at FROM trace.run r
        WHERE r.ruleset_id = l.ruleset_id AND r.trigger = 'batch'
          AND l.published_at BETWEEN r.started_at - interval '1 second' AND r.finished_at
        ORDER BY r.started_at DESC LIMIT 1
    ) r ON true
    LEFT JOIN ingest.batch b ON b.id = r.batch_id
    WHERE l.published_at IS NOT NULL
), exposed AS (
    -- one row per (contact, venue kind) with its first exposure there, and once more for 'all'
    SELECT x.ruleset_id, x.person_key, k.venue_kind, min(x.exposed_on) AS day, min(x.checked_in_at) AS first_at,
           max(x.exposed_on) AS last_day, array_agg(DISTINCT x.case_id) AS cases
    FROM trace.exposure x
    LEFT JOIN events.venues v ON v.venue_id = x.venue_id
    CROSS JOIN LATERAL (VALUES ('all'), (coalesce(v.kind, 'unknown'))) k(venue_kind)
    GROUP BY x.ruleset_id, x.person_key, k.venue_kind
), contacts AS (
    SELECT e.ruleset_id, e.venue_kind, e.day,
           EXISTS (SELECT 1 FROM events.quarantine_stays q
                   WHERE q.person_key = e.person_key AND q.start_on BETWEEN e.day AND e.day + 1) AS q24,
           EXISTS (SELECT 1 FROM events.quarantine_stays q
                   WHERE q.person_key = e.person_key AND q.start_on BETWEEN e.day AND e.day + 3) AS q72,
           EXISTS (SELECT 1 FROM events.cases c
                   WHERE c.person_key = e.person_key AND c.case_id <> ALL (e.cases)
                     AND c.status IS DISTINCT FROM 'withdrawn'
                     AND c.detected_on >= e.day AND c.detected_on <= e.last_day + 14) AS became_f0
    FROM exposed e
), periods AS (
    SELECT 'day'::text AS period UNION ALL SELECT 'week'
), f0_p AS (
    SELECT f.ruleset_id, p.period,
           CASE p.period WHEN 'day' THEN f.day ELSE date_trunc('week', f.day)::date END AS period_start,
           count(*)::int AS f0, (count(*) FILTER (WHERE f.with_checkin))::int AS f0_with_checkin,
           sum(f.contacts)::int AS f0_contacts
    FROM f0 f CROSS JOIN periods p GROUP BY 1, 2, 3
), pub_p AS (
    SELECT l.ruleset_id, p.period,
           CASE p.period WHEN 'day' THEN l.day ELSE date_trunc('week', l.day)::date END AS period_start,
           count(*)::int AS locations_published,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY l.seconds) AS seconds_median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY l.seconds) AS seconds_p90
    FROM published l CROSS JOIN periods p GROUP BY 1, 2, 3
), contacts_p AS (
    SELECT c.ruleset_id, c.venue_kind, p.period,
           CASE p.period WHEN 'day' THEN c.day ELSE date_trunc('week', c.day)::date END AS period_start,
           count(*)::int AS contacts, (count(*) FILTER (WHERE c.q24))::int AS quarantined_24h,
           (count(*) FILTER (WHERE c.q72))::int AS quarantined_72h,
           (count(*) FILTER (WHERE c.became_f0))::int AS became_f0
    FROM contacts c CROSS JOIN periods p GROUP BY 1, 2, 3, 4
), keys AS (
    SELECT ruleset_id, 'all'::text AS venue_kind, period, period_start FROM f0_p
    UNION SELECT ruleset_id, 'all', period, period_start FROM pub_p
    UNION SELECT ruleset_id, venue_kind, period, period_start FROM contacts_p
)
SELECT k.ruleset_id || '@' || k.period || '@' || k.period_start || '@' || k.venue_kind AS id,
       k.ruleset_id, k.period, k.period_start,
       CASE k.period WHEN 'day' THEN k.period_start ELSE k.period_start + 6 END AS period_end,
       k.venue_kind,
       f.f0, f.f0_with_checkin,
       round(f.f0_with_checkin::numeric / nullif(f.f0, 0), 4)::double precision AS share_f0_with_checkin,
       round(f.f0_contacts::numeric / nullif(f.f0, 0), 2)::double precision AS contacts_per_f0,
       u.locations_published,
       round(u.seconds_median::numeric, 1)::double precision AS seconds_to_publish_median,
       round(u.seconds_p90::numeric, 1)::double precision AS seconds_to_publish_p90,
       coalesce(c.contacts, 0) AS contacts,
       coalesce(c.quarantined_24h, 0) AS quarantined_24h,
       round(c.quarantined_24h::numeric / nullif(c.contacts, 0), 4)::double precision AS share_quarantined_24h,
       coalesce(c.quarantined_72h, 0) AS quarantined_72h,
       round(c.quarantined_72h::numeric / nullif(c.contacts, 0), 4)::double precision AS share_quarantined_72h,
       coalesce(c.became_f0, 0) AS became_f0,
       round(c.became_f0::numeric / nullif(c.contacts, 0), 4)::double precision AS yield_share,
       NULL::geometry(Geometry, 4326) AS geom  -- a table, not a map: pygeoapi serves features without geometry
FROM keys k
LEFT JOIN f0_p f ON k.venue_kind = 'all' AND (f.ruleset_id, f.period, f.period_start) = (k.ruleset_id, k.period,
                                                                                          k.period_start)
LEFT JOIN pub_p u ON k.venue_kind = 'all' AND (u.ruleset_id, u.period, u.period_start) = (k.ruleset_id, k.period,
                                                                                           k.period_start)
LEFT JOIN contacts_p c ON (c.ruleset_id, c.venue_kind, c.period, c.period_start) = (k.ruleset_id, k.venue_kind,
                                                                                      k.period, k.period_start);
