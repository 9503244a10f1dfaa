"""F1 quarantine rules: gis/care/rulesets/vn-f1-quarantine-2021.yml validated at load into a frozen `F1Rules`, and
the choice of the row that governs an order (issue 13 item 5; research notes: docs/care-rules-research.md §2).

Loading fails with `InvalidF1Rules` naming the file and the key path on: an unknown key, a missing field, a status
other than confirmed|open, a `source` that is not an instrument, a population, vaccination or place the file does
not name, a repeated row id or (population, valid_from, vaccination, place, after_centralised_days), a test day
outside 1..days, and a `full` F1 row without a reading of its `vaccination_note` in FULL_READINGS below.

**Which row governs an order** (`rule_for`). The file's convention: a row applies to orders starting on or after
its `valid_from` (null: before every dated row) until the next row of the same (population, vaccination, place).
Among the F1 rows of the order's place whose vaccination is the person's status or `any` (rows with
`after_centralised_days`, the step-down home after a centralised stay, are not a first order's), the one with the
latest `valid_from` wins; at the same date a row for the person's status beats an `any` row. So a fully vaccinated
F1 at home from 16 Dec 2021 is under 10696's 7 days; the same F1 in a centralised facility stays under 5599's 14
days (10696 and 762 speak of home or lodging only).

**Fully vaccinated** is each `full` row's `vaccination_note`, read as data here (FULL_READINGS, keyed by row id):

- 10696/BYT-MT (16 Dec 2021) "tiêm đủ liều … liều cuối ≥ 14 ngày và ≤ 06 tháng; hoặc đã khỏi bệnh … trong 06
  tháng": a full primary course (the vaccinations feed's doses: 2 doses of AstraZeneca, Pfizer, Moderna,
  Sinopharm or Sputnik V; 3 of Abdala, its schedule), the person's last dose of a full course (a booster counts)
  at least 14 days and at most 6 calendar months before the order's start; or a case (events.cases, not withdrawn)
  detected before the start and within 6 months of it (the register has no recovery date: detection stands for it).
- 762/BYT-DP (21 Feb 2022) "đã tiêm ít nhất 2 liều, liều cuối ≥ 14 ngày; hoặc đã khỏi bệnh … trong vòng 3
  tháng": at least 2 doses of any vaccine, the last at least 14 days before the start (no upper bound); or a case
  detected before the start and within 3 months.

The person's status at the start is read against the latest `full` F1 row in force then (any place): `full` or
`not_full`; before the first such row (16 Dec 2021) no text distinguishes F1 by vaccination and the status is
`not_assessed`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from gis.care.errors import CareError
from gis.citations import Instrument
from gis.rulefiles import Problems, parse_rule_file, rule_file

F1_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_F1_RULESET = "vn-f1-quarantine-2021"

Status = Literal["confirmed", "open"]
Place = Literal["centralised", "home"]
Vaccination = Literal["any", "full", "not_full"]
FULL, NOT_FULL, NOT_ASSESSED = "full", "not_full", "not_assessed"


class InvalidF1Rules(CareError):
    """The F1 quarantine rule file does not validate; the message names the file and the key path."""


class _Model(BaseModel):
    """Unknown keys are errors (a typo must not silently drop a duration); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Row(_Model):
    """One dated rule: how long, where, tested on which days (1-based), followed by how many days of monitoring."""

    id: str = Field(min_length=1)
    population: str
    valid_from: dt.date | None
    vaccination: Vaccination
    vaccination_note: str = ""
    place: Place
    days: StrictInt = Field(ge=1, le=60)
    monitor_days: StrictInt | None = Field(default=None, ge=0, le=60)
    test_days: list[StrictInt] | None = None
    after_centralised_days: StrictInt | None = Field(default=None, ge=1)
    source: str
    article: str = Field(min_length=1)
    status: Status
    note: str = ""


class OnPositive(_Model):
    action: Text
    source: str
    article: str = Field(min_length=1)
    status: Status
    note: str = ""


@dataclass(frozen=True)
class FullReading:
    """Our reading of a row's `vaccination_note` (see the module docstring)."""

    course: bool  # True: a full primary course of the vaccine (Abdala 3 doses, others 2); False: min_doses of any
    min_doses: int
    min_days_since_last: int
    max_months_since_last: int | None
    recovered_within_months: int


FULL_READINGS = {
    "f1-full-home-7d-10696": FullReading(
        course=True, min_doses=2, min_days_since_last=14, max_months_since_last=6, recovered_within_months=6
    ),
    "f1-full-5d-762": FullReading(
        course=False, min_doses=2, min_days_since_last=14, max_months_since_last=None, recovered_within_months=3
    ),
}
COURSE_DOSES = {"abdala": 3}  # a full primary course; every other vaccine of the feed: 2 doses


