"""Split a parent's census population among its children by raster sums or area, with exact totals."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.features
import rasterio.windows
from rasterio.errors import RasterioIOError

from gis.boundaries.errors import PopulationError


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to weights that sum exactly to total (Hamilton's method).

    All-zero weights split equally; ties in the remainders go to the earlier position.
    """
    w = np.asarray(weights, dtype="float64")
    if w.ndim != 1:
        raise ValueError("weights must be one-dimensional")
    if int(total) != total or total < 0:
        raise ValueError(f"total must be a non-negative integer, got {total!r}")
    total = int(total)
    if len(w) == 0:
        if total:
            raise ValueError(f"cannot split {total} among no weights")
        return np.zeros(0, dtype="int64")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("weights must be finite and non-negative")
    if w.sum() == 0:
        w = np.ones_like(w)
    quota = total * (w / w.sum())
    base = np.floor(quota).astype("int64")
    short = total - int(base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:short]] += 1
    return base


def _window(src, bounds) -> rasterio.windows.Window | None:
    """Whole-pixel window of src covering bounds, clipped to the raster; None if they do not meet."""
    xmin, ymin, xmax, ymax = bounds
    inverse = ~src.transform
    cols, rows = zip(*(inverse @ (x, y) for x in (xmin, xmax) for y in (ymin, ymax)))
    c0, r0 = max(math.floor(min(cols)), 0), max(math.floor(min(rows)), 0)
    c1, r1 = min(math.ceil(max(cols)), src.width), min(math.ceil(max(rows)), src.height)
    if c1 <= c0 or r1 <= r0:
        return None
    return rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)


def zonal_sums(raster_path: str | Path, polygons: gpd.GeoDataFrame) -> np.ndarray:
    """Sum of band-1 values of the pixels whose centre lies in each polygon (nodata and NaN count 0).

    Reads only the window covering the polygons. Where polygons overlap, a pixel counts for the
    later one only, which is right for the partitions this is meant for.
    """
    try:
        src = rasterio.open(raster_path)
    except RasterioIOError as exc:
        raise PopulationError(f"cannot read population raster {raster_path}: {exc}") from exc
    with src:
        if src.crs is None:
            raise PopulationError(f"population raster {raster_path} has no CRS; set one (e.g. with gdal_edit -a_srs)")
        sums = np.zeros(len(polygons), dtype="float64")
        geoms = polygons.geometry.to_crs(src.crs)
        shapes = [(g, i + 1) for i, g in enumerate(geoms) if g is not None and not g.is_empty]
        if not shapes:
            return sums
        window = _window(src, geoms.total_bounds)
        if window is None:
            return sums  # the polygons lie outside the raster
        values = src.read(1, window=window, masked=True).astype("float64").filled(0.0)
        values[~np.isfinite(values)] = 0.0
        labels = rasterio.features.rasterize(
            shapes,
            out_shape=values.shape,
            transform=src.window_transform(window),
            fill=0,
            all_touched=False,
            dtype="int32",
        )
    totals = np.bincount(labels.ravel(), weights=values.ravel(), minlength=len(polygons) + 1)
    return totals[1:]


def distribute_population(
    children: gpd.GeoDataFrame,
    parents_population: Mapping[str, int],
    raster_path: str | Path | None = None,
) -> pd.Series:
    """Each parent's population split among its children: by raster sums, else by area; sums are exact.

    A parent whose children's raster sum is 0 (or every parent, without a raster) is split by area in
    the data's UTM zone. Returns int64 population indexed by child code.
    """
    codes = children["code"].astype(str).to_numpy()
    parents = children["parent_code"].astype(str).to_numpy()
    missing = sorted(set(parents) - {str(k) for k in parents_population})
    if missing:
        raise PopulationError(
            f"no population given for parent(s) {', '.join(missing[:10])}"
            f"{' …' if len(missing) > 10 else ''}; add them to the population table"
        )
    population = {str(k): v for k, v in parents_population.items()}
    area = children.geometry.to_crs(children.estimate_utm_crs()).area.to_numpy()
    raster = zonal_sums(raster_path, children) if raster_path is not None else np.zeros(len(children))
    if (raster < 0).any():
        bad = codes[raster < 0][:5]
        raise PopulationError(
            f"raster {raster_path} gives negative sums for {', '.join(bad)}; declare its nodata value"
        )
    out = np.zeros(len(children), dtype="int64")
    for parent in pd.unique(parents):
        rows = np.flatnonzero(parents == parent)
        weights = raster[rows] if raster[rows].sum() > 0 else area[rows]
        out[rows] = largest_remainder(int(population[parent]), weights)
    return pd.Series(out, index=pd.Index(codes, name="code"), name="population")
