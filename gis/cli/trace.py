"""`covidgis trace`: trace cases from QR check-ins, list a case's contacts, mark a contact notified (gis/trace/)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.context import AppContext
from gis.csvcell import cell
from gis.jobs import publish_after_trace
from gis.publish.snapshot import locations_digest
from gis.trace.engine import (
    CONTACT_COLUMNS,
    case_contacts,
    case_traced,
    mark_notified,
    trace_cases,
    unknown_cases,
)
from gis.trace.errors import TraceError
from gis.trace.rules import load_trace_rules

app = typer.Typer(
    help="Tracing from QR check-ins: each F0's visits, contacts and locations of interest.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)

RULESET = typer.Option(None, "--ruleset", help="Trace rule set id or YAML path (default COVIDGIS_TRACE_RULESET).")
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _known_case(context: AppContext, case: str) -> None:
    if unknown_cases(context.engine, [case]):
        raise TraceError(f"unknown case {case!r}: no case_id {case!r} in the cases feed (events.cases)")


@app.command()
def run(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(None, "--date", formats=["%Y-%m-%d"], help="The cases detected on this day."),
    case: str = typer.Option(None, "--case", help="One case (its case_id)."),
    ruleset: str = RULESET,
    as_json: bool = JSON,
) -> None:
    """Trace cases (those detected on --date, one --case, or every case): visits, contacts, locations of interest."""
    if date is not None and case is not None:
        raise TraceError("give --date or --case, not both")
    context: AppContext = ctx.obj
    rules = load_trace_rules(ruleset or context.trace.ruleset)
    if case is not None:
        _known_case(context, case)
    before = locations_digest(context.engine)
    summary = trace_cases(
        context.engine,
        rules,
        context.trace,
        cases=[case] if case is not None else None,
        day=date.date() if date is not None else None,
    )
    static = publish_after_trace(context, before, summary)  # the locations of interest changed: the folder again
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    out.print(
        f"{summary.ruleset}: {summary.cases} cases, {summary.visits} visits at {summary.venues} venues, "
        f"{summary.contacts} contacts, {summary.locations} locations of interest ({summary.seconds} s)"
    )
    if summary.skipped_retained:
        out.print(
            f"{summary.skipped_retained} traced cases skipped: retention dropped check-ins of their window "
            "(their stored visits and exposures are kept)"
        )
    if static is not None:
        out.print(f"static snapshot {static.snapshot_version} in {static.out} ({static.files} files)")


@app.command()
def contacts(
    ctx: typer.Context,
    case: str = typer.Option(..., "--case", help="The case (its case_id)."),
    ruleset: str = RULESET,
    as_json: bool = JSON,
    csv_file: Path = typer.Option(None, "--csv", help="Write the contacts to this CSV file (spreadsheet-safe)."),
) -> None:
    """The contact check-ins of a case: pseudonymised person keys only (match a register with the same keys)."""
    if as_json and csv_file is not None:
        raise TraceError("give --json or --csv FILE, not both")
    context: AppContext = ctx.obj
    rules = load_trace_rules(ruleset or context.trace.ruleset)
    _known_case(context, case)
    rows = case_contacts(context.engine, rules.id, case, context.trace)
    if csv_file is not None:
        with open(csv_file, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CONTACT_COLUMNS)
            writer.writerows([cell(r[c]) for c in CONTACT_COLUMNS] for r in rows)
        err.print(f"{len(rows)} contact check-ins of {escape(case)} written to {escape(str(csv_file))}")
        return
    if as_json:
        print(json.dumps([{**r, "checked_in_at": r["checked_in_at"].isoformat()} for r in rows], ensure_ascii=False))
        return
    if not rows and not case_traced(context.engine, rules.id, case):
        err.print(f"case {escape(case)} is not traced in {rules.id}: `covidgis trace run --case {escape(case)}`")
    table = Table(title=f"{escape(case)} ({rules.id}): {len(rows)} contact check-ins")
    for column in CONTACT_COLUMNS:
        table.add_column(column)
    for r in rows:
        table.add_row(*(escape(str(cell(r[c]))) for c in CONTACT_COLUMNS))
    out.print(table)


@app.command()
def mark(
    ctx: typer.Context,
    person: str = typer.Option(..., "--person", help="The contact's person key (as `trace contacts` lists it)."),
    by: str = typer.Option(None, "--by", help="Who notified them."),
    ruleset: str = RULESET,
    as_json: bool = JSON,
) -> None:
    """Record that a contact was notified (their status becomes `notified` until a stay or a case says more)."""
    context: AppContext = ctx.obj
    rules = load_trace_rules(ruleset or context.trace.ruleset)
    notified = mark_notified(context.engine, rules.id, person, by)
    if notified is None:
        raise TraceError(f"person key {person!r} is no contact in {rules.id}: `covidgis trace contacts --case ID`")
    if as_json:
        print(json.dumps(notified.to_json(), ensure_ascii=False))
        return
    out.print(f"{escape(person)} notified at {notified.notified_at.isoformat()}")


@app.command()
def proposals(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(..., "--date", formats=["%Y-%m-%d"], help="The day to propose for."),
    ruleset: str = RULESET,
    as_json: bool = JSON,
) -> None:
    """Propose narrow lockdowns for a day (hamlets with an exposure venue of many contacts, or many F0 residents);
    re-running replaces the day's proposals. Nothing is applied: `covidgis zones override --proposal ID` adopts one."""
    from gis.trace.proposals import propose

    context: AppContext = ctx.obj
    rules = load_trace_rules(ruleset or context.trace.ruleset)
    summary = propose(context.engine, rules, context.trace, date.date())
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    table = Table(
        title=f"{rules.id} — {date.date()}: {len(summary.proposals)} proposals ({summary.new} new, "
        f"{summary.changed} changed, {summary.withdrawn} withdrawn)"
    )
    for column in ("proposal", "area", "population", "contacts", "F0 residents", "lý do / reasons"):
        table.add_column(column)
    for p in summary.proposals:
        table.add_row(
            escape(p.proposal_id),
            escape(f"{p.area_code} {p.area_name or ''}"),
            str(p.population if p.population is not None else "?"),
            str(p.contacts),
            str(p.f0_residents),
            escape("\n".join(r["vi"] for r in p.reasons)),
        )
    out.print(table)


@app.command()
def retention(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="List the partitions that would be dropped; drop nothing."),
    as_json: bool = JSON,
) -> None:
    """Drop check-in day partitions older than COVIDGIS_TRACE_RETENTION_DAYS (default 21); derived rows stay."""
    from gis.trace.retention import drop_old_checkins, local_today

    context: AppContext = ctx.obj
    summary = drop_old_checkins(context.engine, context.trace, local_today(context.trace), dry_run=dry_run)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    verb = "would drop" if dry_run else "dropped"
    days = ", ".join(d.isoformat() for d in summary.dropped_days) or "none"
    out.print(
        f"check-ins kept {summary.retention_days} days (oldest kept {summary.oldest_kept}): {verb} "
        f"{len(summary.dropped)} partitions ({days}), {summary.kept} kept",
        highlight=False,
    )
