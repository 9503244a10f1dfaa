-- What the vector tiles of `zones` read: the current zone of every area (risk.zone_rows, layers/_zone_rows.sql, as
-- pub.zones reads them), with only the tiles' properties and the boundary already in Web Mercator
-- (admin.area.geom_webmercator, migration 0018). No counts at all, so none of the masking joins: the tiles carry
-- scalars only (pygeoapi-config.yml `tile_properties`). tests/serve/test_serve_tiles.py holds it to pub.zones.
CREATE OR REPLACE VIEW pub.zone_tiles AS
SELECT r.area_code AS code,
       r.day,
       r.admin_level,
       r.name,
       r.parent_code,
       r.level,
       r.colour,
       r.label_vi,
       r.label_en,
       r.geom_webmercator AS geom
FROM risk.zone_rows r;

-- Not a collection: the stored tiles of pub.zone_tiles (migration 0021, written by gis/publish/apitiles.py) of the
-- current snapshot and boundary load only; the public tile route reads a tile here before computing it.
CREATE OR REPLACE VIEW pub.zone_tiles_stored AS
SELECT t.z, t.x, t.y, t.tile
FROM risk.zone_tile t
WHERE t.snapshot = (SELECT version FROM risk.snapshot)
  AND t.boundaries = coalesce((SELECT max(id) FROM admin.boundary_load), 0);
