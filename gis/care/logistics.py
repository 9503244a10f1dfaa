"""Logistics forecasts per facility: people, meals, their cost, waste and staff per bed for the next N days from a
day D, set against the facility's active meal and waste contracts and support teams (issue 13 item 7).

People expected are the occupancy at the end of D by the replay of admissions (gis/care/occupancy.py) HELD FLAT
over the N days: no admission, discharge or transfer is forecast. Every figure is that number of people times a
value of the capacity rule file's `logistics:` section (gis/care/rulesets/vn-4800-capacity-2021.yml), and the
output names the key of each value it used, with its status and citation. The registries (migration 0024, feeds
support_teams, meal_contracts, waste_contracts) are read by sql/logistics.sql, active per day.

Alerts, each with a reason in Vietnamese and English: a facility holding people with no active meal contract,
waste contract or support team on a forecast day; meals or waste kilograms needed above the active contracts'
meals_per_day or kg_per_day; staff per staffed bed below `logistics.staff_per_bed` when the province has set it
(the file ships it null: no text read states a ratio, so no staffing alert is raised until it is set).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt
from sqlalchemy import Engine

from gis.care.errors import CareError
from gis.care.occupancy import end_of_day, occupancy
from gis.citations import Instrument
from gis.rulefiles import parse_rule_file, rule_file
from gis.sqlfiles import load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "logistics.sql")
CAPACITY_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_LOGISTICS_RULESET = "vn-4800-capacity-2021"
DEFAULT_DAYS = 3  # issue 13 item 7: "the next 3 days' forecast"
MAX_DAYS = 90  # a forecast held flat says little beyond a few weeks; a bound on the input, not a rule
PEOPLE_HELD_FLAT = {
    "vi": "Số người dự kiến = số người đang ở cơ sở cuối ngày {day} (tính lại từ sổ tiếp nhận), giữ nguyên trong "
    "{days} ngày tới: không dự báo tiếp nhận, ra viện hay chuyển viện.",
    "en": "People expected = the people at the facility at the end of {day} (replayed from admissions), held flat "
    "for the next {days} days: no admission, discharge or transfer is forecast.",
}

# The figures and the rule-file key each rests on (what every forecast day cites).
CITES = {
    "people": "occupancy replay (gis/care/occupancy.py), held flat",
    "meals_needed": "logistics.meals_per_person_day",
    "cost_vnd": "logistics.meal_price_vnd_per_person_day",
    "waste_kg": "logistics.waste_kg_per_person_day",
    "staff_per_bed": "support_teams headcount / staffed beds (logistics.staff_per_bed is the norm)",
}


class InvalidLogisticsRules(CareError):
    """The capacity rule file's logistics section does not validate; the message names the file and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogisticsValue(_Model):
    """One cited default of `logistics:` (a number, a mapping of numbers, or null: not found, the province sets it)."""

    value: StrictInt | StrictFloat | dict[str, StrictInt | StrictFloat] | None
    source: str
    article: str = Field(min_length=1)
    status: str = Field(pattern="^(confirmed|open)$")
    official: bool = True
    note: str = ""


class UndatedSource(_Model):
    title: str = Field(min_length=1)
    issuer: str = ""
    url: str = ""
    note: str = ""


class LogisticsDefaults(_Model):
    meals_per_person_day: LogisticsValue
    meal_price_vnd_per_person_day: LogisticsValue
    essentials_vnd_per_person_day: LogisticsValue
    waste_kg_per_person_day: LogisticsValue
    covid_waste_kg_per_bed_day: LogisticsValue
    staff_per_bed: LogisticsValue


