"""The steering committee's weekly report: per district cases, tests, vaccination, zones and their changes.

Everything comes from what the pipeline stored for the last day of the ISO week (indicators over the 7 days ending on
it, and the zones of the published rule set), compared with the same day a week before: the numbers are the map's.
Its tracing section reads the week's row of restricted.trace_indicators (layers/trace-indicators.sql).

The report is the steering committee's (README, "OGC API, map and reports"): like the restricted layers it shows
counts as stored, small ones included; it is not a public product and suppresses nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from gis import sqlfiles
from gis.errors import CovidGisError
from gis.levels import ADMIN_LEVEL_VI, COLOURS, AdminLevel
from gis.risk.ruleset import RuleSet, load_ruleset

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "weekly.sql")
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
HOT_COLOURS = ("orange", "red", "dark_red")  # "turned orange or red"
# The units the report lists (communes and hamlets), by level, named as the report's column shows them: "Xã", "Ấp".
UNIT_LEVEL_VI = {int(level): ADMIN_LEVEL_VI[level].capitalize() for level in (AdminLevel.commune, AdminLevel.hamlet)}


class ReportError(CovidGisError):
    """The report cannot be made as asked (a bad week, or no zones computed for it)."""


@dataclass
class WeeklyReport:
    """What the weekly report shows, as tables; renderers turn it into HTML and XLSX."""

    week: str
    monday: dt.date
    sunday: dt.date
    day: dt.date  # the day the numbers are for (the Sunday unless the week's data end earlier)
    previous_day: dt.date
    has_previous: bool
    ruleset: RuleSet
    districts: pd.DataFrame  # one row per district, the province last
    units: pd.DataFrame  # communes and hamlets with this week's and last week's zone
    colour_counts: pd.DataFrame  # per district and unit level: units per colour, up and down since last week
    transitions: pd.DataFrame  # per district and unit level: from colour → to colour, units
    turned_hot: pd.DataFrame  # units that turned orange or red, with reasons
    notes: list[str] = field(default_factory=list)
    # tracing indicators of the ISO week (rows per venue kind, 'all' last); empty when nothing was traced
    trace: pd.DataFrame = field(default_factory=pd.DataFrame)
    trace_ruleset: str | None = None


def parse_week(week: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of an ISO week written 2021-W35."""
    match = WEEK.match(week.strip())
    if not match:
        raise ReportError(f"week must look like 2021-W35, not {week!r}")
    try:
        year, number = int(match[1]), int(match[2])
        return dt.date.fromisocalendar(year, number, 1), dt.date.fromisocalendar(year, number, 7)
    except ValueError as exc:
        raise ReportError(f"{week} is not a week of {match[1]}") from exc


def published_ruleset(engine: Engine, default: str) -> str:
    """The rule set the public map shows (the report must match it); the default when none is published yet."""
    with engine.connect() as conn:
        return conn.exec_driver_sql(SQL["published_ruleset"]).scalar_one_or_none() or default


