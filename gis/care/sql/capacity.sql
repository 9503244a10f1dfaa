-- Criterion 3 (Decision 4800) per province and district: what gis/care/capacity.py evaluates. It first runs
-- sql/occupancy.sql's stays_at, per_room and per_facility in the same transaction (the replay at the end of the
-- day), so per_facility holds each facility's staffed and free staffed beds then.

-- name: tiers_by_area
-- Treatment facilities by tier, summed over each province and district they lie in (through their commune); a
-- facility with no located commune or no tier counts nowhere. Only facilities with registered rooms (the rooms
-- feed: staffed beds) are in per_facility with staffed_beds; the others have staffed_beds NULL.
SELECT a.code AS area_code, a.level AS admin_level, p.tier, count(*)::int AS facilities,
       (sum(p.staffed_beds))::int AS staffed_beds, (sum(p.occupied))::int AS occupied,
       (sum(p.free_staffed_beds))::int AS free_staffed_beds
FROM per_facility p
JOIN admin.area c ON c.code = p.commune_code AND c.valid_to IS NULL
JOIN admin.area d ON d.code = c.parent_code AND d.valid_to IS NULL
JOIN admin.area a ON a.code IN (d.code, d.parent_code) AND a.valid_to IS NULL AND a.level IN (1, 2)
WHERE p.kind = 'treatment' AND p.tier IS NOT NULL
GROUP BY a.code, a.level, p.tier

-- name: assessed_provinces
-- The provinces assessed: those with at least one registered room (the rooms feed) in a treatment facility.
SELECT DISTINCT pr.code
FROM events.rooms r
JOIN events.facilities f ON f.facility_id = r.facility_id AND f.kind = 'treatment'
JOIN admin.area c ON c.code = f.commune_code AND c.valid_to IS NULL
JOIN admin.area d ON d.code = c.parent_code AND d.valid_to IS NULL
JOIN admin.area pr ON pr.code = d.parent_code AND pr.valid_to IS NULL AND pr.level = 1
ORDER BY pr.code

-- name: districts
-- The districts in force of the assessed provinces.
SELECT d.code, d.parent_code AS province
FROM admin.area d
WHERE d.level = 2 AND d.valid_to IS NULL AND d.parent_code = ANY(%(provinces)s)
ORDER BY d.code

-- name: delete_day
DELETE FROM care.capacity WHERE day = %(day)s

-- name: insert
INSERT INTO care.capacity (day, area_code, admin_level, met, criteria, ruleset)
VALUES (%(day)s, %(area_code)s, %(admin_level)s, %(met)s, %(criteria)s::jsonb, %(ruleset)s)

-- name: admissions_days
-- The local days an admissions batch touched: from its earliest event to the last day with indicators (a stay
-- carries a change forward), NULLs when the batch is empty.
SELECT (min(a.at) AT TIME ZONE %(tz)s)::date AS first,
       greatest((max(a.at) AT TIME ZONE %(tz)s)::date, (SELECT max(day) FROM stats.indicator)) AS last
FROM events.admissions a
WHERE a.batch_id = %(batch)s

-- name: last_computed
SELECT max(day) FROM stats.indicator
