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
    from gis.serve.limits import configure_server_logging, h11_buffer_bytes
    from gis.serve.memory import BigPagesInTurn, ReturnFreedMemory, bound_malloc
    from gis.serve.settings import ServeSettings

    bound_malloc()  # before any thread allocates (gis/serve/memory.py: the server's memory stays bounded)
    settings: Settings = ctx.obj
    serve_settings = ServeSettings()
    configure_server_logging(serve_settings)  # plain, bounded lines: no rich highlighting of request values
    app = create_app(settings, start_database(settings), serve_settings, RiskSettings())
    log.info("serving on %s (Ctrl-C stops)", settings.base_url)
    # log_config=None: uvicorn's loggers go through the bounded handler above instead of its own.
    uvicorn.run(
        ReturnFreedMemory(BigPagesInTurn(app)),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        log_config=None,
        h11_max_incomplete_event_size=h11_buffer_bytes(serve_settings),
    )


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
