"""`covidgis db`: the database's lifecycle."""

from __future__ import annotations

import typer
from rich import print as rprint

from gis.db.engine import local_cluster, make_engine, start_database
from gis.db.migrate import current_revision, upgrade as migrate_upgrade
from gis.settings import Settings

app = typer.Typer(help="Start, stop, inspect and migrate the database.", no_args_is_help=True)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start the project-local PostGIS under var/ (nothing to do when DATABASE_URL names a server)."""
    settings: Settings = ctx.obj
    start_database(settings)
    rprint(f"database ready: {settings.url}")


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the project-local PostGIS."""
    settings: Settings = ctx.obj
    if not settings.local_cluster:
        rprint("DATABASE_URL is set: that server is not ours to stop")
        return
    local_cluster(settings).stop()
    rprint("stopped")


@app.command()
def status(ctx: typer.Context) -> None:
    """Say whether the database runs and which migration it is at."""
    settings: Settings = ctx.obj
    if settings.local_cluster and not local_cluster(settings).running():
        rprint(f"local cluster in {settings.pg_data}: stopped")
        raise typer.Exit(1)
    engine = make_engine(settings.url)
    rprint(f"database {settings.url}: running, migration {current_revision(engine) or 'none'}")


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Migrate the database to the latest schema and (re)create the layer views."""
    settings: Settings = ctx.obj
    engine = start_database(settings)
    migrate_upgrade(engine)
    rprint(f"database at migration {current_revision(engine)}")
