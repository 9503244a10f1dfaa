"""Vector tiles (OGC API Tiles, MVT) from PostGIS with integer SRIDs (referenced by dotted path in the config).

pygeoapi's MVT-postgresql provider transforms with text SRIDs ('EPSG:3857'), which makes PostGIS 3.3 build a PROJ
pipeline per row (~1 s a tile); integer SRIDs take ~1 ms. Tiles hold the provider's `tile_properties` (scalars
only, so the tiles stay small); the server's response cache keeps hot tiles per data version. Tile-set metadata
answers JSON when no format is asked for, TileJSON 3.0 for WebMercatorQuad, and 404 for an unknown tile matrix set
(pygeoapi's raised AttributeError, NotImplementedError and UnboundLocalError: 500s).

A WebMercatorQuad tile is one SQL text (`tile_statement`), run by this provider and by the direct route of the public
zones' tiles (gis/serve/fasttiles.py), which answers those without pygeoapi's Python path.
"""

from __future__ import annotations

import logging

from geoalchemy2.functions import ST_AsMVT, ST_AsMVTGeom, ST_MakeEnvelope, ST_Transform
from psycopg2 import sql
from pygeoapi.models.provider.base import TileMatrixSetEnum, TilesMetadataFormat
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError, ProviderTilesetIdNotFoundError
from pygeoapi.util import url_join
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from gis.serve.provider import database_errors, json_schema, shown, storage_srid, with_statement_timeout

LOG = logging.getLogger(__name__)
WEB_MERCATOR = TileMatrixSetEnum.WEBMERCATORQUAD.value
WORLD_CRS84 = TileMatrixSetEnum.WORLDCRS84QUAD.value
EXTENT, BUFFER = 4096, 64
TILEJSON_TYPES = {"boolean": "Boolean", "integer": "Number", "number": "Number"}  # everything else is a String
WEB_MERCATOR_SRID = 3857
# One WebMercatorQuad tile: the rows whose stored boundary meets the tile, clipped and quantised by ST_AsMVTGeom.
TILE_SQL = """SELECT ST_AsMVT(mvtrow.*, {layer}, {extent}, 'mvtgeom') FROM (
    SELECT ST_AsMVTGeom({shown}, ST_TileEnvelope({z}, {x}, {y}), {extent}, {buffer}, true) AS mvtgeom, {columns}
    FROM {table} WHERE {geom} && {envelope}) AS mvtrow"""
TILE_Z, TILE_X, TILE_Y = sql.Placeholder("z"), sql.Placeholder("x"), sql.Placeholder("y")


def tile_statement(
    table: tuple[str, ...],
    geom: str,
    columns: list[str],
    layer: str,
    srid: int,
    z: sql.Composable = TILE_Z,
    x: sql.Composable = TILE_X,
    y: sql.Composable = TILE_Y,
) -> sql.Composed:
    """The MVT of tile z/x/y (WebMercatorQuad) of `table` (schema, name), one layer named `layer` with `columns`.

    z, x, y are %(z)s, %(x)s, %(y)s unless other SQL is given (columns of a tile list). Boundaries stored in another
    SRID are projected per row; stored in Web Mercator (pub.zone_tiles), they are read as they are."""
    envelope = sql.SQL("ST_TileEnvelope({}, {}, {})").format(z, x, y)
    stored = sql.Identifier(geom)
    if srid != WEB_MERCATOR_SRID:
        shown: sql.Composable = sql.SQL("ST_Transform({}, {})").format(stored, sql.Literal(WEB_MERCATOR_SRID))
        envelope = sql.SQL("ST_Transform({}, {})").format(envelope, sql.Literal(srid))
    else:
        shown = stored
    return sql.SQL(TILE_SQL).format(
        layer=sql.Literal(layer),
        extent=sql.Literal(EXTENT),
        buffer=sql.Literal(BUFFER),
        shown=shown,
        z=z,
        x=x,
        y=y,
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        table=sql.Identifier(*table),
        geom=stored,
        envelope=envelope,
    )


def rendered(statement: sql.Composable, conn: Connection) -> str:
    """The statement as text for exec_driver_sql (quoting needs a connection)."""
    return statement.as_string(conn.connection.dbapi_connection)


