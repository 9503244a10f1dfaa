-- name: zones_of_level
-- The public zones of one admin level as the public role sees them (pub.zones: same suppression as the API).
SELECT code, day, admin_level, name, parent_code, level, colour, label_vi, label_en,
       ruleset_id, ruleset_version, ST_AsGeoJSON(geom, 6) AS geometry,
       ST_XMin(geom) AS w, ST_YMin(geom) AS s, ST_XMax(geom) AS e, ST_YMax(geom) AS n
FROM pub.zones
WHERE admin_level = %(admin_level)s
ORDER BY code;
