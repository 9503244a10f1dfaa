"""Vector tiles (OGC API Tiles, MVT) from PostGIS with integer SRIDs (referenced by dotted path in the config).

pygeoapi's MVT-postgresql provider transforms with text SRIDs ('EPSG:3857'), which makes PostGIS 3.3 build a PROJ
pipeline per row (~1 s a tile); integer SRIDs take ~1 ms. Tiles hold the provider's `tile_properties` (scalars
only, so the tiles stay small); the server's response cache keeps hot tiles per data version.
"""

from __future__ import annotations

import logging

from geoalchemy2.functions import ST_AsMVT, ST_AsMVTGeom, ST_MakeEnvelope, ST_TileEnvelope, ST_Transform
from pygeoapi.models.provider.base import TileMatrixSetEnum
from pygeoapi.provider.base import ProviderInvalidQueryError
from pygeoapi.provider.mvt_postgresql import MVTPostgreSQLProvider
from pygeoapi.provider.tile import ProviderTileNotFoundError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gis.serve.provider import DatabaseUnavailable, storage_srid

LOG = logging.getLogger(__name__)
WEB_MERCATOR = TileMatrixSetEnum.WEBMERCATORQUAD.value
WORLD_CRS84 = TileMatrixSetEnum.WORLDCRS84QUAD.value
EXTENT, BUFFER = 4096, 64


class MVTProvider(MVTPostgreSQLProvider):
    """MVT tiles of a PostGIS table or view in WebMercatorQuad or WorldCRS84Quad."""

    def __init__(self, provider_def: dict):
        super().__init__(provider_def)
        self.srid = storage_srid(self.storage_crs)
        self.tile_properties = list(provider_def.get("tile_properties") or [])

    def get_tiles(self, layer="default", tileset=None, z=None, y=None, x=None, format_=None):
        try:
            z, y, x = int(z), int(y), int(x)
        except (TypeError, ValueError):
            raise ProviderInvalidQueryError(user_msg="tile matrix, row and column must be integers")
        schemes = {s.tileMatrixSet: s for s in self.get_tiling_schemes()}
        if tileset not in schemes:
            raise ProviderTileNotFoundError(user_msg=f"unknown tile matrix set {tileset!r}")
        if not (0 <= z < len(schemes[tileset].tileMatrices) and x >= 0 and y >= 0
                and self.is_in_limits(schemes[tileset], z, x, y)):
            raise ProviderTileNotFoundError(user_msg=f"tile {z}/{y}/{x} is outside {tileset}")
        if tileset == WORLD_CRS84.tileMatrixSet:
            size = 180 / 2 ** z
            xmin, ymax = size * x - 180, 90 - size * y
            out_srid, envelope = 4326, ST_MakeEnvelope(xmin, ymax - size, xmin + size, ymax, 4326)
        else:
            out_srid, envelope = 3857, ST_TileEnvelope(z, x, y)
        table = self.table_model.__table__
        geom = table.c[self.geom]
        mvtgeom = ST_AsMVTGeom(ST_Transform(geom, out_srid), envelope, EXTENT, BUFFER, True).label("mvtgeom")
        columns = [table.c[name] for name in self.tile_properties if name in table.c]
        rows = (select(mvtgeom, *columns)
                .where(geom.op("&&")(ST_Transform(envelope, self.srid)))
                .cte("mvtrow"))
        stmt = select(ST_AsMVT(rows.table_valued(), layer, EXTENT, "mvtgeom"))
        try:
            with Session(self._engine) as session:
                tile = session.execute(stmt).scalar()
        except OperationalError as exc:
            raise DatabaseUnavailable(user_msg="the database is not reachable") from exc
        return bytes(tile or b"")
