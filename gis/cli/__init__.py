"""`covidgis`: one command with a subcommand per pipeline stage; settings are built here, once."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from gis.cli import boundaries, db, export, ingest, report, risk, serve, users, zones
from gis.errors import CovidGisError
from gis.settings import Settings

app = typer.Typer(
    help="covid-gis: boundaries, ingest, risk zones and the OGC API for a province.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(boundaries.app, name="boundaries")
app.add_typer(ingest.app, name="ingest")
app.add_typer(risk.app, name="risk")
app.add_typer(zones.app, name="zones")
app.add_typer(report.app, name="report")
app.add_typer(users.app, name="users")
app.add_typer(export.app, name="export")
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)

err = Console(stderr=True, soft_wrap=True)  # one error, one line, whatever the terminal width


@app.callback()
def _main(
    ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details.")
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    settings = Settings()
    settings.log_sources()
    ctx.obj = settings


def main() -> None:
    """Entry point: user errors exit 2 with one clear line; bugs keep their traceback."""
    try:
        app()
    except CovidGisError as exc:
        err.print("[bold red]error:[/]", escape(str(exc)), highlight=False)
        sys.exit(2)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        err.print(
            "[bold red]error:[/]",
            escape(
                f"cannot reach the database ({reason}). Is it running? "
                "`covidgis db start` starts the local one; DATABASE_URL names another."
            ),
            highlight=False,
        )
        sys.exit(2)
