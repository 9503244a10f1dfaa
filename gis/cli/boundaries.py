"""`covidgis boundaries`: load and check administrative boundary datasets."""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import nullcontext
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from gis.boundaries.dataset import MANIFEST, Dataset, HamletSpec, PopulationSpec, read_manifest
from gis.boundaries.errors import BoundaryError
from gis.context import AppContext
from gis.levels import AdminLevel
from gis.settings import PROJECT_ROOT

app = typer.Typer(
    help="Load and check administrative boundaries (province → district → commune → hamlet).", no_args_is_help=True
)
out = Console()

DEMO_DATASET = PROJECT_ROOT / "boundaries" / "dongnai"

PATHS = typer.Argument(
    ..., help=f"A dataset folder with {MANIFEST}, or geometry files (GeoJSON, GeoPackage, Shapefile)."
)
CODES = typer.Option(None, help="Code list CSV: code,name,level,parent_code (needed without a dataset.yml).")
POPULATION = typer.Option(None, help="Census CSV with `code` and a population column.")
POP_COLUMN = typer.Option("population", help="Population column of --population.")
RASTER = typer.Option(None, help="Population raster to split commune populations among hamlets (else by area).")
HAMLET_POINTS = typer.Option(None, help="Hamlet points (code,name,parent_code): polygons are derived by Voronoi.")
HAMLET_POLYGONS = typer.Option(None, help="Hamlet polygons (code,name,parent_code).")
SYNTHETIC = typer.Option(False, "--synthetic-hamlets", help="Mark the hamlets as synthetic (not real data).")
VALID_FROM = typer.Option(None, help="First day these boundaries hold (default: today).")
NAME = typer.Option(None, help="Dataset name (default: the folder name).")
JSON = typer.Option(False, "--json", help="Print one JSON object instead of tables.")
ACCEPT_ERRORS = typer.Option(
    False, "--accept-errors", help="Load although the check found errors (they are kept in the data-quality layer)."
)


def dataset_from_args(
    paths: list[Path],
    codes: Path | None,
    population: Path | None,
    pop_column: str,
    raster: Path | None,
    hamlet_points: Path | None,
    hamlet_polygons: Path | None,
    synthetic: bool,
    valid_from: dt.datetime | None,
    name: str | None,
) -> Dataset:
    """A dataset.yml folder, or files plus options (the same fields)."""
    if len(paths) == 1 and paths[0].is_dir():
        return read_manifest(paths[0])
    if codes is None:
        raise BoundaryError(
            f"give --codes CSV (code,name,level,parent_code) with the geometry files, or a folder with a {MANIFEST}"
        )
    for p in [*paths, codes, population, raster, hamlet_points, hamlet_polygons]:
        if p is not None and not p.exists():
            raise BoundaryError(f"{p}: no such file")
    hamlets = None
    if hamlet_points or hamlet_polygons:
        hamlets = HamletSpec(points=hamlet_points, polygons=hamlet_polygons, synthetic=synthetic)
    return Dataset(
        name=name or paths[0].parent.name,
        source=", ".join(p.name for p in paths),
        valid_from=(valid_from or dt.datetime.now()).date(),
        codes=codes,
        layers=paths,
        population=PopulationSpec(file=population, column=pop_column) if population else None,
        population_raster=raster,
        hamlets=hamlets,
    )


