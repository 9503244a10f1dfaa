"""`covidgis publish`: the current public snapshot as static files for any CDN or object store (gis/publish/)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from gis.context import AppContext
from gis.publish.snapshot import publish_snapshot

out = Console()


def publish(
    ctx: typer.Context,
    folder: Path = typer.Option(None, "--out", help="The folder to write (default COVIDGIS_PUBLISH_DIR, var/publish)."),
    keep: int = typer.Option(None, "--keep", min=1, help="Snapshot folders kept (default COVIDGIS_PUBLISH_KEEP, 3)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Write the public zones of the current snapshot (GeoJSON, FlatGeobuf, CSV per admin level, search index,
    locations of interest) and latest.json, which names them; only latest.json changes in place."""
    context: AppContext = ctx.obj
    target = folder or context.publish.dir or context.settings.var_dir / "publish"
    summary = publish_snapshot(context.engine, target, keep or context.publish.keep)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    state = "already published, unchanged" if summary.unchanged else f"{summary.files} files, {summary.bytes:,} bytes"
    out.print(f"snapshot {summary.snapshot_version} in {summary.out}: {state} ({summary.seconds} s)")
    if summary.pruned:
        out.print(f"older snapshots removed: {', '.join(f'v{v}' for v in summary.pruned)}")
