-- The public zones as Mapbox Vector Tiles for the snapshot's PMTiles archive (gis/publish/tiles.py): the same rows
-- as the other files of the snapshot (pub.zones' rows, read from pub.zone_tiles), only the contract's properties.

-- name: materialise
-- The public zones read once for every zoom (every zoom draws the same rows), from pub.zone_tiles: pub.zones' rows
-- (risk.zone_rows) without its masking joins, the boundaries as stored in Web Mercator (admin.area.geom_webmercator,
-- which PostgreSQL keeps equal to ST_Transform(geom, 3857)), so nothing is projected here. A temporary table is also
-- never read by parallel workers, so ST_AsMVT is never split into partial tiles (which it would concatenate).
-- Dropped after the archive, or with the transaction.
DROP TABLE IF EXISTS publish_tile_zone;
CREATE TEMP TABLE publish_tile_zone ON COMMIT DROP AS
SELECT code, name, admin_level, level, colour, label_vi, label_en, geom
FROM pub.zone_tiles;

-- name: drop
DROP TABLE publish_tile_zone;

-- name: bounds
-- The extent of every public zone, west, south, east, north (EPSG:4326; a box in Web Mercator is one in degrees).
SELECT ST_XMin(e) AS west, ST_YMin(e) AS south, ST_XMax(e) AS east, ST_YMax(e) AS north
FROM (SELECT ST_Transform(ST_SetSRID(CAST(ST_Extent(geom) AS geometry), 3857), 4326) AS e FROM publish_tile_zone) s;

-- name: tile_settings
-- For the rest of the publish transaction: no JIT (the zoom statements' cost estimates ask for seconds of it, for
-- nothing), and room to sort a zoom's pieces in memory.
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';

-- name: zoom_tiles
-- Every tile of zoom `z` with a zone of `admin_level` in it, in one pass: each zone goes to the tiles its bounding
-- box spans that its geometry meets (with the tile's buffer), is clipped and quantised into each by ST_AsMVTGeom
-- (`extent` 4096, `buffer` 64), and the pieces are grouped by tile into one MVT layer (`layer`). A tile whose only
-- content is other tiles' buffers is left out. The rows come block by block: a block is the tiles under one parent
-- tile `shift` zooms up, the blocks in the order `ranks` gives them (the parents' places in tile-id order, as a grid
-- from parent `block_x0`, `block_y0`, column by column, `block_rows` tall), so the caller sorts one block at a time
-- (the tile ids of a parent's children are one contiguous run). `size` is a tile's width in metres, `n` the tiles
-- across the world (2^z), `margin` the buffer over the extent.
WITH zone AS (
    SELECT * FROM publish_tile_zone WHERE admin_level = %(admin_level)s
), piece AS (
    SELECT zone.*, x, y, ST_TileEnvelope(%(z)s, x, y) AS tile,
           -- the place of the tile's block in the order
           (CAST(%(ranks)s AS int[]))[1 + ((x >> %(shift)s) - %(block_x0)s) * %(block_rows)s
                                        + ((y >> %(shift)s) - %(block_y0)s)] AS rank
    FROM zone,
         generate_series(greatest(0, floor((ST_XMin(geom) + 20037508.342789244) / %(size)s - %(margin)s)::int),
                         least(%(n)s - 1, floor((ST_XMax(geom) + 20037508.342789244) / %(size)s + %(margin)s)::int))
             AS x,
         generate_series(greatest(0, floor((20037508.342789244 - ST_YMax(geom)) / %(size)s - %(margin)s)::int),
                         least(%(n)s - 1, floor((20037508.342789244 - ST_YMin(geom)) / %(size)s + %(margin)s)::int))
             AS y
    WHERE ST_Intersects(geom, ST_TileEnvelope(%(z)s, x, y, margin => %(margin)s))
)
SELECT piece.x, piece.y, ST_AsMVT(feature, %(layer)s, %(extent)s, 'geom') AS mvt
FROM piece
CROSS JOIN LATERAL (
    SELECT piece.code, piece.name, piece.admin_level, piece.level, piece.colour, piece.label_vi, piece.label_en,
           ST_AsMVTGeom(piece.geom, piece.tile, %(extent)s, %(buffer)s, true) AS geom
) feature
WHERE piece.rank IS NOT NULL
GROUP BY piece.rank, piece.x, piece.y
HAVING bool_or(piece.geom && piece.tile)
ORDER BY piece.rank;
