-- What the vector tiles of `zones` read: the current zone of every area (the same rows as pub.zones,
-- layers/zones.sql), with only the tiles' properties and the boundary already in Web Mercator
-- (admin.area.geom_webmercator, migration 0018). No counts at all, so none of the masking joins: the tiles carry
-- scalars only (pygeoapi-config.yml `tile_properties`). tests/serve/test_serve_tiles.py holds it to pub.zones.
CREATE OR REPLACE VIEW pub.zone_tiles AS
SELECT z.area_code AS code,
       z.day,
       z.admin_level,
       a.name,
       a.parent_code,
       z.level,
       z.colour,
       z.label_vi,
       z.label_en,
       a.geom_webmercator AS geom
FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day AND (a.valid_to IS NULL OR a.valid_to > z.day)
WHERE z.day = (SELECT max(z.day) FROM risk.zone z WHERE z.ruleset_id = (SELECT ruleset_id FROM risk.published));

-- Not a collection: the stored tiles of pub.zone_tiles (migration 0021, written by gis/publish/apitiles.py) of the
-- current snapshot and boundary load only; the public tile route reads a tile here before computing it.
CREATE OR REPLACE VIEW pub.zone_tiles_stored AS
SELECT t.z, t.x, t.y, t.tile
FROM risk.zone_tile t
WHERE t.snapshot = (SELECT version FROM risk.snapshot)
  AND t.boundaries = coalesce((SELECT max(id) FROM admin.boundary_load), 0);
