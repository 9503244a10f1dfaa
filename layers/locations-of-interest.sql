-- Public layer `locations-of-interest` (issue 12, item 6): the places an F0 was while infectious, as PC-Covid and
-- citizens read them — venue, window, exposure type and advice; no person key, case id or count of people.
--
-- Only rows of trace.location that the engine published (a public venue kind and at least
-- COVIDGIS_TRACE_PUBLISH_MIN_VISITORS distinct visitors in the window, so a listing never points at one person) and
-- that are not withdrawn. Which rule set is public: the default trace rule set, vn-pccovid-2022
-- (gis/trace/rules.py DEFAULT_TRACE_RULESET; COVIDGIS_TRACE_RULESET's default). A view cannot read the settings, and
-- trace has no `published` row like risk.published yet: a province that traces with another rule set changes the
-- literal below (and in locations-of-interest-withdrawn.sql) until it has one.
--
-- `id` (= event_id) is the item id the server keeps out of the properties; `event_id` is the property PC-Covid reads.
-- Unlike the other pub views, the WHERE clause hides private rows (locations never published: non-public venue kinds,
-- too few visitors), so the view is a security_barrier: no filter a caller sends is evaluated below it, on those rows.
-- The cost (PostGIS `&&` is not leakproof, so a bbox query does not use the venues' GiST index) is small: a province
-- has hundreds of published locations, not millions.
CREATE OR REPLACE VIEW pub.locations_of_interest WITH (security_barrier) AS
SELECT l.event_id AS id,
       l.event_id,
       l.venue_id,
       v.name AS venue_name,
       v.kind AS venue_kind,
       l.start_at AS "start",
       l.end_at AS "end",
       l.exposure_type,
       l.advice_vi,
       l.advice_en,
       l.published_at,
       l.updated_at,
       h.name AS hamlet_name,
       c.name AS commune_name,
       v.geom
FROM trace.location l
JOIN events.venues v ON v.venue_id = l.venue_id
LEFT JOIN admin.area h ON h.code = v.area_code AND h.level = 4 AND h.valid_to IS NULL
LEFT JOIN admin.area c ON c.code = v.commune_code AND c.level = 3 AND c.valid_to IS NULL
WHERE l.ruleset_id = 'vn-pccovid-2022' AND l.published AND l.withdrawn_at IS NULL;
