"""`covidgis publish`: the current public snapshot as static files anyone can put behind a CDN or object store.

Layout of the output folder (DIR):

    DIR/latest.json                       the only file rewritten in place (written last, by rename)
    DIR/v{VERSION}/zones-l{N}.{sha12}.geojson|fgb|csv   per admin level (1 province … 4 hamlet)
    DIR/v{VERSION}/search.{sha12}.json    code, name, level, colour and bbox of every area (for a static map's search)
    DIR/v{VERSION}/zones.{sha12}.pmtiles  every admin level as vector tiles, z5–z14 (gis/publish/tiles.py)
    DIR/v{VERSION}/locations-of-interest.{sha12}.geojson   when tracing exists
    DIR/v{VERSION}/{name}.{sha12}.json    extra documents given by the composition (e.g. travel measures)

Every file is read from the same public views as the API (`pub.zones`, `pub.locations_of_interest`: the same
suppression, nothing personal), in one REPEATABLE READ transaction: every file shows the same moment. A snapshot is
written into a hidden temporary folder and renamed into place whole; `latest.json` is replaced only after it, so a
crash at any point leaves the previous latest.json naming complete files. File names carry their content hash (they
never change once written); the newest `keep` folders are kept. A publish is keyed by the snapshot version and the
last trace run (`pub.data_version.trace`, as in the API's ETag): a trace run that changes the locations of interest
without a new snapshot publishes again, its new files added beside the old ones in `v{VERSION}/`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from sqlalchemy import Connection, Engine, RowMapping

from gis import sqlfiles
from gis.csvcell import cell
from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, AdminLevel
from gis.publish.errors import PublishError
from gis.publish.tiles import write_pmtiles
from gis.summary import Summary

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "publish.sql")
FORMAT = 1  # of latest.json
ZONE_COLUMNS = (
    "code",
    "day",
    "admin_level",
    "name",
    "parent_code",
    "level",
    "colour",
    "label_vi",
    "label_en",
    "ruleset_id",
    "ruleset_version",
    "overridden",
    "details_suppressed",
)
LOCATION_COLUMNS = (
    "event_id",
    "venue_name",
    "venue_kind",
    "start",
    "end",
    "exposure_type",
    "advice_vi",
    "advice_en",
    "published_at",
    "updated_at",
)


@dataclass
class PublishSnapshotSummary(Summary):
    """What a publish wrote: the snapshot version, the folder, the files of the snapshot and their bytes."""

    snapshot_version: int
    out: Path
    files: int
    bytes: int
    seconds: float
    unchanged: bool = False  # this version was already published (its files are kept as they were)
    pruned: list[int] = field(default_factory=list)  # older snapshot folders deleted
    parts: dict[str, float] = field(default_factory=dict)  # seconds of each part ("zones-l4 geojson", "pmtiles z14")
    api_tiles: int = 0  # the API's zones tiles stored for this snapshot (gis/publish/apitiles.py), when composed


# Writes one file of the snapshot into `folder` and returns its entry fields (kind, admin_level…), or None.
Writer = Callable[[Connection, Path], list[dict[str, Any]]]


def publish_snapshot(
    engine: Engine, out: Path, keep: int, extra_documents: dict[str, dict] | None = None
) -> PublishSnapshotSummary:
    """Write the current public snapshot under `out` (see the module docstring); idempotent per snapshot version."""
    started = time.monotonic()
    out = _usable_folder(out)
    # one snapshot of the database for every file (a recompute committing meanwhile is the next publish's)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.exec_driver_sql(SQL["snapshot"]).mappings().one()
        if snapshot["ruleset_id"] is None or not conn.exec_driver_sql(SQL["levels_present"]).first():
            raise PublishError(
                "no public zones to publish yet: compute and publish zones first (`covidgis demo`, or an ingest "
                "then `covidgis zones publish`)"
            )
        version = int(snapshot["version"])
        parts: dict[str, float] = {}
        target = out / f"v{version}"
        latest = _read_latest(out)
        trace_run = int(snapshot["trace_run"])
        unchanged = (
            latest is not None
            and latest.get("snapshot_version") == version
            and latest.get("trace_run", 0) == trace_run  # a trace run changed the locations of interest: again
            and _complete(out, latest)
            and any(e.get("kind") == "pmtiles" for e in latest["files"])  # not a folder from before the tiles
        )
        if unchanged:
            assert latest is not None
            entries = latest["files"]
        else:
            staging = out / f".staging-v{version}-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            try:
                entries = _write_files(conn, staging, extra_documents or {}, snapshot, parts)
                _into_place(staging, target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            entries = [{**e, "path": f"{target.name}/{e['path']}"} for e in entries]
    kept = _kept_versions(out, version, keep)
    if not unchanged:
        _write_latest(
            out,
            {
                "format": FORMAT,
                "snapshot_version": version,
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "snapshot_changed_at": snapshot["changed_at"].isoformat(),
                "ruleset": snapshot["ruleset_id"],
                "zones_day": _value(snapshot["zones_day"]),
                "trace_run": trace_run,
                "files": entries,
                "kept": kept,
            },
        )
    pruned = _prune(out, kept)
    return PublishSnapshotSummary(
        snapshot_version=version,
        out=out,
        files=len(entries),
        bytes=sum(e["size"] for e in entries),
        seconds=round(time.monotonic() - started, 3),
        unchanged=unchanged,
        pruned=pruned,
        parts=parts,
    )


def locations_digest(engine: Engine) -> str | None:
    """A digest of the public locations of interest as the folder shows them (None: no tracing layer)."""
    with engine.connect() as conn:
        if not conn.exec_driver_sql(SQL["has_locations"]).scalar_one():
            return None
        return str(conn.exec_driver_sql(SQL["locations_digest"]).scalar_one())


def snapshot_version(engine: Engine) -> int:
    """The current snapshot version (risk.snapshot)."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(SQL["snapshot_version"]).scalar_one())