class F1Rules(_Model):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    instruments: dict[str, Instrument]
    vaccination_statuses: dict[str, Text]
    places: dict[str, Text]
    populations: dict[str, Text]
    rows: list[Row] = Field(min_length=1)
    on_positive: OnPositive

    @model_validator(mode="after")
    def _consistent(self) -> F1Rules:
        problems: list[str] = []
        seen_ids: set[str] = set()
        seen_keys: set[tuple] = set()
        for i, row in enumerate(self.rows):
            where = f"rows.{i}"
            if row.id in seen_ids:
                problems.append(f"{where}.id: {row.id!r} repeated")
            seen_ids.add(row.id)
            key = (row.population, row.valid_from, row.vaccination, row.place, row.after_centralised_days)
            if key in seen_keys:
                problems.append(f"{where}: a second row for {key[:4]}")
            seen_keys.add(key)
            if row.source not in self.instruments:
                problems.append(f"{where}.source: {row.source!r} is not an instrument")
            if row.population not in self.populations:
                problems.append(f"{where}.population: {row.population!r} is not in populations")
            if row.vaccination not in self.vaccination_statuses:
                problems.append(f"{where}.vaccination: {row.vaccination!r} is not in vaccination_statuses")
            if row.place not in self.places:
                problems.append(f"{where}.place: {row.place!r} is not in places")
            for j, day in enumerate(row.test_days or []):
                if not 1 <= day <= row.days:
                    problems.append(f"{where}.test_days.{j}: day {day} is outside 1..{row.days}")
            if row.test_days is not None and row.test_days != sorted(set(row.test_days)):
                problems.append(f"{where}.test_days: days in increasing order, each once")
            if row.population == "f1" and row.vaccination == FULL and row.id not in FULL_READINGS:
                problems.append(f"{where}.vaccination_note: no reading of 'full' for row {row.id!r} in the code")
        if self.on_positive.source not in self.instruments:
            problems.append(f"on_positive.source: {self.on_positive.source!r} is not an instrument")
        if problems:
            raise Problems(problems)
        return self


def load_f1_rules(ref: str = DEFAULT_F1_RULESET) -> F1Rules:
    """The F1 quarantine rule file by id (shipped) or YAML path, validated."""
    shipped = sorted(p.stem for p in F1_RULESET_DIR.glob("vn-f1-quarantine-*.yml"))
    path = rule_file(
        ref,
        F1_RULESET_DIR,
        shipped,
        CareError(
            f"không có bộ quy tắc cách ly F1 {ref!r} — unknown F1 quarantine rule file {ref!r}; shipped: "
            f"{', '.join(shipped)} (or give a path to a .yml file)"
        ),
    )
    return parse_rule_file(path, F1Rules, InvalidF1Rules)


def _from(row: Row) -> dt.date:
    return row.valid_from or dt.date.min


def rule_for(rules: F1Rules, start: dt.date, vaccination: str, place: str) -> Row | None:
    """The F1 row governing an order starting on `start` at `place` for a person of `vaccination` status (see the
    module docstring); None when no row is in force then."""
    candidates = [
        r
        for r in rules.rows
        if r.population == "f1"
        and r.place == place
        and r.after_centralised_days is None
        and r.vaccination in (vaccination, "any")
        and _from(r) <= start
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (_from(r), r.vaccination != "any"))


def full_row_for(rules: F1Rules, start: dt.date) -> Row | None:
    """The latest `full` F1 row in force on `start` (any place): whose note defines "fully vaccinated" then."""
    rows = [r for r in rules.rows if r.population == "f1" and r.vaccination == FULL and _from(r) <= start]
    return max(rows, key=_from) if rows else None


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (the month's last day when it has fewer days)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Doses:
    """A person's facts before an order's start, from the vaccinations and cases feeds."""

    last_course_on: dt.date | None  # last dose of a full primary course or later (COURSE_DOSES)
    last_two_dose_on: dt.date | None  # last dose numbered 2 or more, any vaccine
    last_case_on: dt.date | None  # last case detected before the start (not withdrawn)


def vaccination_status(rules: F1Rules, start: dt.date, doses: Doses) -> str:
    """`full`, `not_full`, or `not_assessed` before any row distinguished F1 by vaccination."""
    row = full_row_for(rules, start)
    if row is None:
        return NOT_ASSESSED
    reading = FULL_READINGS[row.id]
    last = doses.last_course_on if reading.course else doses.last_two_dose_on
    vaccinated = (
        last is not None
        and (start - last).days >= reading.min_days_since_last
        and (reading.max_months_since_last is None or last >= months_before(start, reading.max_months_since_last))
    )
    recovered = doses.last_case_on is not None and doses.last_case_on >= months_before(
        start, reading.recovered_within_months
    )
    return FULL if vaccinated or recovered else NOT_FULL
