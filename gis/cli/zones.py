"""`covidgis zones`: compute, show and override risk zones."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import nullcontext

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from gis.risk.ruleset import ADMIN_LEVELS, load_ruleset
from gis.risk.settings import RiskSettings
from gis.settings import Settings

app = typer.Typer(
    help="Risk zones of every area and day (computed from the indicators, with reasons).", no_args_is_help=True
)
out = Console()
COLOUR_STYLE = {
    "green": "green",
    "yellow": "yellow",
    "orange": "dark_orange",
    "red": "red",
    "dark_red": "dark_red",
    "grey": "grey50",
}


def _days(date: dt.datetime | None, start: dt.datetime | None, end: dt.datetime | None) -> list[dt.date]:
    if date and (start or end):
        raise typer.BadParameter("give --date, or --from and --to, not both")
    if date:
        return [date.date()]
    if start and end:
        if end < start:
            raise typer.BadParameter("--to is before --from")
        return [start.date() + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    raise typer.BadParameter("give --date D, or --from D --to D")


@app.command()
def compute(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(None, formats=["%Y-%m-%d"], help="One day."),
    start: dt.datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day."),
    end: dt.datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day (inclusive)."),
    ruleset: str = typer.Option(None, help="Rule set id or YAML path (default COVIDGIS_RISK_RULESET)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Recompute the indicators from the events, then classify every area at every level and store the zones."""
    from gis.db.engine import start_database
    from gis.jobs import recompute

    settings: Settings = ctx.obj
    days = _days(date, start, end)
    engine = start_database(settings)
    with out.status(f"indicators and zones for {len(days)} days…") if not as_json else nullcontext():
        indicators, summary = recompute(engine, days, ruleset)
    if as_json:
        print(json.dumps({**summary.__dict__, "indicator_seconds": indicators.seconds}, ensure_ascii=False))
        return
    out.print(
        f"{summary.ruleset}: {summary.zones} zones over {summary.days} days, {summary.changed} changed "
        f"(snapshot {summary.snapshot_version or 'unchanged'}); indicators {indicators.seconds} s, "
        f"zones {summary.seconds} s"
    )


@app.command()
def show(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(..., formats=["%Y-%m-%d"], help="The day."),
    level: str = typer.Option("commune", help="province | district | commune | hamlet"),
    ruleset: str = typer.Option(None, help="Rule set id (default COVIDGIS_RISK_RULESET)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the zones of one day: name, colour, level and the indicators that decided it."""
    from gis.db.engine import start_database

    if level not in ADMIN_LEVELS:
        raise typer.BadParameter(f"level must be one of {', '.join(ADMIN_LEVELS)}")
    settings: Settings = ctx.obj
    rs_id = load_ruleset(ruleset or RiskSettings().ruleset).id
    with start_database(settings).connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT z.area_code, a.name, z.level, z.colour, z.label_vi, z.computed_level, z.decisive,"
                    " z.reasons "
                    "FROM risk.zone z JOIN admin.area a ON a.code = z.area_code AND a.valid_from <= z.day "
                    "AND (a.valid_to IS NULL OR a.valid_to > z.day) "
                    "WHERE z.ruleset_id = :rs AND z.day = :day AND z.admin_level = :lvl ORDER BY z.level DESC, a.name"
                ),
                {"rs": rs_id, "day": date.date(), "lvl": ADMIN_LEVELS[level]},
            )
            .mappings()
            .all()
        )
    if as_json:
        print(json.dumps([dict(r) for r in rows], ensure_ascii=False, default=str))
        return
    if not rows:
        out.print(f"no zones for {date.date()} with {rs_id}: run `covidgis zones compute --date {date.date()}`")
        raise typer.Exit(1)
    table = Table(title=f"{rs_id} — {date.date()} — {level}")
    for col in ("code", "tên / name", "cấp / level", "màu / colour", "decisive indicators"):
        table.add_column(col)
    for r in rows:
        decisive = ", ".join(f"{k} = {_fmt(v)}" for k, v in (r["decisive"] or {}).items())
        overridden = " (override)" if r["level"] != r["computed_level"] else ""
        table.add_row(
            r["area_code"],
            r["name"],
            f"{r['level']}{overridden}",
            f"[{COLOUR_STYLE.get(r['colour'], 'white')}]{r['colour']}[/]",
            decisive,
        )
    out.print(table)


@app.command()
def override(
    ctx: typer.Context,
    area: str = typer.Option(..., help="Area code."),
    level: int = typer.Option(..., help="Level to set (a level of the rule set)."),
    start: dt.datetime = typer.Option(..., "--from", formats=["%Y-%m-%d"], help="First day."),
    end: dt.datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day (open if omitted)."),
    reason: str = typer.Option(..., help="Why (shown with the zone)."),
    author: str = typer.Option(..., help="Who decided (name or office)."),
) -> None:
    """Set an area's level for a period by decision of the steering committee; recompute to apply it."""
    from gis.db.engine import start_database

    settings: Settings = ctx.obj
    if not reason.strip() or not author.strip():
        raise typer.BadParameter("an override needs a reason and an author")
    with start_database(settings).begin() as conn:
        if not conn.execute(text("SELECT 1 FROM admin.area WHERE code = :c"), {"c": area}).scalar():
            raise typer.BadParameter(f"no area with code {area}")
        oid = conn.execute(
            text(
                "INSERT INTO risk.override (area_code, start_day, end_day, level, reason, author) "
                "VALUES (:a, :s, :e, :l, :r, :w) RETURNING id"
            ),
            {"a": area, "s": start.date(), "e": end.date() if end else None, "l": level, "r": reason, "w": author},
        ).scalar_one()
    out.print(
        f"override {oid}: {area} at level {level} from {start.date()}"
        f"{' to ' + str(end.date()) if end else ''}. Run `covidgis zones compute` for those days."
    )


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