def _into_place(staging: Path, target: Path) -> None:
    """The staged folder becomes v{VERSION}: renamed whole when there is none; else (this version published again,
    e.g. after a trace run changed the locations of interest) each staged file renamed into it unless the same name
    is there at its size. Names carry the content hash, so no file a cached latest.json names changes or goes."""
    if not target.is_dir():
        staging.rename(target)
        return
    for path in staging.iterdir():
        there = target / path.name
        if not (there.is_file() and there.stat().st_size == path.stat().st_size):
            os.replace(path, there)


def _usable_folder(out: Path) -> Path:
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out} is not a folder: give --out a folder (it is created when missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create the publish folder {out}: {exc.strerror}") from exc
    return out


def _write_files(
    conn: Connection,
    folder: Path,
    extra_documents: dict[str, dict],
    snapshot: RowMapping,
    parts: dict[str, float],
) -> list[dict[str, Any]]:
    """Every file of the snapshot, each renamed to carry its content hash; the entries of latest.json. `parts` gets
    the seconds of each part."""
    entries: list[dict[str, Any]] = []
    search: list[dict[str, Any]] = []
    levels = list(conn.exec_driver_sql(SQL["levels_present"]).scalars())
    shared = conn.exec_driver_sql(SQL["export_snapshot"]).scalar_one()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="publish-tiles") as pool:
        # the tiles are PostgreSQL's work, the files below this process's: both at once, on two connections
        tiles = pool.submit(_pmtiles, conn.engine, shared, folder, levels, snapshot)
        entries += _zone_files(conn, folder, levels, search, parts)
        with _timed(parts, "search"):
            entries.append(_hashed(folder, "search.json", _json(search), "search", {"features": len(search)}))
        entry, tile_parts = tiles.result()
    entries.append(entry)
    parts.update(tile_parts)
    if conn.exec_driver_sql(SQL["has_locations"]).scalar_one():
        rows = conn.exec_driver_sql(SQL["locations"]).mappings().all()
        body = _geojson(rows, LOCATION_COLUMNS, "event_id")
        entries.append(_hashed(folder, "locations-of-interest.geojson", body, "geojson", {"features": len(rows)}))
    for name, document in sorted(extra_documents.items()):
        entries.append(_hashed(folder, f"{name}.json", _json(document), "json", {}))
    return entries


def _zone_files(
    conn: Connection, folder: Path, levels: list[int], search: list[dict[str, Any]], parts: dict[str, float]
) -> list[dict[str, Any]]:
    """GeoJSON, CSV and FlatGeobuf of each admin level; each area's search entry added to `search`."""
    entries: list[dict[str, Any]] = []
    for admin_level in levels:
        stem = f"zones-l{admin_level}"
        with _timed(parts, f"{stem} read"):
            rows = conn.exec_driver_sql(SQL["zones"], {"admin_level": admin_level}).mappings().all()
        meta = {"admin_level": admin_level, "features": len(rows)}
        with _timed(parts, f"{stem} geojson"):
            entries.append(_hashed(folder, f"{stem}.geojson", _geojson(rows, ZONE_COLUMNS, "code"), "geojson", meta))
        with _timed(parts, f"{stem} csv"):
            entries.append(_hashed(folder, f"{stem}.csv", _csv(rows, ZONE_COLUMNS), "csv", meta))
        with _timed(parts, f"{stem} flatgeobuf"):
            body = _flatgeobuf(rows, folder / f"{stem}.fgb")
            entries.append(_hashed(folder, f"{stem}.fgb", body, "flatgeobuf", meta))
        search += [
            {
                "code": r["code"],
                "name": r["name"],
                "admin_level": admin_level,
                "admin_level_vi": ADMIN_LEVEL_VI[AdminLevel(admin_level)],
                "admin_level_en": ADMIN_LEVEL_EN[AdminLevel(admin_level)],
                "parent_code": r["parent_code"],
                "level": r["level"],
                "colour": r["colour"],
                "bbox": [round(r[k], 6) for k in ("west", "south", "east", "north")],
            }
            for r in rows
        ]
        del rows
    return entries


