"""`covidgis`: one command with a subcommand per pipeline stage; the context (settings, engine) is built here, once."""

from __future__ import annotations

import logging
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from sqlalchemy.exc import OperationalError
from typer.core import TyperGroup

from gis.cli import (
    boundaries,
    care,
    db,
    export,
    hotline,
    ingest,
    pseudonymise,
    publish,
    report,
    risk,
    serve,
    trace,
    users,
    welfare,
    zones,
)
from gis.context import AppContext
from gis.errors import CovidGisError

err = Console(stderr=True, soft_wrap=True)  # one error, one line, whatever the terminal width


class _UserErrorsExit2(TyperGroup):
    """User errors (CovidGisError, an unreachable database) print one line saying what to do and exit 2, whichever
    command raised them; bugs keep their traceback. Here, not in `main()`, so every way of running the app agrees."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CovidGisError as exc:
            _error(str(exc))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            _error(
                f"cannot reach the database ({reason}). Is it running? "
                "`covidgis db start` starts the local one; DATABASE_URL names another."
            )


def _error(message: str) -> None:
    err.print("[bold red]error:[/]", escape(message), highlight=False)
    raise typer.Exit(2)


app = typer.Typer(
    cls=_UserErrorsExit2,
    help="covid-gis: boundaries, ingest, risk zones and the OGC API for a province.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(boundaries.app, name="boundaries")
app.add_typer(ingest.app, name="ingest")
app.add_typer(risk.app, name="risk")
app.add_typer(zones.app, name="zones")
app.add_typer(trace.app, name="trace")
app.add_typer(care.app, name="care")
app.add_typer(report.app, name="report")
app.add_typer(users.app, name="users")
app.add_typer(export.app, name="export")
app.add_typer(welfare.app, name="welfare")
app.add_typer(hotline.app, name="hotline")
app.command("publish")(publish.publish)
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)
app.command("pseudonymise")(pseudonymise.pseudonymise)


@app.callback()
def _main(
    ctx: typer.Context, verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details.")
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    logging.getLogger("pyogrio").setLevel(logging.DEBUG if verbose else logging.WARNING)  # "Created N records"
    context = AppContext()
    context.settings.log_sources()
    ctx.obj = context
    ctx.call_on_close(context.close)  # the engine, if a command made one, is disposed on the way out


def main() -> None:
    """Entry point of the `covidgis` script."""
    app()
