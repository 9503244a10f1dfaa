"""`covidgis serve` and `covidgis demo`: the server only reads; `demo` publishes its zones before serving."""

from __future__ import annotations

import logging

import typer

from gis.context import AppContext

log = logging.getLogger(__name__)


def serve(ctx: typer.Context) -> None:
    """Serve the OGC API (pygeoapi) and our routes on COVIDGIS_HOST:COVIDGIS_PORT until Ctrl-C."""
    import uvicorn

    from gis.serve.app import create_app
    from gis.serve.limits import configure_server_logging, h11_buffer_bytes
    from gis.serve.memory import BigPagesInTurn, ReturnFreedMemory, bound_malloc

    bound_malloc()  # before any thread allocates (gis/serve/memory.py: the server's memory stays bounded)
    context: AppContext = ctx.obj
    settings, serve_settings = context.settings, context.serve
    configure_server_logging(serve_settings)  # plain, bounded lines: no rich highlighting of request values
    app = create_app(context)
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
    from gis.db.migrate import upgrade

    context: AppContext = ctx.obj
    upgrade(context.engine)
    jobs.demo(context)
    if not no_serve:
        serve(ctx)
