"""Decision 4800's criterion 3 (treatment capacity) computed per province and district for a day (issue 13 item 6).

The sub-criteria and their parameters are the `criterion3:` section of the capacity rule file
(gis/care/rulesets/vn-4800-capacity-2021.yml); this module only evaluates them on what care knows at the end of the
local day D: treatment facilities by tier (facilities feed), their staffed beds (rooms feed) and the people in them
by the replay of admissions (sql/occupancy.sql, run here in the same transaction). Each sub-criterion gets a value,
a verdict and a reason in Vietnamese and English:

- `min_free_staffed_beds_per_tier` (province): every tier listed has at least `min_free_staffed_beds` free staffed
  beds in the province. Its value is a provincial parameter; where the file gives none (null: the ICU sub-criterion,
  no official number found) the sub-criterion is `not_assessed`, never guessed.
- `min_share_of_communes` (district): the commune flags it names are carried by no feed yet, so it is
  `not_assessed`, with that reason.

A district is served by its province's treatment tiers (`criterion3.district_served_by_province`, our reading, open:
4800 organises tiers 1–3 province-wide), so a district's row carries the province's sub-criteria (scope
`province`) beside its own (scope `district`). The result
(`combination.rule: all`, status open in the file) is met when every assessed sub-criterion is met. Rows are
written to care.capacity (migration 0023) for the provinces with registered rooms of a treatment facility and every
district of them; the indicator treatment_capacity_met reads them (gis/stats/sql/indicators.sql).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt
from sqlalchemy import Connection, Engine

from gis.care.errors import CareError
from gis.care.occupancy import SQL as OCCUPANCY_SQL
from gis.care.occupancy import end_of_day
from gis.rulefiles import parse_rule_file, rule_file
from gis.sqlfiles import load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "capacity.sql")
CAPACITY_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_CAPACITY_RULESET = "vn-4800-capacity-2021"
MET, NOT_MET, NOT_ASSESSED = "met", "not_met", "not_assessed"


class InvalidCapacityRules(CareError):
    """The capacity rule file's criterion3 section does not validate; the message names the file and the key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Parameter(_Model):
    value: StrictInt | StrictFloat | None
    status: str = Field(pattern="^(confirmed|open)$")
    official: bool = True
    note: str = ""


class Reading(_Model):
    """A yes/no reading of ours where the texts are silent (status open, with a note)."""

    value: bool
    status: str = Field(pattern="^(confirmed|open)$")
    official: bool = True
    note: str = ""


class Check(_Model):
    kind: str = Field(pattern="^(min_free_staffed_beds_per_tier|min_share_of_communes|flags)$")
    tiers: list[int] = Field(default_factory=list)
    min_free_staffed_beds: Parameter | None = None
    flag: str | None = None
    flags: list[str] = Field(default_factory=list)
    min_share: Parameter | None = None


class SubCriterion(_Model):
    id: str
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    source: str
    article: str
    status: str = Field(pattern="^(confirmed|open)$")
    check: Check


class Combination(_Model):
    rule: str = Field(pattern="^all$")
    status: str


class Criterion3(_Model):
    combination: Combination
    district_served_by_province: Reading | None = None  # true: a district's row carries its province's parts
    province: list[SubCriterion]
    district: list[SubCriterion]


class CapacityRuleFile(_Model):
    """The parts of the capacity rule file criterion 3 reads (logistics are gis/care/logistics.py's)."""

    id: str
    version: str
    criterion3: Criterion3


def load_capacity_rules(ref: str = DEFAULT_CAPACITY_RULESET) -> CapacityRuleFile:
    """The capacity rule file by id (shipped) or YAML path, its criterion3 section validated."""
    shipped = sorted(p.stem for p in CAPACITY_RULESET_DIR.glob("vn-4800-capacity-*.yml"))
    path = rule_file(
        ref,
        CAPACITY_RULESET_DIR,
        shipped,
        CareError(f"unknown capacity rule file {ref!r}; shipped: {', '.join(shipped)} (or give a path to a .yml file)"),
    )
    rules = parse_rule_file(path, CapacityRuleFile, InvalidCapacityRules)
    for scope in ("province", "district"):
        for sub in getattr(rules.criterion3, scope):
            if sub.check.kind == "min_free_staffed_beds_per_tier" and (
                not sub.check.tiers or sub.check.min_free_staffed_beds is None
            ):
                where = f"{path}: criterion3.{scope}.{sub.id}"
                raise InvalidCapacityRules(f"{where}: tiers and min_free_staffed_beds needed")
    return rules


@dataclass
class CapacitySummary(Summary):
    """Criterion 3 of a day per assessed province and district: the verdict and every sub-criterion's value."""

    day: dt.date
    at: dt.datetime  # the end of the day: the replay's instant
    ruleset: str
    areas: list[dict[str, Any]] = field(default_factory=list)
    met: int = 0
    not_met: int = 0
    seconds: float = 0.0


