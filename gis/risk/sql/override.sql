-- The steering committee's overrides (gis/risk/override.py) and the zones of one day as `covidgis zones show` lists them.

-- name: area_exists
SELECT 1 FROM admin.area WHERE code = %(area)s;

-- name: add_override
INSERT INTO risk.override (area_code, start_day, end_day, level, reason, author)
VALUES (%(area)s, %(start)s, %(end)s, %(level)s, %(reason)s, %(author)s)
RETURNING id;

-- name: zones_of_day
-- Every area of one level on one day with the name it had that day; the highest level first.
SELECT z.area_code, a.name, z.level, z.colour, z.label_vi, z.computed_level, z.decisive, z.reasons
FROM risk.zone z
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
WHERE z.ruleset_id = %(ruleset)s AND z.day = %(day)s AND z.admin_level = %(admin_level)s
ORDER BY z.level DESC, a.name;

-- name: proposal
-- A narrow-lockdown proposal of the trace stage (trace.proposal, migration 0009), read as a table: the area it names
-- and the criteria it met (their parameters and thresholds; the counts and venues stay in the restricted layer).
SELECT proposal_id, ruleset_id, day, area_code, withdrawn_at,
       ARRAY(SELECT DISTINCT r ->> 'parameter' || ' ≥ ' || (r ->> 'threshold')
             FROM jsonb_array_elements(reasons) r ORDER BY 1) AS criteria
FROM trace.proposal WHERE proposal_id = %(proposal)s;