def _pmtiles(
    engine: Engine, shared: str, folder: Path, levels: list[int], snapshot: RowMapping
) -> tuple[dict[str, Any], dict[str, float]]:
    """The zones as one PMTiles archive, on a connection of its own that sees the publish's database snapshot
    (`shared`, exported by it), written under a scratch name and renamed to carry its hash; the entry and seconds."""
    started = time.monotonic()
    scratch = folder / "zones.pmtiles"
    ours = {"snapshot_version": int(snapshot["version"]), "ruleset": snapshot["ruleset_id"]}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.exec_driver_sql(SQL["import_snapshot"], {"snapshot": shared})
        written = write_pmtiles(conn, scratch, levels, ours)
    path = folder / f"zones.{written.sha256[:12]}.pmtiles"
    scratch.rename(path)
    parts = {f"pmtiles z{z}": s for z, s in written.seconds_by_zoom.items()}
    parts["pmtiles"] = round(time.monotonic() - started, 3)
    return {"path": path.name, "kind": "pmtiles", **written.entry()}, parts


@contextmanager
def _timed(parts: dict[str, float], name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    parts[name] = round(time.monotonic() - started, 3)


def _hashed(folder: Path, name: str, body: bytes, kind: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Write `body` as NAME with the first 12 hex digits of its sha256 before the extension."""
    digest = hashlib.sha256(body).hexdigest()
    stem, ext = name.split(".", 1)
    path = folder / f"{stem}.{digest[:12]}.{ext}"
    path.write_bytes(body)
    return {"path": path.name, "kind": kind, **meta, "size": len(body), "sha256": digest}


def _value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _geojson(rows, columns: tuple[str, ...], id_column: str) -> bytes:
    """A FeatureCollection; the geometry text comes from PostGIS as is (no per-feature geometry work here)."""
    parts = []
    for r in rows:
        properties = json.dumps({c: _value(r[c]) for c in columns}, ensure_ascii=False)
        parts.append(
            f'{{"type":"Feature","id":{json.dumps(r[id_column], ensure_ascii=False)},'
            f'"geometry":{r["geojson"]},"properties":{properties}}}'
        )
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def _csv(rows, columns: tuple[str, ...]) -> bytes:
    """The properties as CSV (spreadsheet-safe cells, gis/csvcell.py), with a UTF-8 BOM for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([cell(r[c]) for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode()


def _flatgeobuf(rows, scratch: Path) -> bytes:
    """FlatGeobuf (with its spatial index) by GDAL; read back as bytes and the scratch file removed."""
    frame = gpd.GeoDataFrame(
        {c: [_value(r[c]) for r in rows] for c in ZONE_COLUMNS},
        geometry=shapely.from_wkb([bytes(r["wkb"]) for r in rows]),
        crs="EPSG:4326",
    )
    frame.to_file(scratch, driver="FlatGeobuf", engine="pyogrio")
    body = scratch.read_bytes()
    scratch.unlink()
    return body


def _json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _read_latest(out: Path) -> dict | None:
    try:
        latest = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return latest if isinstance(latest, dict) and latest.get("format") == FORMAT else None


def _complete(out: Path, latest: dict) -> bool:
    """Every file latest.json names is there with its size (a folder someone damaged is written again)."""
    try:
        return all((out / e["path"]).stat().st_size == e["size"] for e in latest["files"])
    except (OSError, KeyError, TypeError):
        return False


def _write_latest(out: Path, latest: dict) -> None:
    """Write latest.json beside itself, flush it to disk, then rename it over the old one (atomic on POSIX)."""
    scratch = out / f".latest.json.{os.getpid()}"
    with scratch.open("wb") as f:
        f.write(json.dumps(latest, ensure_ascii=False, indent=1).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(scratch, out / "latest.json")


def _versions(out: Path) -> list[int]:
    return sorted(int(p.name[1:]) for p in out.glob("v*") if p.is_dir() and p.name[1:].isdigit())


def _kept_versions(out: Path, current: int, keep: int) -> list[int]:
    """The newest `keep` snapshot folders, the current one always among them."""
    older = [v for v in _versions(out) if v != current]
    return sorted([*older[-(keep - 1) :], current] if keep > 1 else [current])


def _prune(out: Path, kept: list[int]) -> list[int]:
    pruned = [v for v in _versions(out) if v not in kept]
    for v in pruned:
        shutil.rmtree(out / f"v{v}", ignore_errors=True)
    return pruned
