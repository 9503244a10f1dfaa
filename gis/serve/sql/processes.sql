-- Queries of the OGC API processes (gis/serve/processes.py). They read only the public views, as covidgis_public.

-- name: latest_day
SELECT day FROM pub.zones LIMIT 1;

-- name: zone_at_point
SELECT h.admin_level, h.code, h.name, h.level, h.colour, h.label_vi, h.label_en, h.ruleset_id, h.ruleset_version,
       h.day, h.overridden, h.details_suppressed, h.decisive, h.reasons
FROM pub.zones_history h
WHERE h.day = :day
  AND ST_Intersects(h.geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY h.admin_level, h.code;

-- name: route_pieces
-- The route cut by the zones of one admin level; each line piece with its position along the route (0..1).
WITH route AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326) AS g),
pieces AS (
    SELECT h.code, h.name, h.level, h.colour, h.label_vi, h.label_en,
           (ST_Dump(ST_Intersection(h.geom, route.g))).geom AS piece, route.g
    FROM pub.zones_history h, route
    WHERE h.day = :day AND h.admin_level = :admin_level AND ST_Intersects(h.geom, route.g)
)
SELECT code, name, level, colour, label_vi, label_en,
       ST_LineLocatePoint(g, ST_StartPoint(piece)) AS start_at,
       ST_LineLocatePoint(g, ST_EndPoint(piece)) AS end_at,
       ST_Length(piece::geography) AS length_m
FROM pieces
WHERE ST_Dimension(piece) = 1
ORDER BY least(ST_LineLocatePoint(g, ST_StartPoint(piece)), ST_LineLocatePoint(g, ST_EndPoint(piece))), code;

-- name: route_length
SELECT ST_Length(ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326)::geography) AS length_m;
