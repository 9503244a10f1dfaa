"""Welfare programmes: cited YAML files (gis/welfare/programmes/) validated into frozen models, and who is eligible.

Every mapping that states a rule names its source (a key of `instruments`, each a gis.citations.Instrument), the
article and `status` (confirmed | open). Loading fails with `InvalidProgramme` naming the file and the key path on an
unknown key, a missing field, a status other than confirmed|open, or a source that is not an instrument.

`eligible(engine, programme, day)` decides every household at once in SQL, with three-valued logic: a flag of the
households feed is true or false (NULL when the feed left it empty), a `fact:` an officer must confirm is NULL, the
hamlet's zone level on the day (risk.zone of the published rule set) is compared when the programme names the
levels that count. The verdict is TRUE (eligible), FALSE (not eligible) or NULL (eligible if an officer confirms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from psycopg2 import sql
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from sqlalchemy import Engine

from gis.citations import Instrument
from gis.rulefiles import Problems, parse_rule_file, rule_file
from gis.sqlfiles import compose, load
from gis.summary import Summary
from gis.welfare.errors import InvalidProgramme, UnknownProgramme

PROGRAMME_DIR = Path(__file__).parent / "programmes"
SQL = load(Path(__file__).parent / "sql" / "welfare.sql")

Status = Literal["confirmed", "open"]
Flag = Literal["poor", "near_poor", "elderly_alone", "disabled", "lost_income", "migrant_worker", "covid_household"]
FLAGS_VI = {
    "poor": "hộ nghèo",
    "near_poor": "hộ cận nghèo",
    "elderly_alone": "người cao tuổi sống một mình",
    "disabled": "người khuyết tật",
    "lost_income": "mất thu nhập",
    "migrant_worker": "lao động ngoại tỉnh",
    "covid_household": "hộ có F0/F1",
}


class _Model(BaseModel):
    """Unknown keys are errors (a typo must not silently drop a condition); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Cited(_Model):
    source: str
    article: str = Field(min_length=1)
    status: Status
    note: str = ""


