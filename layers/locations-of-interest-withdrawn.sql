-- Public layer `locations-of-interest-withdrawn`: the locations of interest that were published and are not any more,
-- so PC-Covid (and any copy of the list) can take them down. Two properties: `event_id` and `withdrawn_at`; no venue,
-- no place, no geometry — a withdrawn exposure is no longer news, only its removal is.
--
-- Two ways a published location stops being one: the cases that supported it were withdrawn or corrected away (the
-- engine sets withdrawn_at), or it no longer qualifies (its venue's kind became non-public, corrected check-ins left
-- fewer visitors than the threshold: `published` false, withdrawn_at empty); then withdrawn_at here is its last
-- update. A location never published is never listed here (security_barrier, as pub.locations_of_interest). Same
-- rule set as pub.locations_of_interest.
CREATE OR REPLACE VIEW pub.locations_of_interest_withdrawn WITH (security_barrier) AS
SELECT l.event_id AS id,
       l.event_id,
       coalesce(l.withdrawn_at, l.updated_at) AS withdrawn_at,
       NULL::geometry(Point, 4326) AS geom  -- always empty: the provider wants a geometry column
FROM trace.location l
WHERE l.ruleset_id = 'vn-pccovid-2022' AND l.published_at IS NOT NULL AND NOT l.published;
