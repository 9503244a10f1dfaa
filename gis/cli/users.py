"""`covidgis users`: API keys for the restricted collections."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from gis.context import AppContext

app = typer.Typer(help="API keys for the restricted OGC API collections (bearer tokens).", no_args_is_help=True)
out = Console()


def _engine(ctx: typer.Context) -> Engine:
    context: AppContext = ctx.obj
    return context.engine


@app.command()
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who the key is for."),
    role: str = typer.Option(..., "--role", help="analyst, committee, tracer, welfare or hotline."),
    area: str = typer.Option(None, "--area", help="welfare: the officer's commune or district code."),
) -> None:
    """Create a key and print its token once (only its sha256 is stored)."""
    from gis.serve.users import add_user

    token = add_user(_engine(ctx), name, role, area)
    typer.echo(token)
    scope = f", {area}" if area else ""
    typer.echo(
        f"# {name} ({role}{scope}): send 'Authorization: Bearer <token>'. The token is not shown again.", err=True
    )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Keys by name and role, active first."""
    from gis.serve.users import list_users

    table = Table("id", "name", "role", "area", "created", "revoked")
    for row in list_users(_engine(ctx)):
        table.add_row(
            str(row["id"]),
            row["name"],
            row["role"],
            row["area_code"] or "",
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            f"{row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "",
        )
    out.print(table)


@app.command()
def revoke(ctx: typer.Context, name: str = typer.Argument(..., help="Whose active key to revoke.")) -> None:
    """Revoke a user's active key."""
    from gis.serve.users import revoke_user

    revoke_user(_engine(ctx), name)
    typer.echo(f"revoked the key of {name}")
