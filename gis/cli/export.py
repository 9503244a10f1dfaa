"""`covidgis export`: the public layers as files for offline use."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from gis.settings import Settings

app = typer.Typer(help="Export the public layers for offline use.", no_args_is_help=True)


@app.command()
def gpkg(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="GeoPackage to write (replaced if it exists)."),
    history: bool = typer.Option(False, "--history", help="Also write zones-history (every area, every day)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Public layers (areas, zones, facilities-public, data-quality) with their QGIS styles embedded."""
    from sqlalchemy.engine import make_url

    from gis.db.engine import make_engine, start_database
    from gis.serve.export import export_gpkg
    from gis.serve.settings import ServeSettings

    settings: Settings = ctx.obj
    serve = ServeSettings()
    start_database(settings).dispose()
    password = serve.public_db_password.get_secret_value() if serve.public_db_password else None
    url = make_url(settings.url).set(username=serve.public_db_user, password=password)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        summary = export_gpkg(engine, out, history=history)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(summary.__dict__, ensure_ascii=False))
    else:
        for name, count in summary.features.items():
            typer.echo(f"{name}: {count} features" + (" (styled)" if name in summary.styles else ""))
        typer.echo(f"wrote {summary.path}")
