"""`covidgis export`: the public layers as files for offline use."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gis.context import AppContext

app = typer.Typer(help="Export the public layers for offline use.", no_args_is_help=True)


@app.command()
def gpkg(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="GeoPackage to write (replaced if it exists)."),
    history: bool = typer.Option(False, "--history", help="Also write zones-history (every area, every day)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Public layers (areas, zones, facilities-public, data-quality) with their QGIS styles embedded."""
    from gis.db.engine import make_engine
    from gis.serve.app import public_url
    from gis.serve.export import export_gpkg

    context: AppContext = ctx.obj
    _ = context.engine  # starts the local cluster if need be; the export then reads as the public role (`pub` only)
    engine = make_engine(public_url(context.settings, context.serve).render_as_string(hide_password=False))
    try:
        summary = export_gpkg(engine, out, history=history)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        for name, count in summary.features.items():
            typer.echo(f"{name}: {count} features" + (" (styled)" if name in summary.styles else ""))
        typer.echo(f"wrote {summary.path}")
