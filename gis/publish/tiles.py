"""The public zones as one PMTiles v3 archive (gzip MVT tiles, one layer `zones`) for the snapshot folder.

The contract a static map builds on: one vector layer `zones` whose features carry exactly `code, name, admin_level,
level, colour, label_vi, label_en`; each admin level at its own zooms (province 5–7, district 8–9, commune 10–11,
hamlet 12–14). A level absent from the data is skipped and the level before it keeps its zooms, so the deepest level
present always reaches maxzoom 14 (the map overzooms beyond). Tiles are made by PostGIS, one statement per zoom that
groups every zone by tile (tiles.sql); they come in blocks of one parent tile each, the blocks in tile-id order, so
only one block (at most 4^BLOCK_SHIFT tiles) is held here before it goes, sorted, to the writer's spool file.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer
from sqlalchemy import Connection

from gis import sqlfiles
from gis.publish.errors import PublishError

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "tiles.sql")
LAYER = "zones"
PROPERTIES = {  # the contract's feature properties and their TileJSON types
    "code": "String",
    "name": "String",
    "admin_level": "Number",
    "level": "Number",
    "colour": "String",
    "label_vi": "String",
    "label_en": "String",
}
ZOOMS = {1: (5, 7), 2: (8, 9), 3: (10, 11), 4: (12, 14)}  # admin level → its zooms
MAXZOOM = 14
EXTENT, BUFFER = 4096, 64
BLOCK_SHIFT = 6  # a block is the tiles under one parent 6 zooms up: at most 4,096 tiles held at once
WORLD = 2 * 20037508.342789244  # the width of Web Mercator, metres


@dataclass
class TilesWritten:
    """What the archive holds: its zooms per admin level, tiles, bounds, and the seconds each zoom took."""

    path: Path
    zooms: dict[int, tuple[int, int]]
    tiles: int
    bounds: tuple[float, float, float, float]
    size: int
    sha256: str
    seconds_by_zoom: dict[int, float] = field(default_factory=dict)

    @property
    def minzoom(self) -> int:
        return min(lo for lo, _ in self.zooms.values())

    @property
    def maxzoom(self) -> int:
        return max(hi for _, hi in self.zooms.values())

    def entry(self) -> dict[str, Any]:
        """The archive's fields in latest.json (besides path and kind)."""
        return {
            "minzoom": self.minzoom,
            "maxzoom": self.maxzoom,
            "zooms": {str(level): list(zooms) for level, zooms in self.zooms.items()},
            "tiles": self.tiles,
            "size": self.size,
            "sha256": self.sha256,
            "bounds": list(self.bounds),
        }


def zoom_ranges(levels: list[int]) -> dict[int, tuple[int, int]]:
    """The zooms of each admin level present: its own, running on to the next present level's (or to MAXZOOM)."""
    present = sorted(level for level in set(levels) if level in ZOOMS)
    return {
        level: (ZOOMS[level][0], ZOOMS[present[i + 1]][0] - 1 if i + 1 < len(present) else MAXZOOM)
        for i, level in enumerate(present)
    }


def write_pmtiles(conn: Connection, path: Path, levels: list[int], metadata: dict[str, Any]) -> TilesWritten:
    """Write the archive of the public zones of `levels` to `path`; `metadata` adds our keys (snapshot_version…)."""
    zooms = zoom_ranges(levels)
    if not zooms:
        raise PublishError("no admin level to draw as tiles: the public zones have no province … hamlet level")
    conn.exec_driver_sql(SQL["tile_settings"])
    conn.exec_driver_sql(SQL["materialise"])
    b = conn.exec_driver_sql(SQL["bounds"]).mappings().one()
    bounds = (b["west"], b["south"], b["east"], b["north"])
    seconds: dict[int, float] = {}
    tiles = 0
    with path.open("wb") as f:
        writer = Writer(f)
        for level, (lo, hi) in zooms.items():
            for z in range(lo, hi + 1):
                started = time.monotonic()
                for tile_id, body in _zoom_tiles(conn, z, level, bounds):
                    writer.write_tile(tile_id, body)
                    tiles += 1
                seconds[z] = round(time.monotonic() - started, 3)
        if not tiles:
            raise PublishError("the public zones fall in no Web Mercator tile: check their coordinates (EPSG:4326)")
        writer.finalize(_header(zooms, bounds), _metadata(zooms, bounds, metadata))
    conn.exec_driver_sql(SQL["drop"])
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    rounded = tuple(round(v, 6) for v in bounds)
    return TilesWritten(
        path=path,
        zooms=zooms,
        tiles=tiles,
        bounds=(rounded[0], rounded[1], rounded[2], rounded[3]),
        size=path.stat().st_size,
        sha256=digest.hexdigest(),
        seconds_by_zoom=seconds,
    )


