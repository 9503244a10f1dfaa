"""The API's zones tiles of the current snapshot, stored once (risk.zone_tile) instead of computed per request.

An uncached tile costs PostgreSQL a few milliseconds (ST_AsMVTGeom and ST_AsMVT over every area the tile meets);
the tiles change only with the snapshot or the boundaries. After a snapshot change the publish step stores the
tiles z5–z14 that meet any zone, each made by the route's own SQL text (gis/serve/fasttiles.py
`zone_tile_statement`, the tile provider's entry in pygeoapi-config.yml) and tagged with the snapshot version and
boundary load it was made from; the route reads a stored tile of the current ones (pub.zone_tiles_stored) and
computes any other. These are the API's tiles (every admin level at every zoom, the provider's properties), not the
PMTiles archive's (one level per zoom, fewer properties: gis/publish/tiles.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from psycopg2 import sql
from sqlalchemy import Engine

from gis.serve.fasttiles import tile_provider, zone_tile_statement
from gis.serve.ogc import load_config
from gis.serve.provider import storage_srid
from gis.serve.tiles import WEB_MERCATOR_SRID
from gis.settings import PROJECT_ROOT

PYGEOAPI_CONFIG = PROJECT_ROOT / "pygeoapi-config.yml"
ZOOMS = range(5, 15)  # as the PMTiles archive: z5–z14; deeper tiles are computed on request
HALF_WORLD = 20037508.342789244  # Web Mercator's half width, metres

CURRENT = """SELECT version AS snapshot, coalesce((SELECT max(id) FROM admin.boundary_load), 0) AS boundaries
FROM risk.snapshot"""
DROP_OTHERS = "DELETE FROM risk.zone_tile WHERE (snapshot, boundaries) <> (%(snapshot)s, %(boundaries)s)"
HELD = "SELECT count(*) FROM risk.zone_tile WHERE (snapshot, boundaries) = (%(snapshot)s, %(boundaries)s)"
# The tiles of zoom z whose envelope meets a stored boundary's box (what the tile SQL's && finds), each made by the
# tile SQL with z, x, y read from the list.
STORE = """INSERT INTO risk.zone_tile (snapshot, boundaries, z, x, y, tile)
SELECT %(snapshot)s, %(boundaries)s, t.z, t.x, t.y, ({tile})
FROM (SELECT DISTINCT %(z)s AS z, gx AS x, gy AS y
      FROM {table} g
      CROSS JOIN LATERAL generate_series(greatest(floor((ST_XMin(g.{geom}) + %(half)s) / %(size)s)::int, 0),
                                         least(floor((ST_XMax(g.{geom}) + %(half)s) / %(size)s)::int, %(last)s)) gx
      CROSS JOIN LATERAL generate_series(greatest(floor((%(half)s - ST_YMax(g.{geom})) / %(size)s)::int, 0),
                                         least(floor((%(half)s - ST_YMin(g.{geom})) / %(size)s)::int, %(last)s)) gy
     ) AS t
ON CONFLICT DO NOTHING"""


@dataclass
class StoredTiles:
    """What the store holds for the snapshot: its version, tiles, and the seconds each zoom took (none: it held
    them already)."""

    snapshot: int
    boundaries: int
    tiles: int
    seconds: float
    seconds_by_zoom: dict[int, float] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        return not self.seconds_by_zoom


def store_statement(config: dict) -> sql.Composed:
    provider = tile_provider(config)
    if storage_srid(provider["storage_crs"]) != WEB_MERCATOR_SRID:
        raise ValueError("the zones' tiles are stored from boundaries kept in Web Mercator (pub.zone_tiles)")
    schema = provider["data"].get("search_path", ["public"])[0]
    tile = zone_tile_statement(config, sql.Identifier("t", "z"), sql.Identifier("t", "x"), sql.Identifier("t", "y"))
    return sql.SQL(STORE).format(
        tile=tile, table=sql.Identifier(schema, provider["table"]), geom=sql.Identifier(provider["geom_field"])
    )


def store_zone_tiles(engine: Engine, zooms: range = ZOOMS) -> StoredTiles:
    """Store the API's zones tiles of the current snapshot (idempotent; the tiles of other snapshots removed), in
    one transaction that sees one moment of the zones."""
    started = time.monotonic()
    statement = store_statement(load_config(PYGEOAPI_CONFIG, {}))
    seconds: dict[int, float] = {}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        current = dict(conn.exec_driver_sql(CURRENT).mappings().one())
        conn.exec_driver_sql(DROP_OTHERS, current)
        held = conn.exec_driver_sql(HELD, current).scalar_one()
        if not held:
            text = statement.as_string(conn.connection.dbapi_connection)
            for z in zooms:
                at = time.monotonic()
                size = 2 * HALF_WORLD / 2**z
                conn.exec_driver_sql(text, {**current, "z": z, "half": HALF_WORLD, "size": size, "last": 2**z - 1})
                seconds[z] = round(time.monotonic() - at, 3)
            held = conn.exec_driver_sql(HELD, current).scalar_one()
    return StoredTiles(
        snapshot=current["snapshot"],
        boundaries=current["boundaries"],
        tiles=held,
        seconds=round(time.monotonic() - started, 3),
        seconds_by_zoom=seconds,
    )
