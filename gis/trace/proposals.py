"""Proposals of a narrow lockdown (issue 12, item 7): per day, the hamlets the trace says to consider closing.

A hamlet is proposed for a day when it holds an exposure venue (the venue's hamlet) whose F0 visits that day exposed
at least the rule set's `lockdown_min_contacts` distinct contacts, or when at least `lockdown_min_f0_residents` F0
living there (events.cases.area_code) were infectious that day (their traced window covers part of it). Each proposal
carries the hamlet's population and its reasons, in Vietnamese and English, citing the rule-set parameter, its value
and status. Re-running a day replaces its proposals: one no longer supported is withdrawn (never deleted: the
committee may have adopted it with `covidgis zones override --proposal ID`). Nothing is applied automatically.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from gis.levels import AdminLevel
from gis.sqlfiles import load
from gis.summary import Summary
from gis.trace.rules import TraceRules
from gis.trace.settings import TraceSettings

SQL = load(Path(__file__).parent / "sql" / "proposals.sql")

STATUS_TEXT = {
    "confirmed": ("đã xác nhận", "confirmed"),
    "open": ("ngưỡng vận hành địa phương, chưa có văn bản xác nhận", "local operating choice, not confirmed"),
}


@dataclass
class Proposal(Summary):
    """One proposal as stored (trace.proposal, with the hamlet's name)."""

    proposal_id: str
    ruleset_id: str
    day: dt.date
    area_code: str
    area_name: str | None
    admin_level: int
    population: int | None
    contacts: int
    f0_residents: int
    venues: list[str]
    cases: list[str]
    reasons: list[dict[str, Any]]
    created_at: dt.datetime
    updated_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass
class ProposalSummary(Summary):
    """What a proposal run did for its days: proposals new, changed, unchanged and withdrawn, and those standing."""

    ruleset: str
    days: list[dt.date]
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    seconds: float = 0.0
    proposals: list[Proposal] = field(default_factory=list)


def proposal_id(day: dt.date, area_code: str, ruleset_id: str) -> str:
    """The stable id of a hamlet's proposal for a day: a re-run updates the same row."""
    return f"P-{day.isoformat()}-{area_code}-{ruleset_id}"


def propose(engine: Engine, rules: TraceRules, settings: TraceSettings, day: dt.date) -> ProposalSummary:
    """The proposals of one day, recomputed from the stored trace (see the module's docstring)."""
    return propose_days(engine, rules, settings, [day])


def propose_days(engine: Engine, rules: TraceRules, settings: TraceSettings, days: list[dt.date]) -> ProposalSummary:
    """The proposals of these days, recomputed in one transaction; the summary lists those standing."""
    started = time.perf_counter()
    days = sorted(set(days))
    summary = ProposalSummary(rules.id, days)
    if not days:
        return summary
    with engine.begin() as conn:
        p = {"ruleset": rules.id, "tz": settings.timezone, "days": days}
        conn.exec_driver_sql(SQL["lock"], p)
        rows = _candidates(conn, rules, p)
        for row in rows:
            inserted, changed = conn.exec_driver_sql(SQL["upsert"], {**row, "ruleset": rules.id}).one()
            if inserted:
                summary.new += 1
            elif changed:
                summary.changed += 1
            else:
                summary.unchanged += 1
        kept = [r["proposal_id"] for r in rows]
        summary.withdrawn = conn.exec_driver_sql(SQL["withdraw"], {**p, "kept": kept}).rowcount
        for day in days:
            summary.proposals += _list(conn, rules.id, day, withdrawn=False)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def proposals_of_day(engine: Engine, ruleset_id: str, day: dt.date, withdrawn: bool = False) -> list[Proposal]:
    """The stored proposals of a day (standing first; withdrawn ones too when asked)."""
    with engine.connect() as conn:
        return _list(conn, ruleset_id, day, withdrawn)


def days_touched_by_batch(
    engine: Engine, table: str, batch_id: int, rules: TraceRules, settings: TraceSettings
) -> list[dt.date]:
    """The days whose proposals an ingest batch can change: a cases batch's infectious days (current and previous
    detection dates, and the days of proposals citing its cases); a check-ins batch's local days and the day before
    each; a venues batch's days of locations at its venues. Other tables change none."""
    statement = {"cases": "batch_days_cases", "checkins": "batch_days_checkins", "venues": "batch_days_venues"}
    if table not in statement:
        return []
    params = {"batch": batch_id, "ruleset": rules.id, "tz": settings.timezone, "before_days": rules.window_before_days}
    with engine.connect() as conn:
        return sorted(conn.exec_driver_sql(SQL[statement[table]], params).scalars())


def _list(conn: Connection, ruleset_id: str, day: dt.date, withdrawn: bool) -> list[Proposal]:
    rows = conn.exec_driver_sql(SQL["list"], {"ruleset": ruleset_id, "day": day, "withdrawn": withdrawn}).mappings()
    return [Proposal(**row) for row in rows]


def _candidates(conn: Connection, rules: TraceRules, p: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows to store: one per (day, hamlet) meeting either threshold, with its reasons."""
    min_contacts, min_f0 = rules.lockdown_min_contacts, rules.lockdown_min_f0_residents
    venues: dict[tuple[dt.date, str], list[dict[str, Any]]] = defaultdict(list)
    for v in conn.exec_driver_sql(SQL["venue_days"], p).mappings():
        venues[(v["day"], v["area_code"])].append(dict(v))
    residents = {(r["day"], r["area_code"]): r for r in conn.exec_driver_sql(SQL["residents"], p).mappings()}
    rows = []
    for key in sorted(set(venues) | set(residents)):
        day, area = key
        hot = [v for v in venues.get(key, []) if v["contacts"] >= min_contacts]
        resident = residents.get(key)
        f0 = resident["f0"] if resident else 0
        if not hot and f0 < min_f0:
            continue
        cases = set(resident["cases"] if resident and f0 >= min_f0 else [])
        for venue in hot:
            cases.update(venue["cases"])
        persons = {person for venue in venues.get(key, []) for person in venue["persons"]}
        reasons = [_venue_reason(rules, day, v) for v in hot]
        if f0 >= min_f0:
            reasons.append(_resident_reason(rules, day, f0))
        rows.append(
            {
                "proposal_id": proposal_id(day, area, rules.id),
                "day": day,
                "area_code": area,
                "contacts": len(persons),
                "f0_residents": f0,
                "venues": [v["venue_id"] for v in hot],
                "cases": sorted(cases),
                "reasons": json.dumps(reasons, ensure_ascii=False),
            }
        )
    _add_areas(conn, rows)
    return rows


def _add_areas(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Each row's admin level and population from the boundaries valid on its day (a hamlet the boundaries do not
    know: level hamlet, population unknown)."""
    by_day: dict[dt.date, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_day[row["day"]].append(row)
    for day, day_rows in by_day.items():
        codes = sorted({r["area_code"] for r in day_rows})
        areas = {a["area_code"]: a for a in conn.exec_driver_sql(SQL["areas"], {"codes": codes, "day": day}).mappings()}
        for row in day_rows:
            area = areas.get(row["area_code"])
            row["admin_level"] = area["admin_level"] if area else int(AdminLevel.hamlet)
            row["population"] = area["population"] if area else None


def _cite(rules: TraceRules, name: str) -> dict[str, Any]:
    parameter = rules.parameters[name]
    return {"parameter": name, "threshold": parameter.value, "status": parameter.status, "source": parameter.source}


def _venue_reason(rules: TraceRules, day: dt.date, venue: dict[str, Any]) -> dict[str, Any]:
    cite = _cite(rules, "lockdown_min_contacts")
    status_vi, status_en = STATUS_TEXT[cite["status"]]
    name = venue["venue_name"] or venue["venue_id"]
    return {
        "criterion": "venue_contacts",
        **cite,
        "value": venue["contacts"],
        "venue_id": venue["venue_id"],
        "venue_kind": venue["venue_kind"],
        "vi": (
            f"Địa điểm phơi nhiễm “{name}” có {venue['contacts']} người tiếp xúc với F0 ngày {day:%d/%m/%Y} "
            f"(≥ {cite['threshold']}: tham số lockdown_min_contacts của bộ quy tắc {rules.id}; {status_vi})"
        ),
        "en": (
            f"Exposure venue “{name}” had {venue['contacts']} contacts of F0 on {day.isoformat()} "
            f"(≥ {cite['threshold']}: parameter lockdown_min_contacts of rule set {rules.id}; {status_en})"
        ),
    }


def _resident_reason(rules: TraceRules, day: dt.date, f0: int) -> dict[str, Any]:
    cite = _cite(rules, "lockdown_min_f0_residents")
    status_vi, status_en = STATUS_TEXT[cite["status"]]
    return {
        "criterion": "f0_residents",
        **cite,
        "value": f0,
        "vi": (
            f"{f0} F0 cư trú tại ấp/khu phố trong thời gian có thể lây nhiễm ngày {day:%d/%m/%Y} "
            f"(≥ {cite['threshold']}: tham số lockdown_min_f0_residents của bộ quy tắc {rules.id}; {status_vi})"
        ),
        "en": (
            f"{f0} F0 living in the hamlet were infectious on {day.isoformat()} "
            f"(≥ {cite['threshold']}: parameter lockdown_min_f0_residents of rule set {rules.id}; {status_en})"
        ),
    }