class Criterion(_Model):
    """One condition: a households-feed `flag`, a `fact` an officer confirms, or `any` / `all` of several."""

    flag: Flag | None = None
    value: StrictBool = True
    fact: str | None = None
    any: list[Criterion] | None = None
    all: list[Criterion] | None = None
    title_vi: str = ""
    title_en: str = ""
    min_days: StrictInt | None = None
    max_age_exclusive: StrictInt | None = None
    max_child_age_exclusive: StrictInt | None = None
    source: str | None = None
    article: str | None = None
    status: Status | None = None
    note: str = ""

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        kinds = [k for k in ("flag", "fact", "any", "all") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a criterion is exactly one of flag, fact, any or all (found: {', '.join(kinds)})")
        if self.group is None and (self.source is None or self.article is None or self.status is None):
            raise ValueError("a flag or fact criterion names its source, article and status")
        if self.fact is not None and not (self.title_vi and self.title_en):
            raise ValueError("a fact names what the officer confirms in title_vi and title_en")
        return self

    @property
    def group(self) -> list[Criterion] | None:
        """The nested criteria of an `any` or `all`; None for a flag or a fact."""
        return self.any if self.any is not None else self.all


class ZoneAlternative(_Model):
    zone_measure: str | None = None
    fact: str | None = None
    place: str | None = None
    title_vi: str = ""
    title_en: str = ""
    min_days: StrictInt | None = None


class Zone(_Cited):
    """Whether the household's hamlet must be under a measure. `levels`: the zone levels (risk.zone of the
    published rule set) that count as that measure; without them the measure is an officer's fact."""

    required: StrictBool | Literal["any_of_with_fact", "any_day_in_period", "province_rule"]
    zone_measure: str | None = None
    levels: list[StrictInt] | None = Field(default=None, min_length=1)
    any_of: list[ZoneAlternative] = []
    title_vi: str = ""
    title_en: str = ""

    @model_validator(mode="after")
    def _levels_need_a_condition(self) -> Zone:
        if self.levels is not None and self.required is False:
            raise ValueError("`levels` name the zone levels a required zone counts; this zone is not required")
        return self

    @property
    def applies(self) -> bool:
        return self.required is not False


class Eligibility(_Model):
    all: list[Criterion] = Field(min_length=1)
    hints: list[Criterion] = []  # flags that point to likely recipients (rank lists); never a condition
    zone: Zone


class Period(_Cited):
    from_: dt.date = Field(alias="from")
    to: dt.date
    applies_to: str | None = None
    applies_to_source: str | None = None
    applies_to_article: str | None = None
    applies_to_status: Status | None = None
    opens: dt.date | None = None  # deliveries are refused before this day (the window may start earlier)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.to < self.from_:
            raise ValueError(f"period ends ({self.to}) before it starts ({self.from_})")
        return self


class Tier(_Model):
    when: str
    amount_vnd: StrictInt
    min_days: StrictInt | None = None
    max_days_exclusive: StrictInt | None = None
    min_months: StrictInt | None = None
    max_months_exclusive: StrictInt | None = None


class Kit(_Model):
    id: str
    title_vi: str
    title_en: str
    value_vnd: StrictInt | None = None
    items: list[str] = []


class Item(_Model):
    item: str
    quantity: float
    unit: str


class Benefit(_Cited):
    kind: Literal["cash", "kit"]
    per: Literal["person", "household"]
    amount_vnd: StrictInt | None = None
    amount_vnd_per_day: StrictInt | None = None
    min_amount_vnd_per_month: StrictInt | None = None
    prorated_by: str | None = None
    per_child: StrictBool = False
    tiers: list[Tier] = []
    kits: list[Kit] = []
    items: list[Item] = []
    covers_vi: str = ""
    covers_en: str = ""
    months_counted: str = ""


class Frequency(_Cited):
    kind: Literal["once", "per_day", "province_rule"]
    max_days: StrictInt | dict[str, StrictInt] | None = None
    per_base_delivery: StrictBool = False


class Dedup(_Cited):
    scope: Literal["person", "household", "both"]
    text_scope: Literal["person", "household", "both"] | None = None
    person: str | None = None


class PaidBy(_Cited):
    level: Literal["commune", "district", "province"]


class Requires(_Cited):
    any_of: list[str] = Field(min_length=1)


class Excludes(_Cited):
    programmes: list[str] = Field(min_length=1)


class Programme(_Model):
    """A complete, validated programme: one benefit with one dedup scope (a delivery names exactly one)."""

    id: str
    version: str
    package: str
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    instruments: dict[str, Instrument] = Field(min_length=1)
    instrument: str
    article: str = Field(min_length=1)
    amended_by: list[str] = []
    status: Status
    note: str = ""
    period: Period
    requires: Requires | None = None
    excludes: Excludes | None = None
    recipient: Literal["person", "household"]
    counted_person: str | None = None
    eligibility: Eligibility
    paid_by: PaidBy | None = None
    benefit: Benefit
    frequency: Frequency
    dedup: Dedup

    @model_validator(mode="after")
    def _cited(self) -> Programme:
        problems: list[str] = []
        known = set(self.instruments)

        def check(path: str, source: str | None) -> None:
            if source is not None and source not in known:
                problems.append(f"{path}.source: {source!r} is not in instruments ({', '.join(sorted(known))})")

        check("instrument", self.instrument)
        for i, ref in enumerate(self.amended_by):
            check(f"amended_by.{i}", ref)
        for name in ("period", "requires", "excludes", "paid_by", "benefit", "frequency", "dedup"):
            part = getattr(self, name)
            if part is not None:
                check(name, part.source)
        check("period.applies_to", self.period.applies_to_source)
        check("eligibility.zone", self.eligibility.zone.source)

        def walk(path: str, criteria: list[Criterion]) -> None:
            for i, c in enumerate(criteria):
                check(f"{path}.{i}", c.source)
                if c.group is not None:
                    walk(f"{path}.{i}.{'any' if c.any is not None else 'all'}", c.group)

        walk("eligibility.all", self.eligibility.all)
        walk("eligibility.hints", self.eligibility.hints)
        if problems:
            raise Problems(problems)
        return self

    def citation(self, source: str | None = None, article: str | None = None) -> dict:
        """The instrument a value cites (default: the programme's own text), with the value's article."""
        key = source or self.instrument
        return {**self.instruments[key].model_dump(mode="json"), "article": article or self.article}

    def period_start(self, day: dt.date) -> dt.date:
        """The dedup period a delivery on `day` falls in: the day itself for a per-day programme, else the whole
        period (once per period)."""
        return day if self.frequency.kind == "per_day" else self.period.from_

    def is_open(self, day: dt.date) -> bool:
        """Whether a delivery on `day` may be recorded: inside the period, and not before it `opens`."""
        return max(self.period.from_, self.period.opens or self.period.from_) <= day <= self.period.to

    def listing(self) -> dict:
        """What `covidgis welfare programmes` shows of it (JSON-ready)."""
        return {
            "id": self.id,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "package": self.package,
            "decision": self.citation(),
            "status": self.status,
            "period": {"from": self.period.from_.isoformat(), "to": self.period.to.isoformat()},
            "period_status": self.period.status,
            "recipient": self.recipient,
            "benefit": self.benefit.kind,
            "dedup": self.dedup.scope,
        }


def available_programmes() -> list[str]:
    return sorted(p.stem for p in PROGRAMME_DIR.glob("*.yml"))


def parse_programme(path: Path) -> Programme:
    """Load and validate one YAML file; InvalidProgramme names the file and every bad key."""
    programme = parse_rule_file(path, Programme, InvalidProgramme)
    if path.parent == PROGRAMME_DIR and programme.id != path.stem:
        raise InvalidProgramme(f"{path}: id {programme.id!r} differs from the file name; make them the same")
    return programme


@cache
def load_programme(ref: str) -> Programme:
    """A shipped programme by id (gis/welfare/programmes/ID.yml) or a path to a YAML file."""
    available = available_programmes()
    return parse_programme(rule_file(ref, PROGRAMME_DIR, available, UnknownProgramme(ref, available)))


def load_programmes() -> list[Programme]:
    """Every shipped programme, by id; a `requires` naming no shipped programme is an error."""
    programmes = [load_programme(ref) for ref in available_programmes()]
    ids = {p.id for p in programmes}
    for p in programmes:
        missing = sorted(set(p.requires.any_of) - ids) if p.requires else []
        if missing:
            raise InvalidProgramme(
                f"{PROGRAMME_DIR / (p.id + '.yml')}: requires.any_of: {', '.join(missing)} are not shipped programmes"
            )
    return programmes


@dataclass
class ProgrammeListing(Summary):
    """The shipped programmes (`covidgis welfare programmes --json`)."""

    programmes: list[dict] = field(default_factory=list)


def programme_listing() -> ProgrammeListing:
    return ProgrammeListing([p.listing() for p in load_programmes()])


# --- eligibility -------------------------------------------------------------------------------------------------
def _criterion_sql(c: Criterion) -> sql.Composable:
    """A criterion as a boolean SQL expression over `h` (welfare.household): NULL where an officer decides."""
    if c.flag is not None:
        return sql.SQL("(h.{} = {})").format(sql.Identifier(c.flag), sql.Literal(c.value))
    if c.group is not None:
        joiner = " OR " if c.any is not None else " AND "
        return sql.SQL("({})").format(sql.SQL(joiner).join(_criterion_sql(x) for x in c.group))
    return sql.SQL("NULL::boolean")


def _zone_sql(zone: Zone) -> sql.Composable:
    """The zone condition over `z` (risk.zone of the day): TRUE when none; NULL when the measure is no zone level."""
    if not zone.applies:
        return sql.SQL("TRUE")
    if zone.levels is None:
        return sql.SQL("NULL::boolean")
    return sql.SQL("(z.level = ANY({}))").format(sql.Literal(list(zone.levels)))


def verdict_sql(programme: Programme, day: dt.date) -> sql.Composable:
    """The programme's conditions on `day` as one boolean over h (welfare.household) and z (risk.zone of the day):
    TRUE eligible, FALSE not (always, outside the programme's open days), NULL if an officer confirms."""
    if not programme.is_open(day):
        return sql.SQL("FALSE")
    criteria = [_criterion_sql(c) for c in programme.eligibility.all] + [_zone_sql(programme.eligibility.zone)]
    return sql.SQL(" AND ").join(criteria)


def _reasons(p: Programme, row: dict[str, Any], day: dt.date) -> list[dict]:
    """Why a household is or is not eligible, criterion by criterion (met: true, false, or null = to confirm)."""

    def one(c: Criterion) -> dict:
        if c.flag is not None:
            value = row[c.flag]
            met = None if value is None else value == c.value
            wanted = FLAGS_VI[c.flag] if c.value else f"không {FLAGS_VI[c.flag]}"
            return {"flag": c.flag, "met": met, "vi": wanted, "en": c.flag if c.value else f"not {c.flag}"}
        if c.fact is not None:
            return {"fact": c.fact, "met": None, "vi": f"cần cán bộ xác nhận: {c.title_vi}", "en": c.title_en}
        if c.any is not None:
            parts = [one(x) for x in c.any]
            mets = [x["met"] for x in parts]
            met = True if True in mets else None if None in mets else False
            return {"any": parts, "met": met, "vi": "một trong các điều kiện", "en": "any of"}
        parts = [one(x) for x in c.all or []]
        mets = [x["met"] for x in parts]
        met = False if False in mets else None if None in mets else True
        return {"all": parts, "met": met, "vi": "tất cả các điều kiện", "en": "all of"}

    reasons = [
        {
            "period": [p.period.from_.isoformat(), p.period.to.isoformat()],
            "met": p.is_open(day),
            "vi": f"thời gian chương trình {p.period.from_:%d/%m/%Y}–{p.period.to:%d/%m/%Y}",
            "en": f"programme period {p.period.from_}–{p.period.to}",
        }
    ]
    reasons += [one(c) for c in p.eligibility.all]
    zone = p.eligibility.zone
    if zone.applies:
        level = row["zone_level"]
        if zone.levels is None:
            met = None
            vi = f"cần xác nhận biện pháp tại địa bàn: {zone.title_vi or zone.zone_measure or zone.required}"
        else:
            met = None if level is None else level in zone.levels
            vi = f"cấp độ dịch của ấp trong ngày: {level if level is not None else 'chưa có'} (cần {zone.levels})"
        reasons.append(
            {
                "zone": zone.zone_measure or "zone_level",
                "level": level,
                "levels": zone.levels,
                "met": met,
                "vi": vi,
                "en": zone.title_en or f"zone level {level} on the day (counts: {zone.levels})",
            }
        )
    return reasons


@dataclass
class EligibilityResult(Summary):
    """Per household of the province: eligible (true), not (false) or if an officer confirms (null), and why."""

    programme: str
    day: dt.date
    ruleset_id: str | None
    open: bool
    commune_code: str | None = None
    eligible: int = 0
    to_confirm: int = 0
    not_eligible: int = 0
    households: list[dict] = field(default_factory=list)


def eligible(engine: Engine, programme: Programme, day: dt.date, commune_code: str | None = None) -> EligibilityResult:
    """Every household's (of one commune) verdict for `programme` on `day`, decided in one statement (see the
    module's docstring)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")  # compiling cost more than running (gis/welfare/unreached.py)
        statement = compose(conn, SQL["eligible"], verdict=verdict_sql(programme, day))
        ruleset = conn.exec_driver_sql(SQL["published_ruleset"]).scalar()
        rows = (
            conn.exec_driver_sql(statement, {"day": day, "ruleset_id": ruleset, "commune_code": commune_code})
            .mappings()
            .all()
        )
    result = EligibilityResult(programme.id, day, ruleset, programme.is_open(day), commune_code)
    for row in rows:
        v = row["verdict"]
        if v is True:
            result.eligible += 1
        elif v is False:
            result.not_eligible += 1
        else:
            result.to_confirm += 1
        result.households.append(
            {
                "household_id": row["household_id"],
                "area_code": row["area_code"],
                "commune_code": row["commune_code"],
                "eligible": v,
                "zone_level": row["zone_level"],
                "reasons": _reasons(programme, dict(row), day),
                # flags that point to likely recipients (the not-yet-reached list ranks by them), never a condition
                "hints": [c.flag for c in programme.eligibility.hints if c.flag and row[c.flag] == c.value],
            }
        )
    return result