def _tier_check(sub: SubCriterion, tiers: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """`min_free_staffed_beds_per_tier` on one province's tiers (tier -> facilities, staffed and free beds)."""
    param = sub.check.min_free_staffed_beds
    assert param is not None
    value = {str(t): (tiers.get(t) or {}).get("free_staffed_beds") for t in sub.check.tiers}
    if param.value is None:
        return {
            "value": value,
            "threshold": None,
            "verdict": NOT_ASSESSED,
            "reason_vi": "Chưa có ngưỡng: tỉnh chưa đặt số giường trống có nhân lực tối thiểu (tham số để trống).",
            "reason_en": "No threshold: the province has not set the minimum free staffed beds (parameter null).",
        }
    short = [t for t in sub.check.tiers if (value[str(t)] or 0) < param.value]
    if not short:
        return {
            "value": value,
            "threshold": param.value,
            "verdict": MET,
            "reason_vi": f"Mỗi tầng {sub.check.tiers} còn ít nhất {param.value} giường trống có nhân lực.",
            "reason_en": f"Every tier {sub.check.tiers} has at least {param.value} free staffed beds.",
        }
    detail = ", ".join(f"{t}: {value[str(t)] if value[str(t)] is not None else 0}" for t in short)
    return {
        "value": value,
        "threshold": param.value,
        "verdict": NOT_MET,
        "reason_vi": f"Tầng thiếu giường trống có nhân lực (cần ≥ {param.value}) — {detail}.",
        "reason_en": f"Tiers short of free staffed beds (≥ {param.value} needed) — {detail}.",
    }


def _flag_check(sub: SubCriterion) -> dict[str, Any]:
    flags = [sub.check.flag] if sub.check.flag else sub.check.flags
    return {
        "value": None,
        "threshold": sub.check.min_share.value if sub.check.min_share else None,
        "verdict": NOT_ASSESSED,
        "reason_vi": f"Chưa có nguồn dữ liệu cho {', '.join(flags)} của xã: không đánh giá.",
        "reason_en": f"No feed carries the communes' {', '.join(flags)}: not assessed.",
    }


def _evaluate(sub: SubCriterion, scope: str, tiers: dict[int, dict[str, Any]]) -> dict[str, Any]:
    result = _tier_check(sub, tiers) if sub.check.kind == "min_free_staffed_beds_per_tier" else _flag_check(sub)
    return {"id": sub.id, "scope": scope, "title_vi": sub.title_vi, "title_en": sub.title_en,
            "status": sub.status, **result}  # fmt: skip


def _met(criteria: list[dict[str, Any]]) -> bool:
    """combination.rule all: every assessed sub-criterion met (and at least one assessed)."""
    assessed = [c for c in criteria if c["verdict"] != NOT_ASSESSED]
    return bool(assessed) and all(c["verdict"] == MET for c in assessed)


def _rows(conn: Connection, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.exec_driver_sql(statement, params).mappings()]


def compute_capacity(
    engine: Engine, day: dt.date, timezone: str, ruleset: str = DEFAULT_CAPACITY_RULESET
) -> CapacitySummary:
    """Criterion 3 of `day` per assessed province and district, stored in care.capacity (the day's rows replaced)."""
    rules = load_capacity_rules(ruleset)
    started = time.perf_counter()
    at = end_of_day(day, timezone)
    label = f"{rules.id} ({rules.version})"
    summary = CapacitySummary(day=day, at=at, ruleset=label)
    with engine.begin() as conn:
        params = {"at": at, "facility": None}
        conn.exec_driver_sql(OCCUPANCY_SQL["stays_at"], params)
        conn.exec_driver_sql(OCCUPANCY_SQL["per_room"], params)
        conn.exec_driver_sql(OCCUPANCY_SQL["per_facility"])
        tiers: dict[str, dict[int, dict[str, Any]]] = {}
        for r in _rows(conn, SQL["tiers_by_area"]):
            tiers.setdefault(r["area_code"], {})[r["tier"]] = r
        provinces = [r["code"] for r in _rows(conn, SQL["assessed_provinces"])]
        districts = _rows(conn, SQL["districts"], {"provinces": provinces})
        served_by_province = bool(
            rules.criterion3.district_served_by_province and rules.criterion3.district_served_by_province.value
        )
        per_province = {
            p: [_evaluate(s, "province", tiers.get(p, {})) for s in rules.criterion3.province] for p in provinces
        }
        areas = [{"area_code": p, "admin_level": 1, "criteria": per_province[p]} for p in provinces]
        for d in districts:
            own = [_evaluate(s, "district", tiers.get(d["code"], {})) for s in rules.criterion3.district]
            inherited = per_province[d["province"]] if served_by_province else []
            areas.append({"area_code": d["code"], "admin_level": 2, "criteria": inherited + own})
        conn.exec_driver_sql(SQL["delete_day"], {"day": day})
        for a in areas:
            a["met"] = _met(a["criteria"])
            a["failing"] = [c["id"] for c in a["criteria"] if c["verdict"] == NOT_MET]
            conn.exec_driver_sql(
                SQL["insert"],
                {"day": day, "area_code": a["area_code"], "admin_level": a["admin_level"], "met": a["met"],
                 "criteria": json.dumps(a["criteria"], ensure_ascii=False), "ruleset": label},
            )  # fmt: skip
    summary.areas = areas
    summary.met = sum(a["met"] for a in areas)
    summary.not_met = len(areas) - summary.met
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def days_touched(engine: Engine, table: str, batch_id: int, timezone: str) -> list[dt.date]:
    """The days whose criterion 3 a batch changes: an admissions batch, its first local day to the last day with
    indicators; a rooms batch (the registry keeps no history), the last day with indicators (the live zones).
    Other tables: none."""
    if table not in ("admissions", "rooms"):
        return []
    with engine.connect() as conn:
        if table == "rooms":
            last_computed = conn.exec_driver_sql(SQL["last_computed"]).scalar()
            return [last_computed] if last_computed is not None else []
        first, last = conn.exec_driver_sql(SQL["admissions_days"], {"batch": batch_id, "tz": timezone}).one()
    if first is None:
        return []
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