def build_weekly(engine: Engine, week: str, ruleset_id: str, trace_ruleset: str | None = None) -> WeeklyReport:
    """Read the week's indicators and zones and arrange them into the report's tables; the tracing section is of
    `trace_ruleset` (None: the trace rule set that traced the most F0 of the week)."""
    monday, sunday = parse_week(week)
    ruleset = load_ruleset(ruleset_id)
    rs = ruleset.id
    notes = []
    with engine.connect() as conn:
        day = conn.exec_driver_sql(SQL["last_day_in_week"], {"rs": rs, "first": monday, "last": sunday}).scalar()
        if day is None:
            raise ReportError(
                f"no indicators and zones ({rs}) for {week} ({monday} – {sunday}): run "
                f"`covidgis zones compute --from {monday} --to {sunday}` first"
            )
        if day != sunday:
            notes.append(f"Số liệu của tuần chỉ có đến ngày {day:%d/%m/%Y}: các chỉ số là 7 ngày tính đến ngày đó.")
        previous = day - dt.timedelta(days=7)
        has_previous = bool(conn.exec_driver_sql(SQL["has_zones"], {"rs": rs, "day": previous}).scalar())
        if not has_previous:
            notes.append(f"Chưa có vùng nguy cơ ngày {previous:%d/%m/%Y}: không so sánh được với tuần trước.")
        params = {"rs": rs, "day": day, "prev": previous}
        districts = pd.read_sql(SQL["districts"], conn, params=params)
        units = pd.read_sql(SQL["units"], conn, params=params)
        week_params = {"monday": monday, "trs": trace_ruleset}
        trs = conn.exec_driver_sql(SQL["trace_ruleset"], week_params).scalar_one_or_none()
        trace = pd.read_sql(SQL["trace"], conn, params={**week_params, "trs": trs}) if trs else pd.DataFrame()
    districts = _with_rates(districts)
    names = dict(zip(districts["code"], districts["name"]))
    units["district_name"] = units["district_code"].map(names)
    return WeeklyReport(
        week=week,
        monday=monday,
        sunday=sunday,
        day=day,
        previous_day=previous,
        has_previous=has_previous,
        ruleset=ruleset,
        districts=districts,
        units=units,
        colour_counts=colour_counts(units, ruleset),
        transitions=transitions(units),
        turned_hot=turned_hot(units),
        notes=notes,
        trace=trace,
        trace_ruleset=trs,
    )


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den, empty where the denominator is missing or zero."""
    den = den.astype("Float64")
    return (num.astype("Float64") / den.where(den > 0)).astype("Float64")


def _with_rates(districts: pd.DataFrame) -> pd.DataFrame:
    d = districts.copy()
    d["quarantine_cases_7d"] = d["cases_7d"] - d["community_cases_7d"]
    d["positivity"] = _ratio(d["positive_tests_7d"], d["tests_7d"])
    d["coverage_18plus_1dose"] = _ratio(d["vaccinated_18plus_1dose"], d["population_18plus"])
    d["coverage_50plus_full"] = _ratio(d["vaccinated_50plus_full"], d["population_50plus"])
    d["coverage_65plus_full"] = _ratio(d["vaccinated_65plus_full"], d["population_65plus"])
    return d


def colour_counts(units: pd.DataFrame, ruleset: RuleSet) -> pd.DataFrame:
    """Per district and unit level (communes, hamlets): how many units have each colour, and how many went up or
    down a level since last week."""
    colours = [lv.colour for lv in ruleset.levels] + ([ruleset.not_available.colour] if ruleset.not_available else [])
    u = units.assign(colour=units["colour"].fillna("none"))
    counts = pd.crosstab([u["district_code"], u["admin_level"]], u["colour"])
    counts = counts.reindex(columns=[*colours, "none"], fill_value=0)
    moved = u.dropna(subset=["level", "prev_level"])
    counts["up"] = (moved["level"] > moved["prev_level"]).groupby([moved["district_code"], moved["admin_level"]]).sum()
    counts["down"] = (
        (moved["level"] < moved["prev_level"]).groupby([moved["district_code"], moved["admin_level"]]).sum()
    )
    counts[["up", "down"]] = counts[["up", "down"]].fillna(0).astype(int)
    counts = counts.reset_index()
    names = units.drop_duplicates("district_code").set_index("district_code")["district_name"]
    counts.insert(1, "district_name", counts["district_code"].map(names))
    return counts.sort_values(["district_name", "admin_level"]).reset_index(drop=True)


def transitions(units: pd.DataFrame) -> pd.DataFrame:
    """Per district and unit level, each change of colour since last week and how many units made it."""
    changed = units.dropna(subset=["colour", "prev_colour"])
    changed = changed[changed["colour"] != changed["prev_colour"]]
    out = (
        changed.groupby(["district_code", "district_name", "admin_level", "prev_colour", "colour"])
        .size()
        .rename("units")
        .reset_index()
    )
    return out.sort_values(["district_name", "admin_level", "units"], ascending=[True, True, False])


def turned_hot(units: pd.DataFrame) -> pd.DataFrame:
    """Units orange or red this week that were at a lower level last week, with the reasons of their zone."""
    rose = units["prev_level"].notna() & (units["level"] > units["prev_level"])
    hot = units[units["colour"].isin(HOT_COLOURS) & rose]
    return hot.sort_values(
        ["level", "district_name", "commune_name", "name"], ascending=[False, True, True, True]
    ).reset_index(drop=True)


def colour_vi(colour: str | None) -> str:
    """A colour's Vietnamese name; units without a zone are 'chưa có'."""
    return COLOURS[colour].vi if colour in COLOURS else "chưa có"
