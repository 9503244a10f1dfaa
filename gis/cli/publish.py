"""`covidgis publish`: the current public snapshot as static files for any CDN or object store (gis/publish/)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from gis.context import AppContext

out = Console()


def publish(
    ctx: typer.Context,
    folder: Path = typer.Option(None, "--out", help="The folder to write (default COVIDGIS_PUBLISH_DIR, var/publish)."),
    keep: int = typer.Option(None, "--keep", min=1, help="Snapshot folders kept (default COVIDGIS_PUBLISH_KEEP, 3)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Write the public zones of the current snapshot (GeoJSON, FlatGeobuf, CSV per admin level, search index,
    locations of interest, travel measures) and latest.json, which names them; only latest.json changes in place.
    Every snapshot change publishes too, unless COVIDGIS_PUBLISH_AFTER_CHANGE=false."""
    from gis.jobs import publish_static

    context: AppContext = ctx.obj
    summary = publish_static(context, folder, keep)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    state = "already published, unchanged" if summary.unchanged else f"{summary.files} files, {summary.bytes:,} bytes"
    out.print(f"snapshot {summary.snapshot_version} in {summary.out}: {state} ({summary.seconds} s)")
    if summary.pruned:
        out.print(f"older snapshots removed: {', '.join(f'v{v}' for v in summary.pruned)}")
