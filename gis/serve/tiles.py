"""Vector tiles (OGC API Tiles, MVT) from PostGIS with integer SRIDs (referenced by dotted path in the config).

pygeoapi's MVT-postgresql provider transforms with text SRIDs ('EPSG:3857'), which makes PostGIS 3.3 build a PROJ
pipeline per row (~1 s a tile); integer SRIDs take ~1 ms. Tiles hold the provider's `tile_properties` (scalars
only, so the tiles stay small); the server's response cache keeps hot tiles per data version. Tile-set metadata
answers JSON when no format is asked for, TileJSON 3.0 for WebMercatorQuad, and 404 for an unknown tile matrix set
(pygeoapi's raised AttributeError, NotImplementedError and UnboundLocalError: 500s).
"""

from __future__ import annotations

import logging

from geoalchemy2.functions import ST_AsMVT, ST_AsMVTGeom, ST_MakeEnvelope, ST_TileEnvelope, ST_Transform
from pygeoapi.models.provider.base import TileMatrixSetEnum, TilesMetadataFormat
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError, ProviderTilesetIdNotFoundError
from pygeoapi.util import url_join
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import GenericFunction

from gis.serve.provider import database_errors, json_schema, shown, storage_srid, with_statement_timeout

LOG = logging.getLogger(__name__)
WEB_MERCATOR = TileMatrixSetEnum.WEBMERCATORQUAD.value
WORLD_CRS84 = TileMatrixSetEnum.WORLDCRS84QUAD.value
EXTENT, BUFFER = 4096, 64
TILEJSON_TYPES = {"boolean": "Boolean", "integer": "Number", "number": "Number"}  # everything else is a String


class MVTProvider(MVTPostgreSQLProvider):
    """MVT tiles of a PostGIS table or view in WebMercatorQuad or WorldCRS84Quad."""

    def __init__(self, provider_def: dict):
        super().__init__(with_statement_timeout(provider_def))
        self.srid = storage_srid(self.storage_crs)
        self.tile_properties = list(provider_def.get("tile_properties") or [])
        # The tiles' layer name; pygeoapi's provider names it after the table, which is not the collection's name
        # when a lean view serves the tiles (zones' tiles read pub.zone_tiles: layer `zones`).
        self.layer = str(provider_def.get("layer") or self.table)

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
        envelope: GenericFunction
        if tileset == WORLD_CRS84.tileMatrixSet:
            size = 180 / 2**z
            xmin, ymax = size * x - 180, 90 - size * y
            out_srid, envelope = 4326, ST_MakeEnvelope(xmin, ymax - size, xmin + size, ymax, 4326)
        else:
            out_srid, envelope = 3857, ST_TileEnvelope(z, x, y)
        table = self.table_model.__table__
        geom = table.c[self.geom]
        mvtgeom = ST_AsMVTGeom(ST_Transform(geom, out_srid), envelope, EXTENT, BUFFER, True).label("mvtgeom")
        columns = [table.c[name] for name in self.tile_properties if name in table.c]
        rows = select(mvtgeom, *columns).where(geom.op("&&")(ST_Transform(envelope, self.srid))).cte("mvtrow")
        stmt = select(ST_AsMVT(rows.table_valued(), layer, EXTENT, "mvtgeom"))
        with database_errors(), Session(self._engine) as session:
            tile = session.execute(stmt).scalar()
        return bytes(tile or b"")
