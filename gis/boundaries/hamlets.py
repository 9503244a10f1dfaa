"""Synthetic hamlets (ấp/khu phố): no official hamlet geometry exists, so we generate a reproducible stand-in."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.boundaries.errors import HamletPointError

HAMLET_LEVEL = 4
_URBAN_PREFIXES = ("Phường", "Thị trấn")
_BATCH = 256
_MAX_DRAWS = 200_000


def _stable_hash(code: str) -> int:
    """64-bit hash of a code that, unlike hash(), is the same in every process."""
    return int.from_bytes(hashlib.sha256(code.encode("utf-8")).digest()[:8], "big")


def _status(frame: pd.DataFrame) -> pd.Series:
    """Status per unit, read from status or status_2021, 'current' when absent."""
    for col in ("status", "status_2021"):
        if col in frame.columns:
            return frame[col].fillna("current").astype(str)
    return pd.Series("current", index=frame.index)


def hamlet_label(commune_name: str, number: int) -> str:
    """'Khu phố n' in wards and towns (phường, thị trấn), 'Ấp n' in rural communes (xã)."""
    word = "Khu phố" if commune_name.strip().startswith(_URBAN_PREFIXES) else "Ấp"
    return f"{word} {number}"


def _points_in(polygon, n: int, rng: np.random.Generator, code: str) -> np.ndarray:
    """n points uniform (in the CRS's coordinates) inside polygon by rejection from its bounds."""
    xmin, ymin, xmax, ymax = shapely.bounds(polygon)
    shapely.prepare(polygon)
    found: list[np.ndarray] = []
    drawn = count = 0
    while count < n:
        if drawn >= _MAX_DRAWS:
            raise HamletPointError(
                f"commune {code}: could not place {n} points inside its polygon; check that the geometry has an area"
            )
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(_BATCH, 2))
        drawn += _BATCH
        inside = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def synthetic_hamlet_points(
    communes: gpd.GeoDataFrame,
    seed: int = 2021,
    min_per_commune: int = 5,
    max_per_commune: int = 15,
) -> gpd.GeoDataFrame:
    """Random hamlet points inside each non-dissolved commune, reproducible from seed and commune code.

    Each commune draws from numpy's default_rng([seed, sha256(code)]), so its hamlets do not depend on
    the other communes or their order. Points are uniform in lon/lat, which at Vietnam's latitudes and
    commune sizes is uniform in area to well under 1 %.
    """
    if not 1 <= min_per_commune <= max_per_commune:
        raise ValueError("need 1 <= min_per_commune <= max_per_commune")
    live = communes[~_status(communes).str.startswith("dissolved")]
    live = live.assign(code=live["code"].astype(str)).sort_values("code", kind="stable")
    rows = []
    for commune in live.itertuples():
        if commune.geometry is None or commune.geometry.is_empty:
            raise HamletPointError(f"commune {commune.code} has no geometry; cannot place hamlets in it")
        rng = np.random.default_rng([seed, _stable_hash(commune.code)])
        n = int(rng.integers(min_per_commune, max_per_commune + 1))
        xy = _points_in(commune.geometry, n, rng, commune.code)
        for k, (x, y) in enumerate(xy, start=1):
            rows.append(
                {
                    "code": f"{commune.code}-{k:02d}",
                    "name": hamlet_label(str(commune.name), k),
                    "level": HAMLET_LEVEL,
                    "parent_code": commune.code,
                    "status": "current",
                    "synthetic": True,
                    "geometry": shapely.Point(x, y),
                }
            )
    columns = ["code", "name", "level", "parent_code", "status", "synthetic", "geometry"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["level"] = frame["level"].astype("int64")
    frame["synthetic"] = frame["synthetic"].astype(bool)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=communes.crs)


def _cells(commune, xy: np.ndarray) -> list:
    """Voronoi cells of the points clipped to the commune, in the order of the points."""
    if len(xy) == 1:
        return [commune]
    xmin, ymin, xmax, ymax = shapely.bounds(shapely.union(commune, shapely.multipoints(xy)))
    pad = max(xmax - xmin, ymax - ymin)
    frame = shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=frame, ordered=True))
    return list(shapely.intersection(cells, commune))


def _multipolygon(geom):
    """Polygonal parts of geom as one MultiPolygon (clipping can leave stray lines or points)."""
    polys = [
        q
        for p in shapely.get_parts(geom)
        if p.geom_type in ("Polygon", "MultiPolygon")
        for q in shapely.get_parts(p)
        if not q.is_empty
    ]
    return shapely.MultiPolygon(polys)


def hamlet_polygons_from_points(points: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hamlet polygons that tile their commune: the Voronoi cells of its hamlet points, clipped to it.

    One point gets the whole commune. A point outside its commune, an unknown parent commune or two
    points on the same spot raise HamletPointError naming the hamlet.
    """
    if communes.crs != points.crs:
        communes = communes.to_crs(points.crs)
    by_code = {str(c): g for c, g in zip(communes["code"], communes.geometry)}
    out = np.empty(len(points), dtype=object)
    parents = points["parent_code"].astype(str).to_numpy()
    codes = points["code"].astype(str).to_numpy()
    geoms = np.asarray(points.geometry.array, dtype=object)
    for parent in pd.unique(parents):
        rows = np.flatnonzero(parents == parent)
        commune = by_code.get(parent)
        if commune is None or commune.is_empty:
            raise HamletPointError(f"hamlet {codes[rows[0]]}: parent commune {parent} has no polygon")
        bad = rows[~shapely.intersects(geoms[rows], commune)]
        if len(bad):
            raise HamletPointError(
                f"hamlet {codes[bad[0]]} lies outside its commune {parent}; "
                "move the point inside the commune or fix its parent_code"
            )
        xy = shapely.get_coordinates(geoms[rows])
        if len(xy) != len(rows):
            raise HamletPointError(f"commune {parent}: every hamlet needs exactly one point geometry")
        _, first = np.unique(xy, axis=0, return_index=True)
        if len(first) < len(rows):
            dup = rows[sorted(set(range(len(rows))) - set(first))[0]]
            raise HamletPointError(f"hamlet {codes[dup]} has the same location as another hamlet of {parent}")
        out[rows] = [_multipolygon(c) for c in _cells(commune, xy)]
    return points.set_geometry(gpd.GeoSeries(out, index=points.index, crs=points.crs))
