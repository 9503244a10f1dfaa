"""`covidgis ingest FILE --feed NAME`: cases, tests, vaccinations, quarantine, facilities, venues, check-ins."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from gis.context import AppContext

out = Console()
err = Console(stderr=True)


class _LoadByDefault(TyperGroup):
    """`covidgis ingest FILE --feed NAME` means `covidgis ingest load FILE --feed NAME`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's own (vendored) click Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["load", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_LoadByDefault,
    no_args_is_help=True,
    help="Ingest feed files: `covidgis ingest FILE --feed NAME` (see ingest/README.md).",
)

JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")


@app.command()
def load(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The file to ingest (CSV, XLSX, JSON, NDJSON)."),
    feed: str = typer.Option(..., "--feed", "-f", help="Feed name: a file ingest/feeds/<NAME>.yml."),
    as_json: bool = JSON,
    recompute: bool = typer.Option(True, help="Then recompute indicators and zones of the days it touched."),
) -> None:
    """Ingest one file as one batch; rejected rows are kept with their reasons (`covidgis ingest rejects`)."""
    from gis.ingest.feeds import load_feed
    from gis.ingest.pipeline import dumps, ingest_file
    from gis.ingest.pseudonym import Pseudonymiser, load_secret
    from gis.jobs import after_batch

    context: AppContext = ctx.obj
    ingest_settings = context.ingest
    definition = load_feed(feed, ingest_settings.feeds_dir)
    pseudonymiser = Pseudonymiser(load_secret(context.settings))
    engine = context.engine
    if as_json or not err.is_terminal:
        summary = ingest_file(engine, definition, file, pseudonymiser, ingest_settings)
    else:
        summary = _with_progress(engine, definition, file, pseudonymiser, ingest_settings)
    after = after_batch(context, definition.table, summary.batch_id, recompute=recompute)
    zones, traced = after.recompute, after.trace
    if as_json:
        recomputed = zones.to_json() if zones else None
        print(dumps({**summary.to_json(), "recomputed": recomputed, "trace": traced.to_json() if traced else None}))
        return
    out.print(
        f"[bold]{escape(file.name)}[/] → {feed}: batch {summary.batch_id} — {summary.rows} rows: "
        f"{summary.accepted} new, {summary.corrections} corrections, {summary.duplicates} duplicates, "
        f"{summary.rejected} rejected ({summary.seconds} s)"
    )
    for reason, n in summary.rejected_by_reason.items():
        out.print(f"  {reason}: {n}")
    if summary.rejected:
        out.print(f"  see them with: covidgis ingest rejects --batch {summary.batch_id}")
    if zones:
        out.print(
            f"  zones recomputed for {zones.first} … {zones.last}: {zones.zones.changed} changed ({zones.seconds} s)"
        )
    if traced:
        out.print(
            f"  traced {traced.cases} cases: {traced.visits} visits, {traced.contacts} contacts, "
            f"{traced.locations} locations ({traced.seconds} s)"
        )


def _with_progress(engine, definition, file, pseudonymiser, ingest_settings):
    """Ingest with a progress bar on the terminal (stderr)."""
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from gis.ingest.pipeline import ingest_file

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"reading {file.name}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)
            if total and done >= total:
                bar.update(task, description="validating and merging")

        return ingest_file(engine, definition, file, pseudonymiser, ingest_settings, progress=advance)


@app.command()
def rejects(
    ctx: typer.Context, batch: int = typer.Option(..., "--batch", "-b", help="Batch id."), as_json: bool = JSON
) -> None:
    """List a batch's rejected rows: row number, field and reason."""
    from gis.ingest.errors import IngestError
    from gis.ingest.pipeline import batch_rejects, dumps

    context: AppContext = ctx.obj
    info, rows = batch_rejects(context.engine, batch)
    if info is None:
        raise IngestError(f"no batch {batch}; `covidgis ingest FILE --feed NAME --json` prints a batch_id")
    if as_json:
        print(dumps({"batch": info, "rejects": rows}))
        return
    table = Table(title=f"Batch {batch}: {escape(info['file_name'])} ({info['feed']}) — {len(rows)} problems")
    for col in ("row", "field", "reason", "message"):
        table.add_column(col, justify="right" if col == "row" else "left")
    for r in rows:
        table.add_row(str(r["row_number"]), escape(r["field"] or ""), r["reason"], escape(r["message"]))
    out.print(table)


@app.command("demo-data")
def demo_data(
    ctx: typer.Context,
    out_dir: Path = typer.Option(..., "--out", help="Folder to write the feeds to."),
    start: str = typer.Option("2021-07-01", help="First day (YYYY-MM-DD)."),
    end: str = typer.Option("2021-10-31", help="Last day (YYYY-MM-DD)."),
    seed: int = typer.Option(2021, help="Random seed: the same seed gives the same files."),
    scale: float = typer.Option(1.0, help="Multiply the volumes (1 = a few hundred thousand rows)."),
    load_them: bool = typer.Option(False, "--load", help="Then ingest them, in dependency order."),
    as_json: bool = JSON,
) -> None:
    """Write SYNTHETIC feeds for the province's current areas: an outbreak, its tests, vaccinations, contacts."""
    import datetime as dt

    from gis.ingest.demo_data import DemoOptions, load_demo_feeds, write_demo_feeds
    from gis.ingest.errors import IngestError
    from gis.ingest.pseudonym import Pseudonymiser, load_secret

    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        raise IngestError(f"--start/--end must be dates like 2021-07-01 ({exc})") from exc
    context: AppContext = ctx.obj
    engine = context.engine
    summary = write_demo_feeds(engine, out_dir, DemoOptions(start=first, end=last, seed=seed, scale=scale))
    if load_them:
        summary = load_demo_feeds(engine, summary, Pseudonymiser(load_secret(context.settings)), context.ingest)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    for path, n in zip(summary.paths, summary.files.values(), strict=True):
        err.print(f"{n:>9,} rows  {path}")
    for b in summary.batches:
        err.print(f"{b.feed:>13}: batch {b.batch_id}, {b.accepted} new, {b.rejected} rejected ({b.seconds} s)")


@app.command()
def watch(
    ctx: typer.Context, once: bool = typer.Option(False, "--once", help="Run every feed's job once, then exit.")
) -> None:
    """Poll each feed's drop folder (and its URL, if it has one) on its schedule; one job at a time per feed."""
    from gis.scheduler import run_once, run_scheduler

    context: AppContext = ctx.obj
    if once:
        print(json.dumps(run_once(context).to_json(), ensure_ascii=False))
        return
    err.print(f"watching {context.ingest.drop_folder(context.settings.var_dir)} (Ctrl-C stops)")
    run_scheduler(context)
    sys.exit(0)
