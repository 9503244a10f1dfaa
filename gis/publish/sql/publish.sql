-- The public snapshot as static files read it: the same views (and suppression) as the public API.

-- name: snapshot
-- The snapshot version the files are of, the published rule set, the zones' data day and the last trace run (the
-- locations of interest's version, as in the API's ETag: a trace run may change them without a new snapshot).
SELECT s.version, s.changed_at, p.ruleset_id,
       (SELECT max(day) FROM pub.zones) AS zones_day,
       coalesce((SELECT trace FROM pub.data_version), 0) AS trace_run
FROM risk.snapshot s LEFT JOIN risk.published p ON true;

-- name: zones
-- One admin level's current public zones (pub.zones), geometry as GeoJSON text and WKB, with its bbox.
SELECT code, day, admin_level, name, parent_code, level, colour, label_vi, label_en, ruleset_id, ruleset_version,
       overridden, details_suppressed,
       ST_AsGeoJSON(geom, 6) AS geojson, ST_AsBinary(geom) AS wkb,
       ST_XMin(geom) AS west, ST_YMin(geom) AS south, ST_XMax(geom) AS east, ST_YMax(geom) AS north
FROM pub.zones
WHERE admin_level = %(admin_level)s
ORDER BY code;

-- name: export_snapshot
-- The publish transaction's snapshot, for the connection that writes the tiles beside it (pg_dump -j's way).
SELECT pg_export_snapshot();

-- name: import_snapshot
-- First in that connection's REPEATABLE READ transaction: see exactly what the publish transaction sees.
SET TRANSACTION SNAPSHOT %(snapshot)s;

-- name: levels_present
SELECT DISTINCT admin_level FROM pub.zones ORDER BY admin_level;

-- name: has_locations
SELECT to_regclass('pub.locations_of_interest') IS NOT NULL;

-- name: locations_digest
-- What the static folder's locations of interest show, as one digest: a trace run that leaves it unchanged (the same
-- rows, the same times) need not publish again.
SELECT md5(coalesce(string_agg(l::text, '|' ORDER BY l.event_id), '')) FROM pub.locations_of_interest l;

-- name: snapshot_version
SELECT version FROM risk.snapshot;

-- name: locations
-- The public locations of interest (pub.locations_of_interest), as the API serves them.
SELECT event_id, venue_name, venue_kind, "start", "end", exposure_type, advice_vi, advice_en, published_at,
       updated_at, ST_AsGeoJSON(geom, 6) AS geojson
FROM pub.locations_of_interest
ORDER BY event_id;
