"""What a boundary dataset is made of: a `dataset.yml` manifest, or the same fields given on the command line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from gis.boundaries.errors import BoundaryError

MANIFEST = "dataset.yml"


class UnitOverride(BaseModel):
    """Validity of one unit that differs from the dataset's (e.g. dissolved before the code list's date)."""

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None  # exclusive
    note: str = ""


class PopulationSpec(BaseModel):
    file: Path
    column: str = "population"


class HamletSpec(BaseModel):
    """Hamlets come as polygons, or as points from which polygons are derived (Voronoi clipped to the commune)."""

    points: Path | None = None
    polygons: Path | None = None
    synthetic: bool = False


class Dataset(BaseModel):
    """One province's boundaries: geometry layers, the official code list, population, hamlets."""

    name: str
    source: str = ""
    valid_from: dt.date
    codes: Path
    layers: list[Path]
    status_column: str | None = None  # a column in the layers saying current / dissolved_* / renamed_*
    population: PopulationSpec | None = None
    population_raster: Path | None = None
    hamlets: HamletSpec | None = None
    units: dict[str, UnitOverride] = Field(default_factory=dict)
    base_dir: Path = Path(".")

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else self.base_dir / p

    def files(self) -> list[Path]:
        """Every file the dataset reads (for hashing into the load's lineage)."""
        out = [self.codes, *self.layers]
        if self.population:
            out.append(self.population.file)
        if self.population_raster:
            out.append(self.population_raster)
        if self.hamlets:
            out += [p for p in (self.hamlets.points, self.hamlets.polygons) if p]
        return [self.path(p) for p in out]


def read_manifest(directory: Path, check_files: bool = True) -> Dataset:
    manifest = directory / MANIFEST
    if not manifest.exists():
        raise BoundaryError(f"{directory} has no {MANIFEST}; give the geometry files and --codes instead")
    try:
        raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        dataset = Dataset.model_validate({**raw, "base_dir": directory})
    except (yaml.YAMLError, ValueError) as exc:
        raise BoundaryError(f"{manifest}: {exc}") from exc
    missing = [str(p) for p in dataset.files() if not p.exists()]
    if missing and check_files:
        raise BoundaryError(f"{manifest} names files that do not exist: {', '.join(missing)}")
    return dataset
