"""`covidgis care`: occupancy as the replay of admissions, and the clinical rule set's classes (gis/care/)."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gis.care.capacity import DEFAULT_CAPACITY_RULESET, compute_capacity
from gis.care.errors import CareError
from gis.care.f1rules import load_f1_rules
from gis.care.logistics import DEFAULT_DAYS, DEFAULT_LOGISTICS_RULESET, forecast
from gis.care.occupancy import end_of_day, occupancy
from gis.care.quarantine import refresh_orders
from gis.care.rules import DEFAULT_CLINICAL_RULESET, listing, load_clinical_rules
from gis.care.transfers import accept, request_transfer, transfers
from gis.context import AppContext
from gis.ingest.feeds import load_feed

app = typer.Typer(
    help="Quarantine and treatment: occupancy replayed from admissions; clinical warning rules.", no_args_is_help=True
)
out = Console()

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
OPS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥", "eq": "=", "between": "∈"}


def _cell(value: object) -> str:
    return "" if value is None else escape(str(value))


@app.command("occupancy")
def occupancy_command(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(
        None, "--date", formats=["%Y-%m-%d"], help="Occupancy at the end of this local day (default: now)."
    ),
    facility: str = typer.Option(None, "--facility", help="One facility (its facility_id)."),
    as_json: bool = JSON,
) -> None:
    """Beds, staffed beds, occupied and free per room, facility, tier and commune — replayed from admissions."""
    context: AppContext = ctx.obj
    timezone = load_feed("admissions", context.ingest.feeds_dir).timezone  # the feed's local days
    day = date.date() if date is not None else None
    result = occupancy(context.engine, at=end_of_day(day, timezone) if day else None, facility=facility, day=day)
    if facility is not None and not result.facilities:
        raise CareError(f"unknown facility {facility!r}: no room (rooms feed) and no stay (admissions feed) of it")
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    when = f"cuối ngày {day:%d/%m/%Y} (end of day)" if day else "hiện tại (live)"
    table = Table(title=f"Công suất cơ sở — facility occupancy, {when}")
    columns = ("facility_id", "name", "tier", "beds", "staffed_beds", "occupied", "free_staffed_beds")
    for c in [*columns, "reported_occupied"]:
        table.add_column(c)
    for f in result.facilities:
        table.add_row(*(_cell(f[c]) for c in [*columns, "reported_occupied"]))
    out.print(table)
    tiers = Table(title="Theo tầng — by tier")
    for c in ("kind", "tier", "facilities", "beds", "staffed_beds", "occupied", "free_staffed_beds"):
        tiers.add_column(c)
    for t in result.tiers:
        tiers.add_row(
            *(_cell(t[c]) for c in ("kind", "tier", "facilities", "beds", "staffed_beds", "occupied")),
            _cell(t["free_staffed_beds"]),
        )
    out.print(tiers)
    for finding in result.findings:
        detail = ", ".join(f"{k} {v}" for k, v in finding.items() if k != "finding")
        out.print(f"[yellow]{escape(finding['finding'])}[/]: {escape(detail)}")


@app.command("capacity")
def capacity_command(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(..., "--date", formats=["%Y-%m-%d"], help="Beds at the end of this local day."),
    ruleset: str = typer.Option(DEFAULT_CAPACITY_RULESET, "--ruleset", help="Capacity rule file id or YAML path."),
    as_json: bool = JSON,
) -> None:
    """Criterion 3 (Decision 4800) per province and district, stored in care.capacity: verdict, failing parts."""
    context: AppContext = ctx.obj
    timezone = load_feed("admissions", context.ingest.feeds_dir).timezone  # the feed's local days
    result = compute_capacity(context.engine, date.date(), timezone, ruleset=ruleset)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"Tiêu chí 3 — criterion 3, cuối ngày {result.day:%d/%m/%Y} (end of day)")
    for c in ("area_code", "admin_level", "met", "failing"):
        table.add_column(c)
    for a in result.areas:
        verdict = "đạt (met)" if a["met"] else "không đạt (not met)"
        table.add_row(_cell(a["area_code"]), _cell(a["admin_level"]), verdict, _cell(", ".join(a["failing"])))
    out.print(table)
    for a in result.areas:
        for c in a["criteria"]:
            if c["verdict"] == "not_met":
                out.print(f"[yellow]{escape(a['area_code'])} {escape(c['id'])}[/]: {escape(c['reason_vi'])}")
                out.print(f"  {escape(c['reason_en'])}")


@app.command("logistics")
def logistics_command(
    ctx: typer.Context,
    date: dt.datetime = typer.Option(
        ..., "--date", formats=["%Y-%m-%d"], help="People at the end of this local day, held flat after it."
    ),
    days: int = typer.Option(DEFAULT_DAYS, "--days", help="Days forecast after --date (1-90)."),
    facility: str = typer.Option(None, "--facility", help="One facility (its facility_id)."),
    ruleset: str = typer.Option(DEFAULT_LOGISTICS_RULESET, "--ruleset", help="Capacity rule file id or YAML path."),
    as_json: bool = JSON,
) -> None:
    """Meals, their cost, waste and staff per bed for the next days, against the active contracts and teams."""
    context: AppContext = ctx.obj
    timezone = load_feed("admissions", context.ingest.feeds_dir).timezone  # the feed's local days
    result = forecast(context.engine, date.date(), timezone, days=days, facility=facility, ruleset=ruleset)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    out.print(escape(f"{result.assumption['vi']} — {result.assumption['en']}"))
    table = Table(title=f"Dự báo hậu cần — logistics forecast {result.first_day:%d/%m/%Y}–{result.last_day:%d/%m/%Y}")
    columns = ("people", "meals_needed", "meals_contracted", "cost_vnd", "waste_kg", "waste_contracted_kg")
    for c in ("facility_id", "day", *columns, "headcount", "staff_per_bed"):
        table.add_column(c)
    for f in result.facilities:
        for d in f["forecast"]:
            table.add_row(
                _cell(f["facility_id"]), f"{d['day']:%d/%m}", *(_cell(d[c]) for c in columns),
                _cell(d["headcount"]), _cell(d["staff_per_bed"]),
            )  # fmt: skip
    out.print(table)
    for rule in result.rules.values():
        out.print(escape(f"{rule['key']} = {rule['value']} ({rule['status']})"))
    for a in result.alerts:
        out.print(f"[yellow]{escape(a['alert'])}[/] {escape(a['facility_id'])}: {escape(a['reason_vi'])}")
        out.print(f"  {escape(a['reason_en'])}")


@app.command("f1-orders")
def f1_orders_command(
    ctx: typer.Context,
    day: dt.datetime = typer.Option(
        None, "--day", formats=["%Y-%m-%d"], help="Follow-up status on this local day (default: today)."
    ),
    as_json: bool = JSON,
) -> None:
    """F1 quarantine orders re-derived from stays and contacts: end by the dated rule, follow-up, turned F0."""
    context: AppContext = ctx.obj
    timezone = load_feed("quarantine", context.ingest.feeds_dir).timezone  # the feed's local days
    on = day.date() if day is not None else dt.datetime.now(ZoneInfo(timezone)).date()
    result = refresh_orders(context.engine, context.care, load_f1_rules(context.care.f1_ruleset), on, timezone)
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    table = Table(
        title=f"Lệnh cách ly F1 — F1 quarantine orders, ngày {result.day:%d/%m/%Y} ({escape(result.ruleset)})"
    )
    columns = ("orders", "active", "completed", "became_f0", "overdue", "lost", "without_rule")
    for c in (*columns, "under_follow_up_share", "lost_share", "transfers_requested"):
        table.add_column(c)
    table.add_row(
        *(_cell(getattr(result, c)) for c in (*columns, "under_follow_up_share", "lost_share", "transfers_requested"))
    )
    out.print(table)
    listed = Table(title="Cần xử lý — to act on (F1 chuyển F0, mất theo dõi, quá hạn xét nghiệm)")
    shown = ("order_id", "person_key", "place", "facility_id", "start_on", "end_on", "status")
    for c in (*shown, "missed_days", "transfer_request_id"):
        listed.add_column(c)
    for o in result.attention:
        missed = ", ".join(f"{d:%d/%m}" for d in o["missed_days"])
        listed.add_row(*(_cell(o[c]) for c in shown), escape(missed), _cell(o["transfer_request_id"]))
    out.print(listed)
    out.print(
        f"Ân hạn xét nghiệm {result.grace_days} ngày, mất theo dõi sau {result.lost_after_missed} lần bỏ lỡ liên tiếp "
        f"(tham số của tỉnh, không từ văn bản) — test grace {result.grace_days} days, lost after "
        f"{result.lost_after_missed} consecutive missed test days (provincial parameters, not from a decision)"
    )


@app.command("rules")
def rules_command(
    ruleset: str = typer.Option(DEFAULT_CLINICAL_RULESET, "--ruleset", help="Clinical rule set id or YAML path."),
    as_json: bool = JSON,
) -> None:
    """The severity classes in the order they are tried, their thresholds, required tier and citations."""
    summary = listing(load_clinical_rules(ruleset))
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"{escape(summary.title_vi)} — {escape(summary.title_en)} ({escape(summary.version)})")
    for c in ("class", "tier", "thresholds", "status", "source"):
        table.add_column(c)
    for cls in summary.classes:
        thresholds = (" or " if cls["match"] == "any" else " and ").join(
            f"{c['vital']} {OPS[c['op']]} {c['value']}{c['unit'] and ' ' + c['unit']}" for c in cls["criteria"]
        ) or (f"assessed by {cls['assessed_by']}" if cls["assessed_by"] else "")
        sources = sorted(
            {c["citation"]["number"] if "number" in c["citation"] else c["citation"]["title"] for c in cls["criteria"]}
        )
        statuses = sorted({c["status"] for c in cls["criteria"]} | ({cls["status"]} if cls["status"] else set()))
        table.add_row(
            escape(f"{cls['label_vi']} ({cls['label_en']})"),
            str(cls["required_tier"]),
            escape(thresholds),
            escape(", ".join(statuses)),
            escape("; ".join(sources)),
        )
    out.print(table)


@app.command("transfers")
def transfers_command(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only open and accepted requests."),
    as_json: bool = JSON,
) -> None:
    """Transfer requests (opened by observations batches), the offers of the open ones, and KPIs by tier."""
    context: AppContext = ctx.obj
    summary = transfers(context.engine, context.care, open_only=open_only)
    if as_json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    table = Table(title="Yêu cầu chuyển tầng — transfer requests")
    for c in ("request_id", "status", "from_facility", "required_tier", "reason", "to_facility", "offers"):
        table.add_column(c)
    for r in summary.requests:
        offered = ", ".join(
            f"{o['facility_id']} ({o['free_staffed_beds']}, {o['distance_km']} km)" for o in r.get("offers", [])
        )
        table.add_row(
            *(_cell(r[c]) for c in ("request_id", "status", "from_facility", "required_tier", "reason", "to_facility")),
            escape(offered),
        )
    out.print(table)
    kpis = Table(title="Chỉ số theo tầng — KPIs by tier")
    for c in ("required_tier", "requests", "placed", "share_placed", "median_minutes_to_placement"):
        kpis.add_column(c)
    for k in summary.kpis:
        kpis.add_row(
            *(
                _cell(k[c])
                for c in ("required_tier", "requests", "placed", "share_placed", "median_minutes_to_placement")
            )
        )
    out.print(kpis)


@app.command("accept")
def accept_command(
    ctx: typer.Context,
    request: int = typer.Argument(..., help="The transfer request's id (covidgis care transfers)."),
    facility: str = typer.Option(..., "--facility", help="The receiving facility (its facility_id)."),
    by: str = typer.Option("cli", "--by", help="Who accepts (recorded as accepted_by)."),
    as_json: bool = JSON,
) -> None:
    """Accept a transfer request to a facility with a free staffed bed (refused with a reason otherwise)."""
    context: AppContext = ctx.obj
    done = accept(context.engine, context.care, request, facility, by)
    if as_json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
        return
    out.print(f"Đã nhận yêu cầu {done.request_id} tại {escape(facility)} — accepted ({done.distance_km} km)")


@app.command("request")
def request_command(
    ctx: typer.Context,
    person: str = typer.Argument(..., help="The person's pseudonymous key (person_key, as the transfers show it)."),
    tier: int = typer.Option(..., "--tier", help="The tier the person needs (1-3)."),
    reason: str = typer.Option(..., "--reason", help="Why (kept, at most 500 characters)."),
    by: str = typer.Option("cli", "--by", help="Who asks (recorded as requested_by)."),
    as_json: bool = JSON,
) -> None:
    """Open a transfer request for a person under care now, from their place (refused with a reason otherwise)."""
    context: AppContext = ctx.obj
    done = request_transfer(context.engine, person, tier, reason, by)
    if as_json:
        print(json.dumps(done.to_json(), ensure_ascii=False))
        return
    out.print(
        f"Đã mở yêu cầu {done.request_id}: {escape(done.from_facility)} (tầng {done.from_tier}) → tầng "
        f"{done.required_tier} — request opened"
    )
