"""`covidgis zones`: compute, show, override and publish risk zones (the work is in gis/jobs.py and gis/risk/)."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import nullcontext

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.cli.options import level_option
from gis.context import AppContext
from gis.levels import COLOURS, AdminLevel
from gis.risk.ruleset import load_ruleset

app = typer.Typer(
    help="Risk zones of every area and day (computed from the indicators, with reasons).", no_args_is_help=True
)
out = Console()


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


RULESET = typer.Option(None, help="Rule set id or YAML path (default COVIDGIS_RISK_RULESET).")
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
LEVEL = level_option("Administrative level.")


@app.command()
def compute(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(None, formats=["%Y-%m-%d"], help="One day."),
    start: dt.datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day."),
    end: dt.datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day (inclusive)."),
    ruleset: str = RULESET,
    as_json: bool = JSON,
) -> None:
    """Recompute the indicators from the events, then classify every area at every level and store the zones."""
    from gis.jobs import recompute

    context: AppContext = ctx.obj
    days = _days(date, start, end)
    with out.status(f"indicators and zones for {len(days)} days…") if not as_json else nullcontext():
        summary = recompute(context, days, ruleset or context.risk.ruleset)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    zones = summary.zones
    out.print(
        f"{zones.ruleset}: {zones.zones} zones over {zones.days} days, {zones.changed} changed "
        f"(snapshot {zones.snapshot_version or 'unchanged'}); indicators {summary.indicators.seconds} s, "
        f"zones {zones.seconds} s"
    )
    if summary.published is not None:
        out.print(f"static snapshot {summary.published.snapshot_version} written to {summary.published.out}")


@app.command()
def show(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(..., formats=["%Y-%m-%d"], help="The day."),
    level: AdminLevel = LEVEL,
    ruleset: str = RULESET,
    as_json: bool = JSON,
) -> None:
    """Print the zones of one day: name, colour, level and the indicators that decided it."""
    from gis.risk.override import zones_of_day

    context: AppContext = ctx.obj
    rs_id = load_ruleset(ruleset or context.risk.ruleset).id
    rows = zones_of_day(context.engine, rs_id, date.date(), int(level))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not rows:
        out.print(f"no zones for {date.date()} with {rs_id}: run `covidgis zones compute --date {date.date()}`")
        raise typer.Exit(1)
    table = Table(title=f"{rs_id} — {date.date()} — {level.name}")
    for col in ("code", "tên / name", "cấp / level", "màu / colour", "decisive indicators"):
        table.add_column(col)
    for r in rows:
        decisive = ", ".join(f"{k} = {_fmt(v)}" for k, v in (r["decisive"] or {}).items())
        overridden = " (override)" if r["level"] != r["computed_level"] else ""
        table.add_row(
            r["area_code"],
            escape(r["name"]),
            f"{r['level']}{overridden}",
            f"[{COLOURS[r['colour']].hex if r['colour'] in COLOURS else 'white'}]{r['colour']}[/]",
            escape(decisive),
        )
    out.print(table)


@app.command()
def override(
    ctx: typer.Context,
    area: str = typer.Option(None, help="Area code (or --proposal)."),
    level: int = typer.Option(..., help="Level to set (a level of the rule set)."),
    start: dt.datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"], help="First day (a proposal: its day)."),
    end: dt.datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"], help="Last day (open if omitted)."),
    reason: str = typer.Option(None, help="Why (shown with the zone; with --proposal, added to its reason)."),
    author: str = typer.Option(..., help="Who decided (name or office)."),
    proposal: str = typer.Option(
        None, "--proposal", help="Adopt a narrow-lockdown proposal (`covidgis trace proposals`): its area and reason."
    ),
    as_json: bool = JSON,
) -> None:
    """Set an area's level for a period by decision of the steering committee; recompute to apply it."""
    from gis.risk.override import InvalidOverride, add_override, proposed_override

    context: AppContext = ctx.obj
    if proposal is not None:
        proposed = proposed_override(context.engine, proposal)
        if area is not None and area != proposed.area:
            raise InvalidOverride(f"--area {area} is not the area of proposal {proposal} ({proposed.area})")
        area = proposed.area
        start = start or dt.datetime.combine(proposed.day, dt.time())
        reason = f"{proposed.reason}: {reason}" if reason else proposed.reason
    if area is None or start is None or reason is None:
        raise InvalidOverride("give --area, --from and --reason, or --proposal ID")
    made = add_override(context.engine, area, level, start.date(), end.date() if end else None, reason, author)
    if as_json:
        print(json.dumps(made.to_json(), ensure_ascii=False))
        return
    out.print(
        f"override {made.id}: {escape(made.area)} at level {made.level} from {made.start}"
        f"{f' to {made.end}' if made.end else ''}. Run `covidgis zones compute` for those days.",
        highlight=False,
    )


@app.command()
def publish(ctx: typer.Context, ruleset: str = RULESET, as_json: bool = JSON) -> None:
    """Show this rule set's zones on the public layers and map, with the configured suppression of small counts
    (COVIDGIS_SERVE_SUPPRESS_BELOW); a change is a new snapshot, so every cache turns over. The server only reads."""
    from gis.jobs import publish_zones

    context: AppContext = ctx.obj
    done, static = publish_zones(context, load_ruleset(ruleset or context.risk.ruleset).id)
    if as_json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
        return
    change = f"snapshot {done.snapshot_version}" if done.snapshot_version else "unchanged"
    out.print(f"public zones: {done.ruleset}, counts below {done.suppress_below} suppressed ({change})")
    if static is not None:
        out.print(f"static snapshot {static.snapshot_version} written to {static.out}")


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
