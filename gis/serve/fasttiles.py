"""The public zones' vector tiles without pygeoapi's Python path: GET /collections/zones/tiles/WebMercatorQuad/z/y/x.

Uncached, pygeoapi's path spent as long in Python (a request object, a provider loaded per request, an ORM session
that pings, runs and rolls back) as PostgreSQL spent on the tile. This route answers the one tile request maps send
— `f=mvt` (or no query and an Accept that pygeoapi reads as mvt), a tile inside the tile matrix set — with the
provider's own SQL text (gis/serve/tiles.py `tile_statement`, built from the same pygeoapi-config.yml provider
entry) on a pooled connection of the public role, and pygeoapi's headers (content type, X-Powered-By,
Content-Language). Every other request under the path (another format, more parameters, a tile outside the matrix
set, a method other than GET/HEAD) goes to pygeoapi unchanged, so its answers (400, 404) stay what they were. The
route sits behind the whole middleware stack (security headers, limits, outage, auth, cache), so its answers get
ETags and are kept in the response cache like pygeoapi's.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import anyio.to_thread
from anyio import CapacityLimiter
from psycopg2 import sql
from pygeoapi import l10n
from pygeoapi.api import FORMAT_TYPES, HEADERS, SYSTEM_LOCALE
from pygeoapi.models.provider.base import TileMatrixSetEnum
from pygeoapi.util import get_api_rules, get_choice_from_headers
from sqlalchemy import Engine, event
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gis.serve.provider import storage_srid
from gis.serve.tiles import TILE_X, TILE_Y, TILE_Z, tile_statement

COLLECTION = "zones"
TILE_MATRIX_SET = TileMatrixSetEnum.WEBMERCATORQUAD.value
PATH = f"/collections/{COLLECTION}/tiles/{TILE_MATRIX_SET.tileMatrixSet}/{{z}}/{{y}}/{{x}}"
MVT = "mvt"
NUMBER = re.compile(r"\d{1,10}")  # what int() reads as pygeoapi's provider does, without signs or spaces


# A stored tile of the current snapshot (pub.zone_tiles_stored: gis/publish/apitiles.py writes them), else computed.
STORED_OR_COMPUTED = """SELECT coalesce(
    (SELECT tile FROM pub.zone_tiles_stored WHERE z = %(z)s AND x = %(x)s AND y = %(y)s),
    ({computed}))"""


def tile_provider(config: dict, collection: str = COLLECTION) -> dict:
    """The tile provider entry of `collection` in pygeoapi-config.yml."""
    providers = config["resources"][collection]["providers"]
    return next(p for p in providers if p.get("type") == "tile")


def zone_tile_statement(
    config: dict, z: sql.Composable = TILE_Z, x: sql.Composable = TILE_X, y: sql.Composable = TILE_Y
) -> sql.Composed:
    """The provider's SQL of one zones tile (gis/serve/tiles.py), from its pygeoapi-config.yml entry: what the route
    computes and what the publish step stores (there with z, x, y read from a list of tiles)."""
    provider = tile_provider(config)
    schema = provider["data"].get("search_path", ["public"])[0]
    return tile_statement(
        (schema, provider["table"]),
        provider["geom_field"],
        list(provider.get("tile_properties") or []),
        str(provider.get("layer") or provider["table"]),
        storage_srid(provider["storage_crs"]),
        z,
        x,
        y,
    )


class ZoneTiles:
    """ASGI app of the route: a plain tile request answered here, every other request by `fallback` (pygeoapi)."""

    def __init__(self, fallback: ASGIApp, engine: Engine, config: dict):
        self.fallback = fallback
        self.engine = engine
        # The route's own pool: each connection in autocommit from its start (a read needs no transaction), so
        # returning one sends no ROLLBACK and taking one changes no setting.
        event.listen(engine, "connect", _autocommit)
        # No more reads at once than the pool keeps connections: a read beyond them would open and close one.
        self.reads_at_once = int(getattr(engine.pool, "size", lambda: 5)())
        self._limiter: CapacityLimiter | None = None  # made in the event loop (anyio asks which one runs)
        provider = tile_provider(config)
        self.statement = sql.SQL(STORED_OR_COMPUTED).format(computed=zone_tile_statement(config))
        self._text: str | None = None
        headers = {**HEADERS, **get_api_rules(config).response_headers}
        l10n.set_response_language(headers, SYSTEM_LOCALE)  # pygeoapi answers tiles in its system locale
        headers["Content-Type"] = provider["format"]["mimetype"]
        self.headers = [(k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in headers.items()]

    def tile_of(self, scope: Scope) -> tuple[int, int, int] | None:
        """(z, x, y) when this route answers the request itself; None hands it to pygeoapi."""
        if scope["method"] not in ("GET", "HEAD"):
            return None
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        if query != [("f", MVT)] and (query or _accepted(scope) != MVT):
            return None
        params = scope["path_params"]
        if not all(NUMBER.fullmatch(params[k]) for k in ("z", "y", "x")):
            return None
        z, y, x = int(params["z"]), int(params["y"]), int(params["x"])
        if z >= len(TILE_MATRIX_SET.tileMatrices) or x >= 2**z or y >= 2**z:
            return None
        return z, x, y

    def read(self, z: int, x: int, y: int) -> bytes:
        with self.engine.connect() as conn:
            if self._text is None:
                self._text = self.statement.as_string(conn.connection.dbapi_connection)
            tile = conn.exec_driver_sql(self._text, {"z": z, "x": x, "y": y}).scalar()
        return bytes(tile or b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tile = self.tile_of(scope)
        if tile is None:
            await self.fallback(scope, receive, send)
            return
        if self._limiter is None:
            self._limiter = CapacityLimiter(self.reads_at_once)
        body = await anyio.to_thread.run_sync(self.read, *tile, limiter=self._limiter)
        headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _autocommit(dbapi_connection, _record) -> None:
    dbapi_connection.autocommit = True


def _accepted(scope: Scope) -> str | None:
    """The format pygeoapi reads from the Accept header (the first accepted type it knows)."""
    headers: dict[str, str] = {}
    for k, v in scope["headers"]:  # the first of repeated headers, as Starlette's request reads them
        headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
    try:
        types = get_choice_from_headers(headers, "accept", all=True)
    except ZeroDivisionError:  # `;q=0` (pygeoapi divides by q): pygeoapi's path answers as it does
        return "?"
    formats = {mime: name for name, mime in reversed(FORMAT_TYPES.items())}
    return next((formats[t] for t in types or [] if t in formats), None)


def zone_tile_routes(fallback: ASGIApp, engine: Engine, config: dict) -> list[Route]:
    """The direct route of the public zones' WebMercatorQuad tiles (before pygeoapi's catch-all)."""
    return [Route(PATH, ZoneTiles(fallback, engine, config))]
