-- Restricted layer `exposure-venues` (roles tracer, analyst, committee): every venue an F0 visited while infectious,
-- one feature per (rule set, venue, local day) as trace.location holds them — published or not, withdrawn ones too —
-- with the F0 and contact counts the public list never shows.
--   f0              distinct F0 with a visit there inside the window (trace.visit; 0 once withdrawn)
--   visitors        distinct people who checked in during the window, F0 included (what the publication threshold
--                   compares with COVIDGIS_TRACE_PUBLISH_MIN_VISITORS; as last computed)
--   contacts        distinct people exposed there by an F0 check-in inside the window (trace.exposure via the F0's
--                   visit); close_contacts those of them with a close exposure
-- A window of one day can reach into the next (±60 minutes around a check-in before midnight): an F0 visit in both
-- windows counts in both, as its contacts were exposed in each.
--   status          published | below_threshold (public kind, too few visitors) | not_public (the kind is not
--                   published: offices, factories — their staff are notified directly) | withdrawn (no case supports it)
CREATE OR REPLACE VIEW restricted.exposure_venues AS
SELECT l.event_id AS id,
       l.ruleset_id,
       l.venue_id,
       v.name AS venue_name,
       v.kind AS venue_kind,
       l.day,
       l.start_at,
       l.end_at,
       l.exposure_type,
       coalesce(x.f0, 0) AS f0,
       l.visitors,
       coalesce(x.contacts, 0) AS contacts,
       coalesce(x.close_contacts, 0) AS close_contacts,
       l.public,
       l.published,
       CASE WHEN l.withdrawn_at IS NOT NULL THEN 'withdrawn' WHEN l.published THEN 'published'
            WHEN l.public THEN 'below_threshold' ELSE 'not_public' END AS status,
       l.published_at,
       l.updated_at,
       l.withdrawn_at,
       v.area_code,
       h.name AS hamlet_name,
       v.commune_code,
       c.name AS commune_name,
       v.geom
FROM trace.location l
LEFT JOIN events.venues v ON v.venue_id = l.venue_id
LEFT JOIN admin.area h ON h.code = v.area_code AND h.level = 4 AND h.valid_to IS NULL
LEFT JOIN admin.area c ON c.code = v.commune_code AND c.level = 3 AND c.valid_to IS NULL
LEFT JOIN LATERAL (
    SELECT count(DISTINCT f.case_id)::int AS f0, count(DISTINCT e.person_key)::int AS contacts,
           (count(DISTINCT e.person_key) FILTER (WHERE e.risk = 'close'))::int AS close_contacts
    FROM trace.visit f
    LEFT JOIN trace.exposure e
      ON e.ruleset_id = f.ruleset_id AND e.case_id = f.case_id AND e.case_checkin_id = f.checkin_id
    WHERE f.ruleset_id = l.ruleset_id AND f.venue_id = l.venue_id
      AND f.checked_in_at BETWEEN l.start_at AND l.end_at
) x ON true;
