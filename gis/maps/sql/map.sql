-- Statements of the map's JSON API (gis/maps/api.py). They read only the public views (schema `pub`), so the
-- public database role can run them: no personal data, small counts already suppressed by pub.zones_history.

-- name: published
-- The rule set the public zones show, and the days it has zones for.
SELECT max(ruleset_id) AS ruleset_id,
       min(day) AS first_day, max(day) AS last_day
FROM pub.zones_history;

-- name: areas_geojson
-- Current units of one level as a GeoJSON FeatureCollection (5 decimals: ~1 m), built by PostGIS.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', a.code,
        'properties', json_build_object('code', a.code, 'name', a.name, 'parent_code', a.parent_code),
        'geometry', ST_AsGeoJSON(a.geom, 5)::json) ORDER BY a.code), '[]'::json))::text
FROM pub.areas a
WHERE a.level = %(level)s;

-- name: zones_for_day
-- The zone of every unit of one level on one day: just what the map colours with.
SELECT code, level, colour FROM pub.zones_history WHERE day = %(day)s AND admin_level = %(level)s;

-- name: zone_detail
SELECT h.code, h.day, h.admin_level, h.name, h.parent_code, h.level, h.colour, h.label_vi, h.label_en,
       h.ruleset_id, h.ruleset_version, h.overridden, h.details_suppressed, h.decisive, h.reasons,
       p.name AS parent_name
FROM pub.zones_history h
LEFT JOIN pub.areas p ON p.code = h.parent_code
WHERE h.code = %(code)s AND h.day = %(day)s;

-- name: zone_strip
-- A unit's zone on each of the `days` days up to `day` (the popup's strip of colours).
SELECT day, level, colour, label_vi, label_en FROM pub.zones_history
WHERE code = %(code)s AND day > %(day)s - %(days)s AND day <= %(day)s
ORDER BY day;

-- name: area
SELECT a.code, a.name, a.level, a.parent_code, p.name AS parent_name,
       ST_XMin(a.geom) AS xmin, ST_YMin(a.geom) AS ymin, ST_XMax(a.geom) AS xmax, ST_YMax(a.geom) AS ymax
FROM pub.areas a
LEFT JOIN pub.areas p ON p.code = a.parent_code
WHERE a.code = %(code)s;

-- name: names
-- Every current unit with its parent's code, for the name search (held in memory per boundary load).
SELECT a.code, a.name, a.level, a.parent_code,
       ST_XMin(a.geom) AS xmin, ST_YMin(a.geom) AS ymin, ST_XMax(a.geom) AS xmax, ST_YMax(a.geom) AS ymax
FROM pub.areas a;

-- name: locate
-- The smallest current unit containing a point (a hamlet where hamlets exist).
SELECT a.code FROM pub.areas a
WHERE ST_Intersects(a.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY a.level DESC
LIMIT 1;

-- name: facilities_geojson
-- Public places of the given kinds (testing, vaccination, essential goods, quarantine areas).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', f.id,
        'properties', json_build_object('name', f.name, 'kind', f.kind, 'kind_vi', f.kind_vi),
        'geometry', ST_AsGeoJSON(f.geom, 6)::json) ORDER BY f.id), '[]'::json))::text
FROM pub.facilities_public f
WHERE f.kind = ANY(CAST(%(kinds)s AS text[])) AND f.geom IS NOT NULL;

-- name: data_quality_geojson
-- Boundary problems of the latest load, located (points, lines or polygons).
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', q.id,
        'properties', json_build_object('kind', q.kind, 'severity', q.severity, 'code', q.code,
                                        'level', q.level, 'detail', q.detail),
        'geometry', ST_AsGeoJSON(q.geom, 5)::json) ORDER BY q.id), '[]'::json))::text
FROM pub.data_quality q
WHERE q.geom IS NOT NULL;

-- name: locations_geojson
-- Published locations of interest, as the public collection serves them (pub.locations_of_interest: published, not
-- withdrawn), whose window meets the `days` local days up to `day`; the window also in local time for the popup.
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(json_build_object(
        'type', 'Feature',
        'id', l.event_id,
        'properties', json_build_object(
            'event_id', l.event_id, 'venue_name', l.venue_name, 'venue_kind', l.venue_kind,
            'start', l."start", 'end', l."end",
            'start_local', to_char(l."start" AT TIME ZONE %(tz)s, 'HH24:MI DD/MM/YYYY'),
            'end_local', to_char(l."end" AT TIME ZONE %(tz)s, 'HH24:MI DD/MM/YYYY'),
            'exposure_type', l.exposure_type, 'advice_vi', l.advice_vi, 'advice_en', l.advice_en,
            'hamlet_name', l.hamlet_name, 'commune_name', l.commune_name),
        'geometry', ST_AsGeoJSON(l.geom, 6)::json) ORDER BY l."start", l.event_id), '[]'::json))::text
FROM pub.locations_of_interest l
WHERE l.geom IS NOT NULL
  AND l."end" >= ((%(day)s::date - %(days)s + 1)::timestamp AT TIME ZONE %(tz)s)
  AND l."start" < ((%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s);
