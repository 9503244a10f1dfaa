-- What the demo-data generator reads about the current areas.

-- name: hamlets
-- Current hamlets with population and a few random points inside each (seeded, so the output is repeatable).
SELECT h.code, h.parent_code AS commune, c.parent_code AS district, coalesce(h.population, 0) AS population,
       array_agg(round(ST_X(p.geom)::numeric, 6) ORDER BY p.path) AS lons,
       array_agg(round(ST_Y(p.geom)::numeric, 6) ORDER BY p.path) AS lats
FROM admin.area h
JOIN admin.area c ON c.code = h.parent_code AND c.valid_to IS NULL
CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(h.geom, 4, %(seed)s)) p
WHERE h.level = 4 AND h.valid_to IS NULL
GROUP BY h.code, h.parent_code, c.parent_code, h.population
ORDER BY h.code

-- name: communes
SELECT code, name, parent_code AS district FROM admin.area WHERE level = 3 AND valid_to IS NULL ORDER BY code

-- name: neighbours
-- Communes that touch (or nearly: boundaries have slivers), for the spread of the outbreak.
SELECT a.code, b.code
FROM admin.area a JOIN admin.area b
  ON a.code < b.code AND ST_DWithin(a.geom, b.geom, 0.002)
WHERE a.level = 3 AND b.level = 3 AND a.valid_to IS NULL AND b.valid_to IS NULL
ORDER BY 1, 2
