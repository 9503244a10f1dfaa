"""`covidgis report`: the steering committee's reports."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from gis.context import AppContext

app = typer.Typer(help="Reports for the steering committee (HTML and XLSX, in Vietnamese).", no_args_is_help=True)
out = Console()


@app.command()
def weekly(
    ctx: typer.Context,
    week: str = typer.Option(..., help="ISO week, e.g. 2021-W35."),
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the report into."),
    ruleset: str = typer.Option(None, help="Rule set id (default: the one the public map shows)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary (week, day, rule set, files) as JSON."),
) -> None:
    """Per district: new cases, tests and positivity, vaccination by age, zones and their changes, with a map."""
    from gis.reports.mapimage import province_map_png
    from gis.reports.render import write_weekly
    from gis.reports.weekly import build_weekly, published_ruleset

    context: AppContext = ctx.obj
    engine = context.engine
    report = build_weekly(
        engine, week, ruleset or published_ruleset(engine, context.risk.ruleset), trace_ruleset=context.trace.ruleset
    )
    summary = write_weekly(report, province_map_png(engine, report), out_dir)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    for note in summary.notes:
        out.print(f"[yellow]{note}[/]")
    out.print(
        f"báo cáo tuần {summary.week} ({summary.ruleset}, số liệu đến {summary.day}): "
        + ", ".join(str(p) for p in summary.files)
    )