def _zoom_tiles(conn: Connection, z: int, level: int, bounds: tuple[float, ...]) -> Iterator[tuple[int, bytes]]:
    """The gzipped tiles of zoom z in tile-id order, read block by block from one streamed statement."""
    shift = min(z, BLOCK_SHIFT)
    x0, y0, rows, ranks = _blocks(z, shift, bounds)
    params = {
        "z": z,
        "admin_level": level,
        "size": WORLD / 2**z,
        "n": 2**z,
        "margin": BUFFER / EXTENT,
        "extent": EXTENT,
        "buffer": BUFFER,
        "layer": LAYER,
        "shift": shift,
        "block_x0": x0,
        "block_y0": y0,
        "block_rows": rows,
        "ranks": ranks,
    }
    streamed = {"stream_results": True, "yield_per": 1024}  # this statement only (a connection's options stay)
    result = conn.exec_driver_sql(SQL["zoom_tiles"], params, execution_options=streamed)
    block: list[tuple[int, bytes]] = []
    current = None
    for x, y, mvt in result:
        if (x >> shift, y >> shift) != current:
            yield from sorted(block)
            block, current = [], (x >> shift, y >> shift)
        if mvt:
            block.append((zxy_to_tileid(z, x, y), gzip.compress(bytes(mvt), compresslevel=6, mtime=0)))
    yield from sorted(block)


def _blocks(z: int, shift: int, bounds: tuple[float, ...]) -> tuple[int, int, int, list[int]]:
    """The parent tiles (zoom z - shift) over the bounds, one more all round, as a grid of their places in tile-id
    order: (first x, first y, rows, ranks column by column)."""
    west, south, east, north = bounds
    n = 2**z
    x0, y0 = (v >> shift for v in _tile(west, north, n))
    x1, y1 = (v >> shift for v in _tile(east, south, n))
    last = (n >> shift) - 1
    x0, y0, x1, y1 = max(x0 - 1, 0), max(y0 - 1, 0), min(x1 + 1, last), min(y1 + 1, last)
    grid = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    order = sorted(range(len(grid)), key=lambda i: zxy_to_tileid(z - shift, *grid[i]))
    ranks = [0] * len(grid)
    for rank, i in enumerate(order, start=1):
        ranks[i] = rank
    return x0, y0, y1 - y0 + 1, ranks


def _tile(lon: float, lat: float, n: int) -> tuple[int, int]:
    """The tile (x, y) of a point at a zoom of n tiles across, clamped to the world."""
    lat = max(min(lat, 85.0511287798), -85.0511287798)
    x = (lon + 180) / 360 * n
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return min(max(int(math.floor(x)), 0), n - 1), min(max(int(math.floor(y)), 0), n - 1)


def _header(zooms: dict[int, tuple[int, int]], bounds: tuple[float, ...]) -> dict[str, Any]:
    west, south, east, north = bounds
    lo = min(a for a, _ in zooms.values())
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": math.floor(west * 1e7),
        "min_lat_e7": math.floor(south * 1e7),
        "max_lon_e7": math.ceil(east * 1e7),
        "max_lat_e7": math.ceil(north * 1e7),
        "center_zoom": lo,
        "center_lon_e7": round((west + east) / 2 * 1e7),
        "center_lat_e7": round((south + north) / 2 * 1e7),
    }


def _metadata(zooms: dict[int, tuple[int, int]], bounds: tuple[float, ...], ours: dict[str, Any]) -> dict[str, Any]:
    """TileJSON-style metadata (vector_layers) with our keys; nothing in it changes unless the zones change."""
    lo, hi = min(a for a, _ in zooms.values()), max(b for _, b in zooms.values())
    return {
        "name": "covid-gis zones",
        "description": "Cấp độ dịch theo vùng (công khai) / Public COVID-19 zone levels",
        "type": "overlay",
        "format": "pbf",
        "minzoom": lo,
        "maxzoom": hi,
        "bounds": [round(v, 6) for v in bounds],
        "vector_layers": [
            {
                "id": LAYER,
                "description": "Vùng và cấp độ dịch / Zones and their levels",
                "minzoom": lo,
                "maxzoom": hi,
                "fields": PROPERTIES,
            }
        ],
        "zooms": {str(level): list(z) for level, z in zooms.items()},
        **ours,
    }
