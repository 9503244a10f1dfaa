"""`covidgis hotline`: the 1022 hotline's requests from the command line (gis/hotline/open311.py).

`update` moves a request by the same function, and so the same transition rules, as the Open311 status route
(POST /open311/v2/requests/{id}/status); `list` shows requests as the public GETs do (no description, phone or
point). A refused move prints why and exits 2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.context import AppContext
from gis.errors import CovidGisError
from gis.hotline.open311 import MAX_LIMIT, OPEN_STATUSES, STATUSES, Open311Error, read_requests, update_status
from gis.summary import Summary

app = typer.Typer(help="The 1022 hotline (Open311): list requests, move their status.", no_args_is_help=True)
out = Console()
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


class HotlineRefused(CovidGisError):
    """A status change or look-up the hotline refused (unknown request or status, a move not allowed)."""


@dataclass
class HotlineRequests(Summary):
    """Requests of the 1022 hotline as the public GETs show them (`covidgis hotline list|update --json`)."""

    open_only: bool = False
    count: int = 0
    requests: list[dict] = field(default_factory=list)


def _table(title: str, requests: list[dict]) -> Table:
    table = Table(title=title)
    for column in ("id", "dịch vụ / service", "trạng thái / status", "ấp / hamlet", "xã / commune", "gửi / requested",
                   "người / persons"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for r in requests:
        table.add_row(
            r["service_request_id"], escape(r["service_code"]), r["status"], escape(r["hamlet_name"] or ""),
            escape(r["agency_responsible"] or r["commune_code"] or ""), r["requested_datetime"] or "",
            str(r["persons_affected"]),
        )  # fmt: skip
    return table


@app.command("list")
def list_(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only requests still open (not closed)."),
    limit: int = typer.Option(100, "--limit", min=1, max=MAX_LIMIT, help="At most this many, newest first."),
    as_json: bool = JSON,
) -> None:
    """Requests, newest first: service, status, hamlet, commune, times, persons affected."""
    context: AppContext = ctx.obj
    statuses = list(OPEN_STATUSES) if open_only else None
    found = read_requests(context.engine, statuses=statuses, limit=limit)
    summary = HotlineRequests(open_only, len(found), found)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    out.print(_table(f"{summary.count} yêu cầu / requests" + (" (đang mở / open)" if open_only else ""), found))


@app.command()
def update(
    ctx: typer.Context,
    request: int = typer.Argument(..., help="The request's id (service_request_id)."),
    status: str = typer.Option(..., "--status", help=f"The new status: {', '.join(STATUSES)}."),
    note: str = typer.Option(None, "--note", help="Why, or what was done (kept with the change)."),
    operator: str = typer.Option(
        None, "--operator", help="Who changes it (default: the login name running the command)."
    ),
    as_json: bool = JSON,
) -> None:
    """Move a request's status by the Open311 route's rules (open → assigned → in_progress → closed; closed →
    reopened); the change is kept with the operator and note."""
    context: AppContext = ctx.obj
    who = (operator or os.environ.get("USER") or "cli").strip()[:200] or "cli"
    try:
        stored = update_status(context.engine, request, status, who, note.strip() if note else None)
    except Open311Error as error:
        raise HotlineRefused(error.description) from None
    summary = HotlineRequests(False, 1, [stored])
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    out.print(
        f"yêu cầu / request {stored['service_request_id']}: {stored['status']} (by {escape(who)})", highlight=False
    )
