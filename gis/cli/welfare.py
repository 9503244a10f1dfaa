"""`covidgis welfare`: the programmes, who is eligible on a day, and recording a delivery (gis/welfare/)."""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.context import AppContext
from gis.welfare.coverage import refresh_coverage
from gis.welfare.ledger import Delivery, new_distribution_id, record_delivery, record_reversal
from gis.welfare.programmes import eligible as decide
from gis.welfare.programmes import load_programme, programme_listing
from gis.welfare.settings import WelfareSettings
from gis.welfare.unreached import unreached as not_reached

app = typer.Typer(
    help="Social welfare: programmes, eligibility, the delivery ledger without duplicates.", no_args_is_help=True
)
out = Console()
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
VERDICT = {True: "đủ điều kiện / eligible", False: "không / not eligible", None: "cần xác nhận / to confirm"}


def _at(value: str, settings: WelfareSettings) -> dt.datetime:
    """An ISO time; without an offset it is local time of the welfare time zone."""
    from zoneinfo import ZoneInfo

    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is no ISO time (2021-08-20T10:30, 2021-08-20T10:30+07:00)") from None
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(settings.timezone))


@app.command()
def programmes(as_json: bool = JSON) -> None:
    """The programmes (id, title, decision, period)."""
    listing = programme_listing()
    if as_json:
        print(json.dumps(listing.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"{len(listing.programmes)} chương trình / programmes")
    table.add_column("id", overflow="fold")
    for column in ("chương trình / programme", "văn bản / decision", "thời gian / period"):
        table.add_column(column)
    for p in listing.programmes:
        table.add_row(
            escape(p["id"]),
            escape(f"{p['title_vi']}\n{p['title_en']}"),
            escape(f"{p['decision']['number']} ({p['decision']['date']})"),
            f"{p['period']['from']} – {p['period']['to']}" + (" (open)" if p["period_status"] == "open" else ""),
        )
    out.print(table)


@app.command()
def eligible(
    ctx: typer.Context,
    programme: str = typer.Option(..., "--programme", help="Programme id (`covidgis welfare programmes`)."),
    date: dt.datetime = typer.Option(..., "--date", formats=["%Y-%m-%d"], help="The day."),
    commune: str = typer.Option(None, "--commune", help="Only the households of this commune (its code)."),
    as_json: bool = JSON,
) -> None:
    """Per household: eligible, not, or if an officer confirms a fact, with the reasons; and the counts."""
    context: AppContext = ctx.obj
    result = decide(context.engine, load_programme(programme), date.date(), commune)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    table = Table(
        title=f"{escape(result.programme)} — {result.day}: {result.eligible} eligible, {result.to_confirm} to "
        f"confirm, {result.not_eligible} not eligible" + ("" if result.open else " (programme not open)")
    )
    for column in ("hộ / household", "ấp / hamlet", "kết quả / verdict", "lý do / reasons"):
        table.add_column(column, overflow="fold")
    for h in result.households:
        reasons = [f"{'✓' if r['met'] else '✗' if r['met'] is False else '?'} {r['vi']}" for r in h["reasons"]]
        table.add_row(
            escape(h["household_id"]), escape(h["area_code"] or ""), VERDICT[h["eligible"]], escape("\n".join(reasons))
        )
    out.print(table)


@app.command()
def unreached(
    ctx: typer.Context,
    programme: str = typer.Option(..., "--programme", help="Programme id (`covidgis welfare programmes`)."),
    date: dt.datetime = typer.Option(..., "--date", formats=["%Y-%m-%d"], help="The day."),
    commune: str = typer.Option(None, "--commune", help="Only the households of this commune (its code)."),
    days: int = typer.Option(
        None, "--days", min=1, max=366, help="Reached within this many days (default COVIDGIS_WELFARE_UNREACHED_DAYS)."
    ),
    to_confirm: bool = typer.Option(False, "--to-confirm", help="Also list households an officer must confirm."),
    as_json: bool = JSON,
) -> None:
    """Eligible households not reached: no delivery of the programme within N days (or in its dedup period), highest
    zone level first, then the most vulnerable."""
    context: AppContext = ctx.obj
    window = days if days is not None else context.welfare.unreached_days
    result = not_reached(context.engine, load_programme(programme), date.date(), window, commune, to_confirm)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    table = Table(
        title=f"{escape(result.programme)} — {result.day}: {result.unreached} hộ chưa được hỗ trợ trong {window} ngày "
        f"/ households not reached within {window} days" + ("" if result.open else " (programme not open)")
    )
    for column in ("hộ / household", "ấp / hamlet", "cấp độ / zone level", "kết quả / verdict", "diện / flags"):
        table.add_column(column, overflow="fold")
    for h in result.households:
        table.add_row(
            escape(h["household_id"]),
            escape(h["area_code"] or ""),
            "" if h["zone_level"] is None else str(h["zone_level"]),
            VERDICT[h["eligible"]],
            escape(", ".join(h["flags"])),
        )
    out.print(table)


@app.command()
def coverage(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(..., "--date", formats=["%Y-%m-%d"], help="The day counted."),
    programme: list[str] = typer.Option(None, "--programme", help="Only these programmes (default: every one)."),
    days: int = typer.Option(
        None, "--days", min=1, max=366, help="Reached within this many days (default COVIDGIS_WELFARE_UNREACHED_DAYS)."
    ),
    as_json: bool = JSON,
) -> None:
    """Count coverage per hamlet and programme (eligible, reached, delivered, cash) into welfare.coverage, which the
    public layer welfare-coverage shows with small counts suppressed. The totals printed are exact (not public)."""
    context: AppContext = ctx.obj
    window = days if days is not None else context.welfare.unreached_days
    chosen = [load_programme(p) for p in programme] if programme else None
    summary = refresh_coverage(context.engine, date.date(), window, chosen)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"độ bao phủ / coverage on {summary.day} ({window} days)")
    for column in ("chương trình / programme", "ngày / day", "ấp / hamlets", "đủ ĐK / eligible", "đã nhận / reached",
                   "đã chi / delivered", "VND"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for p in summary.programmes:
        table.add_row(
            escape(p["programme"]), str(p["day"]), str(p["hamlets"]), f"{p['eligible']:,}", f"{p['reached']:,}",
            f"{p['delivered']:,}", f"{p['value_vnd']:,}",
        )  # fmt: skip
    out.print(table)
    if summary.skipped:
        out.print(f"not begun or not open on {summary.day}: {escape(', '.join(summary.skipped))}", highlight=False)


@app.command()
def record(
    ctx: typer.Context,
    programme: str = typer.Option(None, "--programme", help="Programme id."),
    household: str = typer.Option(None, "--household", help="Household id (households feed)."),
    officer: str = typer.Option(..., "--officer", help="The officer who hands it over."),
    at: str = typer.Option(None, "--at", help="When (ISO; local time when no offset; default now)."),
    amount: int = typer.Option(None, "--amount", help="Cash in VND."),
    kit: str = typer.Option(None, "--kit", help="Kit id (kit programmes)."),
    warehouse: str = typer.Option(None, "--warehouse", help="Warehouse the kit comes from."),
    receipt: str = typer.Option(None, "--receipt", help="Receipt code given to the household."),
    lon: float = typer.Option(None, "--lon"),
    lat: float = typer.Option(None, "--lat"),
    distribution_id: str = typer.Option(None, "--id", help="Distribution id (default: a new one)."),
    reverses: str = typer.Option(None, "--reverses", help="Record a reversal of this distribution id instead."),
    reason: str = typer.Option(None, "--reason", help="Why (required with --reverses)."),
    as_json: bool = JSON,
) -> None:
    """Record one delivery (or, with --reverses, a reversing entry); a refusal prints why and exits 2."""
    context: AppContext = ctx.obj
    settings = context.welfare
    when = _at(at, settings) if at else dt.datetime.now(dt.UTC)
    if reverses is not None:
        stored = record_reversal(
            context.engine, reverses, officer, reason or "", when, settings, reversal_id=distribution_id
        )
    else:
        if programme is None or household is None:
            raise typer.BadParameter("a delivery needs --programme and --household")
        p = load_programme(programme)
        stored = record_delivery(
            context.engine,
            p,
            Delivery(
                distribution_id=distribution_id or new_distribution_id(),
                programme=p.id,
                household_id=household,
                at=when,
                officer=officer,
                amount_vnd=amount,
                kit=kit,
                warehouse_id=warehouse,
                receipt_code=receipt,
                lon=lon,
                lat=lat,
            ),
            settings,
        )
    if as_json:
        print(json.dumps(stored.to_json(), ensure_ascii=False))
        return
    what = f"{stored.amount_vnd:,} VND" if stored.amount_vnd is not None else f"kit {stored.kit}"
    out.print(
        f"{'reversal' if stored.kind == 'reversal' else 'recorded'} {escape(stored.distribution_id)}: "
        f"{escape(stored.programme)}, household {escape(stored.household_id)} ({escape(stored.commune_code or '')}), "
        f"{escape(what)}, {stored.day}, officer {escape(stored.officer)}",
        highlight=False,
    )
