"""`covidgis serve` and `covidgis demo`."""

from __future__ import annotations

import logging

import typer

from gis.settings import Settings

log = logging.getLogger(__name__)


def serve(ctx: typer.Context) -> None:
    """Serve the OGC API (pygeoapi) and our routes on COVIDGIS_HOST:COVIDGIS_PORT until Ctrl-C."""
    import uvicorn

    from gis.db.engine import start_database
    from gis.risk.settings import RiskSettings
    from gis.serve.app import create_app
    from gis.serve.settings import ServeSettings

    settings: Settings = ctx.obj
    app = create_app(settings, start_database(settings), ServeSettings(), RiskSettings())
    log.info("serving on %s (Ctrl-C stops)", settings.base_url)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def demo(ctx: typer.Context, no_serve: bool = typer.Option(False, "--no-serve", help="Set up, then exit.")) -> None:
    """The whole demo: database, migrations, Đồng Nai's boundaries, synthetic feeds, zones, then serve."""
    from gis import jobs
    from gis.db.engine import start_database
    from gis.db.migrate import upgrade

    settings: Settings = ctx.obj
    engine = start_database(settings)
    upgrade(engine)
    jobs.demo(settings, engine)
    if not no_serve:
        serve(ctx)