class MVTProvider(MVTPostgreSQLProvider):
    """MVT tiles of a PostGIS table or view in WebMercatorQuad or WorldCRS84Quad."""

    def __init__(self, provider_def: dict):
        super().__init__(with_statement_timeout(provider_def))
        self.srid = storage_srid(self.storage_crs)
        self.tile_properties = list(provider_def.get("tile_properties") or [])
        # The tiles' layer name; pygeoapi's provider names it after the table, which is not the collection's name
        # when a lean view serves the tiles (zones' tiles read pub.zone_tiles: layer `zones`).
        self.layer = str(provider_def.get("layer") or self.table)
        columns = self.table_model.__table__.c
        self.web_mercator = tile_statement(
            (self.db_search_path[0], self.table),
            self.geom,
            [name for name in self.tile_properties if name in columns],
            self.layer,
            self.srid,
        )
        self._web_mercator_text: str | None = None

    def get_layer(self) -> str:
        return self.layer

    def _scheme(self, tileset):
        """The tile matrix set named `tileset`, or a 404 naming the ones served."""
        schemes = {s.tileMatrixSet: s for s in self.get_tiling_schemes()}
        if tileset not in schemes:
            raise ProviderTilesetIdNotFoundError(
                user_msg=f"unknown tile matrix set {shown(tileset)}: {' or '.join(schemes)}"
            )
        return schemes[tileset]

    def get_metadata(self, dataset, server_url, layer=None, tileset=None, metadata_format=None, **kwargs):
        self._scheme(tileset)
        kind = (metadata_format or TilesMetadataFormat.JSON).upper()
        if kind not in TilesMetadataFormat.__members__:
            raise ProviderInvalidQueryError(user_msg="f: tile-set metadata is json, jsonld, tilejson or html")
        return super().get_metadata(dataset, server_url, layer, tileset, kind, **kwargs)

    def get_vendor_metadata(self, dataset, server_url, layer, tileset, title, description, keywords, **kwargs):
        """TileJSON 3.0.0 (MapLibre, QGIS): it describes XYZ tiles in Web Mercator only."""
        if tileset != WEB_MERCATOR.tileMatrixSet:
            raise ProviderInvalidQueryError(
                user_msg=f"f=tilejson describes {WEB_MERCATOR.tileMatrixSet} tiles; for {tileset} ask f=json"
            )
        columns = self.table_model.__table__.c
        fields = {
            name: TILEJSON_TYPES.get(json_schema(columns[name].type)["type"], "String")
            for name in self.tile_properties
            if name in columns
        }
        return {
            "tilejson": "3.0.0",
            "name": title,
            "description": description,
            "tiles": [url_join(server_url, f"collections/{dataset}/tiles/{tileset}/{{z}}/{{y}}/{{x}}?f=mvt")],
            "minzoom": self.options["zoom"]["min"],
            "maxzoom": self.options["zoom"]["max"],
            "vector_layers": [{"id": layer, "fields": fields}],
        }

    def get_tiles(self, layer="default", tileset=None, z=None, y=None, x=None, format_=None):
        try:
            z, y, x = int(z), int(y), int(x)
        except (TypeError, ValueError):
            raise ProviderInvalidQueryError(user_msg="tile matrix, row and column must be integers") from None
        try:
            scheme = self._scheme(tileset)
        except ProviderTilesetIdNotFoundError as exc:
            raise ProviderTileNotFoundError(user_msg=exc.message) from exc
        if not (0 <= z < len(scheme.tileMatrices) and x >= 0 and y >= 0 and self.is_in_limits(scheme, z, x, y)):
            raise ProviderTileNotFoundError(user_msg=f"tile {z}/{y}/{x} is outside {tileset}")
        with database_errors(), Session(self._engine) as session:
            if tileset == WORLD_CRS84.tileMatrixSet:
                tile = session.execute(self._world_crs84_tile(layer, z, x, y)).scalar()
            else:
                conn = session.connection()
                if self._web_mercator_text is None:
                    self._web_mercator_text = rendered(self.web_mercator, conn)
                tile = conn.exec_driver_sql(self._web_mercator_text, {"z": z, "x": x, "y": y}).scalar()
        return bytes(tile or b"")

    def _world_crs84_tile(self, layer: str, z: int, x: int, y: int):
        size = 180 / 2**z
        xmin, ymax = size * x - 180, 90 - size * y
        envelope = ST_MakeEnvelope(xmin, ymax - size, xmin + size, ymax, 4326)
        table = self.table_model.__table__
        geom = table.c[self.geom]
        mvtgeom = ST_AsMVTGeom(ST_Transform(geom, 4326), envelope, EXTENT, BUFFER, True).label("mvtgeom")
        columns = [table.c[name] for name in self.tile_properties if name in table.c]
        rows = select(mvtgeom, *columns).where(geom.op("&&")(ST_Transform(envelope, self.srid))).cte("mvtrow")
        return select(ST_AsMVT(rows.table_valued(), layer, EXTENT, "mvtgeom"))
