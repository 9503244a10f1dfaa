-- Queries of the OGC API processes (gis/serve/processes.py). They read only the public views, as covidgis_public.

-- name: latest_day
SELECT day FROM pub.zones LIMIT 1;

-- name: zone_at_point
SELECT h.admin_level, h.code, h.name, h.level, h.colour, h.label_vi, h.label_en, h.ruleset_id, h.ruleset_version,
       h.day, h.overridden, h.details_suppressed, h.decisive, h.reasons
FROM pub.zones_history h
WHERE h.day = %(day)s
  AND ST_Intersects(h.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY h.admin_level, h.code;

-- name: route_pieces
-- The route cut by the zones of one admin level: one row per piece, in route order. Each area the route touches
-- (GiST index, then ST_Intersects with the route prepared once for all areas) is cut by the whole route once; a
-- piece is placed by one ST_LineLocatePoint per end, for ordering only (it was computed four times). The work grows
-- with areas touched × positions, which MAX_ROUTE_POINTS and MAX_ROUTE_KM bound (10,000 positions took 46–118 s;
-- 400 positions within the limits take 15–200 ms on Đồng Nai). Cutting segment by segment (ST_DumpSegments, a GiST
-- probe per segment) was measured too: as fast to 7× slower on those routes, each segment × area pair paying its
-- own GEOS call (benchmarks/route_risk.py). A stretch travelled twice counts once per colour: PostGIS dissolves
-- the route's overlapping parts when it cuts them.
WITH route AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(route)s), 4326) AS g),
piece AS (
    SELECT h.code, h.name, h.level, h.colour, h.label_vi, h.label_en, h.ruleset_id,
           (ST_Dump(ST_Intersection(h.geom, route.g))).geom AS p, route.g
    FROM pub.zones_history h, route
    WHERE h.day = %(day)s AND h.admin_level = %(admin_level)s AND ST_Intersects(h.geom, route.g)
)
SELECT code, name, level, colour, label_vi, label_en, ruleset_id, ST_Length(p::geography) AS length_m
FROM piece
WHERE ST_Dimension(p) = 1
ORDER BY least(ST_LineLocatePoint(g, ST_StartPoint(p)), ST_LineLocatePoint(g, ST_EndPoint(p))), code;