class LogisticsRuleFile(BaseModel):
    """The parts of the capacity rule file the forecast reads (criterion 3's parts are gis/care/capacity.py's)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    version: str
    instruments: dict[str, Instrument]
    undated_sources: dict[str, UndatedSource] = Field(default_factory=dict)
    logistics: LogisticsDefaults

    def cited(self, key: str) -> dict[str, Any]:
        """A logistics value as the output cites it: its rule-file key, value, status and the text it rests on."""
        v: LogisticsValue = getattr(self.logistics, key)
        if v.source in self.instruments:
            citation = {**self.instruments[v.source].model_dump(mode="json"), "article": v.article}
        elif v.source in self.undated_sources:
            citation = {**self.undated_sources[v.source].model_dump(mode="json"), "article": v.article, "undated": True}
        else:
            raise InvalidLogisticsRules(f"{self.id}: logistics.{key}.source: unknown source {v.source!r}")
        return {
            "key": f"logistics.{key}",
            "value": v.value,
            "status": v.status,
            "official": v.official,
            "note": v.note,
            "citation": citation,
        }


def load_logistics_rules(ref: str = DEFAULT_LOGISTICS_RULESET) -> LogisticsRuleFile:
    """The capacity rule file by id (shipped) or YAML path, its logistics section validated."""
    shipped = sorted(p.stem for p in CAPACITY_RULESET_DIR.glob("vn-4800-capacity-*.yml"))
    path = rule_file(
        ref,
        CAPACITY_RULESET_DIR,
        shipped,
        CareError(f"unknown capacity rule file {ref!r}; shipped: {', '.join(shipped)} (or give a path to a .yml file)"),
    )
    rules = parse_rule_file(path, LogisticsRuleFile, InvalidLogisticsRules)
    for key in ("meals_per_person_day", "meal_price_vnd_per_person_day", "waste_kg_per_person_day"):
        value = getattr(rules.logistics, key).value
        if not isinstance(value, int | float) or value < 0:
            raise InvalidLogisticsRules(f"{path}: logistics.{key}.value: a number ≥ 0 is needed, not {value!r}")
    rules.cited("staff_per_bed")  # its source must exist too
    return rules


@dataclass
class Forecast(Summary):
    """The logistics forecast of facilities for the days after `date`, its rules and its alerts."""

    date: dt.date
    days: int
    first_day: dt.date
    last_day: dt.date
    facility: str | None
    people_as_of: dt.datetime  # the end of `date`: the replayed occupancy held flat
    assumption: dict[str, str]
    ruleset: str
    rules: dict[str, dict[str, Any]]
    cites: dict[str, str]
    facilities: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def forecast(
    engine: Engine,
    day: dt.date,
    timezone: str,
    days: int = DEFAULT_DAYS,
    facility: str | None = None,
    ruleset: str = DEFAULT_LOGISTICS_RULESET,
) -> Forecast:
    """The forecast of every facility (or one) for days day+1 .. day+days, people held flat at the end of `day`."""
    if not 1 <= days <= MAX_DAYS:
        raise CareError(f"--days must be 1 to {MAX_DAYS}, not {days}")
    rules = load_logistics_rules(ruleset)
    started = time.perf_counter()
    at = end_of_day(day, timezone)
    occ = occupancy(engine, at=at, facility=facility, day=day)
    first, last = day + dt.timedelta(days=1), day + dt.timedelta(days=days)
    params = {"first": first, "last": last, "facility": facility}
    with engine.connect() as conn:
        teams = _by_day(conn, SQL["teams"], params)
        meals = _by_day(conn, SQL["meals"], params)
        waste = _by_day(conn, SQL["waste"], params)
        registered = [dict(r) for r in conn.exec_driver_sql(SQL["registered"], params).mappings()]
    if facility is not None and not occ.facilities and not registered:
        raise CareError(
            f"unknown facility {facility!r}: no room, stay, support team or contract of it (rooms, admissions, "
            "support_teams, meal_contracts, waste_contracts feeds)"
        )
    keys = ("meals_per_person_day", "meal_price_vnd_per_person_day", "waste_kg_per_person_day", "staff_per_bed")
    cited = {k: rules.cited(k) for k in keys}
    places = {f["facility_id"]: f for f in occ.facilities}
    for r in registered:
        places.setdefault(r["facility_id"], {**r, "occupied": 0, "staffed_beds": None})
    result = Forecast(
        date=day,
        days=days,
        first_day=first,
        last_day=last,
        facility=facility,
        people_as_of=at,
        assumption={k: v.format(day=f"{day:%d/%m/%Y}", days=days) for k, v in PEOPLE_HELD_FLAT.items()},
        ruleset=f"{rules.id} ({rules.version})",
        rules=cited,
        cites=CITES,
    )
    forecast_days = [first + dt.timedelta(days=i) for i in range(days)]
    for facility_id in sorted(places):
        place = places[facility_id]
        rows = [
            _day(
                rules,
                place,
                d,
                teams.get((facility_id, d)),
                meals.get((facility_id, d)),
                waste.get((facility_id, d)),
            )
            for d in forecast_days
        ]
        result.facilities.append(
            {
                "facility_id": facility_id,
                "name": place.get("name"),
                "kind": place.get("kind"),
                "tier": place.get("tier"),
                "people": place["occupied"],
                "staffed_beds": place["staffed_beds"],
                "forecast": rows,
                "total_meals_needed": sum(r["meals_needed"] for r in rows),
                "total_cost_vnd": sum(r["cost_vnd"] for r in rows),
                "total_waste_kg": round(sum(r["waste_kg"] for r in rows), 2),
            }
        )
        result.alerts += _alerts(facility_id, rows, cited)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _by_day(conn: Any, statement: str, params: dict[str, Any]) -> dict[tuple[str, dt.date], dict[str, Any]]:
    return {(r["facility_id"], r["day"]): dict(r) for r in conn.exec_driver_sql(statement, params).mappings()}


def _day(
    rules: LogisticsRuleFile,
    place: dict[str, Any],
    day: dt.date,
    team: dict[str, Any] | None,
    meal: dict[str, Any] | None,
    waste: dict[str, Any] | None,
) -> dict[str, Any]:
    """One forecast day of one facility: the figures (people × the rule's values) beside the active registries."""
    people = int(place["occupied"])
    defaults = rules.logistics
    staffed = place["staffed_beds"]
    headcount = team["headcount"] if team else 0
    return {
        "day": day,
        "people": people,
        "meals_needed": people * defaults.meals_per_person_day.value,  # type: ignore[operator]
        "cost_vnd": people * defaults.meal_price_vnd_per_person_day.value,  # type: ignore[operator]
        "waste_kg": round(people * defaults.waste_kg_per_person_day.value, 2),  # type: ignore[operator]
        "meals_contracted": meal["meals_per_day"] if meal else None,
        "meal_contracts": meal["contracts"] if meal else [],
        "waste_contracted_kg": float(waste["kg_per_day"]) if waste else None,
        "waste_contracts": waste["contracts"] if waste else [],
        "headcount": headcount,
        "teams": team["teams"] if team else 0,
        "headcount_by_role": {r: team[r] if team else 0 for r in ("medical", "security", "logistics", "volunteer")},
        "staffed_beds": staffed,
        "staff_per_bed": round(headcount / staffed, 3) if staffed else None,
    }


def _alerts(facility_id: str, rows: list[dict[str, Any]], cited: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The facility's alerts over the forecast days, one per kind with the days it holds on and its worst day."""
    found: dict[str, list[dict[str, Any]]] = {}
    norm = cited["staff_per_bed"]["value"]
    for r in rows:
        if r["people"] == 0:
            continue  # nobody to feed, collect from or staff for
        if r["meals_contracted"] is None:
            found.setdefault("no_meal_contract", []).append(r)
        elif r["meals_needed"] > r["meals_contracted"]:
            found.setdefault("meals_over_contract", []).append(r)
        if r["waste_contracted_kg"] is None:
            found.setdefault("no_waste_contract", []).append(r)
        elif r["waste_kg"] > r["waste_contracted_kg"]:
            found.setdefault("waste_over_contract", []).append(r)
        if r["teams"] == 0:
            found.setdefault("no_support_team", []).append(r)
        elif norm is not None and r["staff_per_bed"] is not None and r["staff_per_bed"] < norm:
            found.setdefault("staff_below_norm", []).append(r)
    alerts = []
    for kind, hit in found.items():
        days = [r["day"] for r in hit]
        shown = ", ".join(f"{d:%d/%m/%Y}" for d in days)
        alert: dict[str, Any] = {"facility_id": facility_id, "alert": kind, "days": days}
        if kind == "meals_over_contract":
            worst = max(hit, key=lambda r: r["meals_needed"] - r["meals_contracted"])
            need, have = worst["meals_needed"], worst["meals_contracted"]
            alert |= {
                "needed": need,
                "contracted": have,
                "shortfall": need - have,
                "rule": cited["meals_per_person_day"]["key"],
            }
            alert["reason_vi"] = (
                f"Cần {need} suất ăn/ngày ({worst['people']} người × {cited['meals_per_person_day']['value']}), "
                f"hợp đồng còn hiệu lực chỉ {have} suất/ngày, thiếu {need - have} (ngày {shown})"
            )
            alert["reason_en"] = (
                f"Needs {need} meals a day ({worst['people']} people × {cited['meals_per_person_day']['value']}); "
                f"the active contracts deliver {have}, {need - have} short (on {shown})"
            )
        elif kind == "waste_over_contract":
            worst = max(hit, key=lambda r: r["waste_kg"] - r["waste_contracted_kg"])
            need, have = worst["waste_kg"], worst["waste_contracted_kg"]
            short = round(need - have, 2)
            alert |= {
                "needed": need,
                "contracted": have,
                "shortfall": short,
                "rule": cited["waste_kg_per_person_day"]["key"],
            }
            alert["reason_vi"] = (
                f"Phát sinh {need} kg chất thải/ngày ({worst['people']} người × "
                f"{cited['waste_kg_per_person_day']['value']} kg), hợp đồng thu gom chỉ {have} kg/ngày, "
                f"thiếu {short} kg (ngày {shown})"
            )
            alert["reason_en"] = (
                f"Generates {need} kg of waste a day ({worst['people']} people × "
                f"{cited['waste_kg_per_person_day']['value']} kg); the active contracts collect {have} kg, "
                f"{short} kg short (on {shown})"
            )
        elif kind == "no_meal_contract":
            alert["rule"] = cited["meals_per_person_day"]["key"]
            alert["reason_vi"] = f"{hit[0]['people']} người nhưng không có hợp đồng suất ăn còn hiệu lực (ngày {shown})"
            alert["reason_en"] = f"{hit[0]['people']} people but no active meal contract (on {shown})"
        elif kind == "no_waste_contract":
            alert["rule"] = cited["waste_kg_per_person_day"]["key"]
            alert["reason_vi"] = (
                f"{hit[0]['people']} người nhưng không có hợp đồng thu gom chất thải còn hiệu lực (ngày {shown})"
            )
            alert["reason_en"] = f"{hit[0]['people']} people but no active waste collection contract (on {shown})"
        elif kind == "no_support_team":
            alert["reason_vi"] = f"{hit[0]['people']} người nhưng không có đội hỗ trợ nào đang làm việc (ngày {shown})"
            alert["reason_en"] = f"{hit[0]['people']} people but no support team serving (on {shown})"
        else:  # staff_below_norm
            worst = min(hit, key=lambda r: r["staff_per_bed"])
            alert |= {"staff_per_bed": worst["staff_per_bed"], "norm": norm, "rule": cited["staff_per_bed"]["key"]}
            alert["reason_vi"] = (
                f"{worst['headcount']} người trong các đội cho {worst['staffed_beds']} giường có nhân lực "
                f"({worst['staff_per_bed']}/giường), dưới định mức {norm} (ngày {shown})"
            )
            alert["reason_en"] = (
                f"{worst['headcount']} team members for {worst['staffed_beds']} staffed beds "
                f"({worst['staff_per_bed']} a bed), below the norm of {norm} (on {shown})"
            )
        alerts.append(alert)
    return alerts
