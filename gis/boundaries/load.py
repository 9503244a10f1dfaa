"""Read a province's boundary dataset, check it, derive hamlets and population, and store it in admin.area."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from gis import sqlfiles
from gis.boundaries.check import BoundaryReport, check_boundaries
from gis.boundaries.dataset import Dataset, HamletSpec
from gis.boundaries.errors import BoundaryError
from gis.boundaries.hamlets import hamlet_polygons_from_points
from gis.boundaries.population import distribute_population, largest_remainder
from gis.levels import ADMIN_LEVEL_EN, AdminLevel
from gis.summary import Summary

log = logging.getLogger(__name__)

MERGE_SQL = Path(__file__).parent / "sql" / "merge_areas.sql"
CODE_COLUMNS = ["code", "name", "level", "parent_code"]


@dataclass
class PreparedDataset:
    """Units ready to store: geometry repaired, levels and parents from the code list, population set."""

    units: gpd.GeoDataFrame
    report: BoundaryReport
    extra_problems: list[dict] = field(default_factory=list)  # population reconciliation notes


@dataclass
class LoadSummary(Summary):
    """What a boundaries load stored: units by level, new, corrected and unchanged rows, problems by kind."""

    load_id: int
    dataset: str
    units_by_level: dict[str, int]
    inserted: int
    corrected: int
    unchanged: int
    problems: dict[str, dict]
    seconds: float = 0.0


def read_codes(path: Path) -> pd.DataFrame:
    codes = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in CODE_COLUMNS if c not in codes.columns]
    if missing:
        raise BoundaryError(
            f"{path}: the code list needs columns {','.join(CODE_COLUMNS)}; missing {','.join(missing)}"
        )
    codes = codes[CODE_COLUMNS].apply(lambda s: s.str.strip())
    bad = codes[~codes["level"].isin(["1", "2", "3", "4"])]
    if len(bad):
        row = bad.index[0] + 2
        raise BoundaryError(
            f"{path}, row {row}: level must be 1..4 (1 province … 4 hamlet), got {bad.iloc[0]['level']!r}"
        )
    codes["level"] = codes["level"].astype(int)
    codes["parent_code"] = codes["parent_code"].replace("", None)
    return codes


def read_layer(path: Path) -> gpd.GeoDataFrame:
    """Any format pyogrio reads (GeoJSON, GeoPackage, Shapefile…), in EPSG:4326."""
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several unrelated types for unreadable files
        raise BoundaryError(f"{path}: cannot read as a vector dataset ({exc})") from exc
    if "code" not in gdf.columns:
        raise BoundaryError(f"{path}: every feature needs a `code` property (the official unit code)")
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    gdf["code"] = gdf["code"].astype(str).str.strip().replace({"None": "", "nan": ""})
    return gdf


def prepare(ds: Dataset) -> PreparedDataset:
    """Everything except writing: read, join codes, derive hamlets, check, set population."""
    codes = read_codes(ds.path(ds.codes))
    units = _read_units(ds, codes)
    if ds.hamlets:
        hamlets = _read_hamlets(ds, ds.hamlets, units)
        units = pd.concat([units, hamlets], ignore_index=True)
        codes = pd.concat([codes, hamlets[CODE_COLUMNS]], ignore_index=True)
    report = check_boundaries(units, codes)
    units = report.repaired.copy()
    units["parent_code"] = units["parent_code"].replace("", None)  # the check writes a missing parent as ''
    # A unit we cannot place in the hierarchy is reported (unknown_code) and not stored.
    units = units[units["level"].notna() & (units["code"] != "")].copy()
    units["level"] = units["level"].astype(int)
    units = _set_validity(units, ds)
    extra = _set_population(units, ds)
    metric = units.estimate_utm_crs()
    units["area_m2"] = units.to_crs(metric).area
    return PreparedDataset(units=units, report=report, extra_problems=extra)


def _read_units(ds: Dataset, codes: pd.DataFrame) -> gpd.GeoDataFrame:
    frames = []
    for layer in ds.layers:
        gdf = read_layer(ds.path(layer))
        status = gdf[ds.status_column] if ds.status_column and ds.status_column in gdf.columns else "current"
        keep = gdf[["code", "geometry"]].copy()
        keep["status"] = status
        keep["status"] = keep["status"].fillna("current")
        # The layer's own name/level/parent are used only for units missing from the code list.
        for col in ("name", "level", "parent_code"):
            keep[f"layer_{col}"] = gdf[col] if col in gdf.columns else None
        frames.append(keep)
    units = pd.concat(frames, ignore_index=True).merge(codes, on="code", how="left")
    for col in ("name", "level", "parent_code"):
        units[col] = units[col].where(units[col].notna(), units[f"layer_{col}"])
    units["level"] = pd.to_numeric(units["level"], errors="coerce")
    units["parent_code"] = units["parent_code"].astype(object).where(units["parent_code"].notna(), None)
    units["parent_code"] = units["parent_code"].map(lambda c: str(c).strip() or None if c is not None else None)
    units["synthetic"] = False
    return gpd.GeoDataFrame(
        units.drop(columns=[c for c in units.columns if c.startswith("layer_")]), geometry="geometry", crs=4326
    )


def _read_hamlets(ds: Dataset, spec: HamletSpec, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    file = spec.polygons or spec.points
    if file is None:
        raise BoundaryError(f"{ds.name}: hamlets need a `points` or a `polygons` file")
    source = ds.path(file)
    gdf = read_layer(source)
    for col in ("name", "parent_code"):
        if col not in gdf.columns:
            raise BoundaryError(f"{source}: hamlets need `code`, `name` and `parent_code` properties")
    gdf["parent_code"] = gdf["parent_code"].astype(str).str.strip()
    gdf = gdf[["code", "name", "parent_code", "geometry"]].copy()
    if spec.polygons is None:
        communes = units[
            (units["level"] == 3)
            & (units["status"].str.startswith("current") | units["status"].str.startswith("renamed"))
        ]
        gdf = hamlet_polygons_from_points(gdf, communes[["code", "geometry"]])
    gdf["level"] = 4
    gdf["status"] = "current"
    gdf["synthetic"] = spec.synthetic
    return gdf


def _set_validity(units: gpd.GeoDataFrame, ds: Dataset) -> gpd.GeoDataFrame:
    units["valid_from"] = ds.valid_from
    units["valid_to"] = None
    for code, override in ds.units.items():
        rows = units["code"] == code
        if not rows.any():
            raise BoundaryError(f"dataset.yml names unit {code} under `units`, but no geometry has that code")
        if override.valid_from:
            units.loc[rows, "valid_from"] = override.valid_from
        if override.valid_to:
            units.loc[rows, "valid_to"] = override.valid_to
    dissolved = units["status"].str.startswith("dissolved") & units["valid_to"].isna()
    if dissolved.any():
        raise BoundaryError(
            "units marked dissolved need a valid_to under `units:` in dataset.yml: "
            + ", ".join(units.loc[dissolved, "code"])
        )
    return units


def _set_population(units: gpd.GeoDataFrame, ds: Dataset) -> list[dict]:
    """Census population for provinces, districts and communes; hamlets get their commune's split by raster or area.

    A dissolved unit keeps its census figure; the people it had are reallocated to the current neighbours that
    took its land (weighted by census population), so current children always sum to their parent.
    """
    units["population"] = pd.array([pd.NA] * len(units), dtype="Int64")
    units["population_method"] = None
    problems: list[dict] = []
    if ds.population:
        census = pd.read_csv(ds.path(ds.population.file), dtype={"code": str}, encoding="utf-8")
        if ds.population.column not in census.columns:
            raise BoundaryError(f"{ds.population.file}: no column {ds.population.column!r}")
        pop = census.set_index("code")[ds.population.column]
        has = units["code"].isin(pop.index) & (units["level"] < 4)
        units.loc[has, "population"] = units.loc[has, "code"].map(pop).astype("Int64")
        units.loc[has, "population_method"] = "census"
        problems += _reallocate_dissolved(units)
    current = units["valid_to"].isna()
    hamlets = units[(units["level"] == 4) & current]
    if len(hamlets):
        communes = units[(units["level"] == 3) & current & units["population"].notna()]
        shares = distribute_population(
            hamlets,
            dict(zip(communes["code"], communes["population"].astype(int))),
            raster_path=str(ds.path(ds.population_raster)) if ds.population_raster else None,
        )
        units.loc[hamlets.index, "population"] = hamlets["code"].map(shares).astype("Int64").values
        units.loc[hamlets.index, "population_method"] = "raster" if ds.population_raster else "area"
    return problems


def _reallocate_dissolved(units: gpd.GeoDataFrame) -> list[dict]:
    problems = []
    metric = units.estimate_utm_crs()
    for _, gone in units[units["valid_to"].notna() & units["population"].notna()].iterrows():
        siblings = units[
            (units["parent_code"] == gone["parent_code"])
            & (units["level"] == gone["level"])
            & units["valid_to"].isna()
            & units["population"].notna()
        ]
        near = gpd.GeoSeries([gone.geometry], crs=4326).to_crs(metric).buffer(250).to_crs(4326).iloc[0]
        takers = siblings[siblings.intersects(near)]
        if takers.empty:
            continue
        extra = largest_remainder(int(gone["population"]), takers["population"].astype(int).to_numpy())
        units.loc[takers.index, "population"] += extra
        units.loc[takers.index, "population_method"] = "census+reallocated"
        detail = ", ".join(f"{c} +{n}" for c, n in zip(takers["code"], extra))
        problems.append(
            {
                "kind": "population_reallocated",
                "severity": "info",
                "code": gone["code"],
                "other_code": None,
                "level": int(gone["level"]),
                "area_m2": None,
                "share": None,
                "detail": f"{gone['name']} ({gone['code']}) is no longer current: its {int(gone['population'])} "
                f"people were reallocated to its current neighbours by population: {detail}",
                "geometry": gone.geometry,
            }
        )
    return problems


def refuse_errors(ds: Dataset, report: BoundaryReport, shown: int = 5) -> None:
    """Stop a load whose boundaries have errors (swapped shapes, units mostly outside their parent, bad codes):
    stored, they would put units and every count located in them in the wrong place."""
    errors = report.errors
    if errors:
        listed = "; ".join(f"{p.kind} {p.code or ''}: {p.detail}" for p in errors[:shown])
        more = f" (and {len(errors) - shown} more)" if len(errors) > shown else ""
        raise BoundaryError(
            f"{ds.name}: {len(errors)} error(s) in the boundaries, nothing was loaded: {listed}{more}. "
            "Fix the data (`covidgis boundaries check` lists every finding), or load with "
            "--accept-errors once they are understood (they are then kept in the data-quality layer)"
        )


def store(engine: Engine, ds: Dataset, prepared: PreparedDataset, accept_errors: bool = False) -> LoadSummary:
    """Write the load, its problems and the new area versions in one transaction; a report with errors is refused
    unless accept_errors."""
    units, report = prepared.units, prepared.report
    if not accept_errors:
        refuse_errors(ds, report)
    problems = report.problems_frame()
    if prepared.extra_problems:
        problems = pd.concat(
            [problems, gpd.GeoDataFrame(prepared.extra_problems, geometry="geometry", crs=4326)], ignore_index=True
        )
    problem_counts = report.summary()
    for extra in prepared.extra_problems:
        entry = problem_counts.setdefault(
            extra["kind"], {"severity": extra["severity"], "count": 0, "by_severity": {}, "by_level": {}}
        )
        entry["count"] += 1
        entry["by_severity"][extra["severity"]] = entry["by_severity"].get(extra["severity"], 0) + 1
        entry["by_level"][extra["level"]] = entry["by_level"].get(extra["level"], 0) + 1
    units_by_level = _count_by_level(units)
    summary = {"units_by_level": units_by_level, "problems": problem_counts}
    files = {str(p.name): _sha256(p) for p in ds.files()}
    statements = sqlfiles.load(MERGE_SQL)
    with engine.begin() as conn:
        load_id = conn.exec_driver_sql(
            "INSERT INTO admin.boundary_load (dataset, source, files, summary) "
            "VALUES (%(d)s, %(s)s, CAST(%(f)s AS jsonb), CAST(%(m)s AS jsonb)) RETURNING id",
            {"d": ds.name, "s": ds.source, "f": _json(files), "m": _json(summary)},
        ).scalar_one()
        conn.exec_driver_sql("CREATE TEMP TABLE area_stage (LIKE admin.area INCLUDING DEFAULTS) ON COMMIT DROP")
        conn.exec_driver_sql(
            "INSERT INTO area_stage (code, level, parent_code, name, geom, population, population_method, area_m2,"
            " valid_from, valid_to, status, synthetic, source, load_id) VALUES (%(code)s, %(level)s, %(parent_code)s,"
            " %(name)s, ST_Multi(ST_GeomFromWKB(%(wkb)s, 4326)), %(population)s, %(population_method)s, %(area_m2)s,"
            " %(valid_from)s, %(valid_to)s, %(status)s, %(synthetic)s, %(source)s, %(load_id)s)",
            _area_rows(units, ds, load_id),
        )
        counts = {name: conn.exec_driver_sql(sql).rowcount for name, sql in statements.items()}
        if len(problems):
            conn.exec_driver_sql(
                "INSERT INTO admin.boundary_problem"
                " (load_id, kind, severity, code, other_code, level, area_m2, share, detail, geom)"
                " VALUES (%(load_id)s, %(kind)s, %(severity)s, %(code)s, %(other_code)s, %(level)s, %(area_m2)s,"
                " %(share)s, %(detail)s, ST_SetSRID(ST_GeomFromWKB(%(wkb)s), 4326))",
                _problem_rows(problems, load_id),
            )
    return LoadSummary(
        load_id=load_id,
        dataset=ds.name,
        units_by_level=units_by_level,
        inserted=counts["insert_new"],
        corrected=counts["correct_in_place"],
        unchanged=counts["drop_unchanged"],
        problems=problem_counts,
    )


def _area_rows(units: gpd.GeoDataFrame, ds: Dataset, load_id: int) -> list[dict]:
    wkb = shapely.to_wkb(units.geometry.values, output_dimension=2)
    return [
        {
            "code": r.code,
            "level": int(r.level),
            "parent_code": _none(r.parent_code),
            "name": r.name,
            "wkb": w,
            "population": None if pd.isna(r.population) else int(r.population),
            "population_method": r.population_method,
            "area_m2": float(r.area_m2),
            "valid_from": r.valid_from,
            "valid_to": r.valid_to,
            "status": r.status,
            "synthetic": bool(r.synthetic),
            "source": ds.source + (" (synthetic hamlets)" if r.synthetic else ""),
            "load_id": load_id,
        }
        for r, w in zip(units.itertuples(index=False), wkb)
    ]


def _problem_rows(problems: gpd.GeoDataFrame, load_id: int) -> list[dict]:
    geoms = problems.geometry.values
    wkb = [None if g is None or g.is_empty else shapely.to_wkb(g, output_dimension=2) for g in geoms]
    rows = []
    for r, w in zip(problems.drop(columns="geometry").to_dict("records"), wkb):
        rows.append(
            {
                "load_id": load_id,
                "kind": r["kind"],
                "severity": r.get("severity") or "warning",
                "code": _none(r.get("code")),
                "other_code": _none(r.get("other_code")),
                "level": None if _none(r.get("level")) is None else int(r["level"]),
                "area_m2": _none(r.get("area_m2")),
                "share": _none(r.get("share")),
                "detail": r.get("detail") or "",
                "wkb": w,
            }
        )
    return rows


def _none(value):
    """None for every way pandas spells a missing value (None, NaN, NA, '')."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return None if isinstance(value, str) and not value else value


def _count_by_level(units: gpd.GeoDataFrame) -> dict[str, int]:
    current = units[units["valid_to"].isna()]
    counts = current["level"].value_counts().sort_index()
    return {ADMIN_LEVEL_EN[AdminLevel(int(lvl))]: int(n) for lvl, n in counts.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
