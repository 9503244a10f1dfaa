"""`covidgis serve` and `covidgis demo`."""

from __future__ import annotations

import logging

import typer

from gis.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)


def serve(ctx: typer.Context) -> None:
    """Serve the OGC API (pygeoapi) and our routes on COVIDGIS_HOST:COVIDGIS_PORT until Ctrl-C."""
    import uvicorn

    from gis.db.engine import start_database
    from gis.serve.app import create_app

    settings: Settings = ctx.obj
    app = create_app(settings, start_database(settings))
    log.info("serving on %s (Ctrl-C stops)", settings.base_url)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def demo(ctx: typer.Context, no_serve: bool = typer.Option(False, "--no-serve", help="Set up, then exit.")) -> None:
    """The whole demo: database, migrations, Đồng Nai's boundaries, then serve."""
    from gis.boundaries.dataset import read_manifest
    from gis.boundaries.load import prepare, store
    from gis.db.engine import start_database
    from gis.db.migrate import upgrade

    settings: Settings = ctx.obj
    engine = start_database(settings)
    upgrade(engine)
    ds = read_manifest(PROJECT_ROOT / "boundaries" / "dongnai")
    summary = store(engine, ds, prepare(ds))
    log.info("boundaries %s: %s (%d new, %d unchanged)", ds.name, summary.units_by_level, summary.inserted,
             summary.unchanged)
    if not no_serve:
        serve(ctx)