@app.command()
def load(
    ctx: typer.Context,
    paths: list[Path] = PATHS,
    codes: Path = CODES,
    population: Path = POPULATION,
    pop_column: str = POP_COLUMN,
    raster: Path = RASTER,
    hamlet_points: Path = HAMLET_POINTS,
    hamlet_polygons: Path = HAMLET_POLYGONS,
    synthetic: bool = SYNTHETIC,
    valid_from: dt.datetime = VALID_FROM,
    name: str = NAME,
    as_json: bool = JSON,
    accept_errors: bool = ACCEPT_ERRORS,
) -> None:
    """Check a boundary dataset and store it as the current areas (re-loading the same data changes nothing);
    a dataset with errors is refused unless --accept-errors."""
    from gis.boundaries.load import prepare, store

    context: AppContext = ctx.obj
    started = time.perf_counter()
    ds = dataset_from_args(
        paths, codes, population, pop_column, raster, hamlet_points, hamlet_polygons, synthetic, valid_from, name
    )
    with out.status(f"checking {ds.name}…", spinner="dots") if not as_json else nullcontext():
        prepared = prepare(ds)
    with out.status("storing…", spinner="dots") if not as_json else nullcontext():
        summary = store(context.engine, ds, prepared, accept_errors=accept_errors)
    summary.seconds = round(time.perf_counter() - started, 2)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    _print_problems(summary.problems)
    levels = ", ".join(f"{n} {lvl}s" for lvl, n in summary.units_by_level.items())
    out.print(
        f"[bold]{ds.name}[/]: load {summary.load_id} — {levels}; {summary.inserted} new, "
        f"{summary.corrected} corrected, {summary.unchanged} unchanged ({summary.seconds} s)"
    )


@app.command()
def check(
    paths: list[Path] = typer.Argument(None, help=f"Dataset folder or files (default: {DEMO_DATASET})."),
    codes: Path = CODES,
    hamlet_points: Path = HAMLET_POINTS,
    hamlet_polygons: Path = HAMLET_POLYGONS,
    as_json: bool = JSON,
) -> None:
    """Report the defects of a boundary dataset without loading it (no database needed)."""
    from gis.boundaries.load import prepare

    ds = dataset_from_args(
        paths or [DEMO_DATASET], codes, None, "population", None, hamlet_points, hamlet_polygons, False, None, None
    )
    prepared = prepare(ds)
    if as_json:
        print(json.dumps(prepared.report.check_summary(ds.name).to_json(), ensure_ascii=False))
        return
    _print_problems(prepared.report.summary())


def _print_problems(problems: dict[str, dict]) -> None:
    table = Table(title="Boundary problems / Lỗi ranh giới")
    table.add_column("kind", no_wrap=True)
    table.add_column("severity")
    table.add_column("count", justify="right")
    for level in AdminLevel:
        table.add_column(level.name, justify="right")
    table.add_column("area (m²)", justify="right")
    for kind, entry in problems.items():
        area = entry.get("total_area_m2")
        by_level = [str(entry["by_level"].get(lvl, "")) for lvl in AdminLevel]
        severity = ", ".join(f"{n} {sev}" for sev, n in entry["by_severity"].items())
        table.add_row(kind, severity, str(entry["count"]), *by_level, f"{area:,.0f}" if area is not None else "")
    out.print(table)


@app.command("synthetic-hamlets")
def synthetic_hamlets(
    dataset: Path = typer.Argument(DEMO_DATASET, help=f"Dataset folder with {MANIFEST}."),
    out: Path = typer.Option(..., help="GeoJSON file to write the hamlet points to."),
    seed: int = typer.Option(2021, help="Random seed: the same seed gives the same file."),
) -> None:
    """Write a SYNTHETIC hamlet point set (5–15 per current commune) for provinces without hamlet data."""
    from gis.boundaries.hamlets import synthetic_hamlet_points
    from gis.boundaries.load import read_codes, read_layer

    ds = read_manifest(dataset, check_files=False)  # the hamlet file may be what we are about to write
    codes = read_codes(ds.path(ds.codes))
    communes = [read_layer(ds.path(p)) for p in ds.layers]
    communes = [g for g in communes if g["code"].isin(codes.loc[codes["level"] == 3, "code"]).any()]
    if not communes:
        raise BoundaryError(f"{dataset}: no layer holds level-3 units (communes)")
    layer = communes[0].merge(codes[["code", "name", "level"]], on="code", suffixes=("_layer", ""))
    if ds.status_column and ds.status_column in layer.columns:
        layer["status"] = layer[ds.status_column]
    points = synthetic_hamlet_points(layer[layer["level"] == 3], seed=seed)
    out.write_text(points.to_json(drop_id=True, ensure_ascii=False, indent=None), encoding="utf-8")
    out_console = Console(stderr=True)
    out_console.print(f"{len(points)} synthetic hamlets in {points['parent_code'].nunique()} communes → {out}")
