-- Restricted layer `f1-orders` (issue 13 items 5 and 8): one feature per F1 quarantine order (care.f1_order,
-- derived by `covidgis care f1-orders` and after the quarantine, tests, cases, vaccinations, check-ins and
-- admissions batches): the pseudonymous person key, the facility (centralised) or none (home), place, start, end
-- (the cited rule's; NULL when no rule row was in force), status on the day of the last refresh (active,
-- completed, became_f0, lost), overdue (a due test day missed) and days to the end counted from that day. No stay,
-- case or sample id. The point: the facility's for a centralised order; for a home order a point on its commune's
-- surface (ST_PointOnSurface), never the home; none for an order from a tracing contact alone (no commune known).
CREATE OR REPLACE VIEW restricted.care_f1_orders AS
SELECT o.order_id AS id,
       o.person_key,
       o.facility_id,
       o.place,
       o.start_on,
       o.end_on,
       o.status,
       o.overdue,
       (o.end_on - o.day) AS days_to_end,
       coalesce(f.geom, ST_PointOnSurface(c.geom))::geometry(Point, 4326) AS geom
FROM care.f1_order o
LEFT JOIN events.facilities f ON f.facility_id = o.facility_id
LEFT JOIN admin.area c ON c.code = o.commune_code AND c.valid_to IS NULL AND o.facility_id IS NULL;
