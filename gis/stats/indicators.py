"""Daily indicators per area, one day at a time in date order (running totals continue from the day before)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from sqlalchemy import Engine

from gis import sqlfiles
from gis.stats.settings import StatsSettings

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "indicators.sql")
TEST_WINDOW = 7  # days of stats.daily an indicator sums (tests_7d)


def compute_indicators(engine: Engine, days: list[dt.date], settings: StatsSettings,
                       refresh_daily: bool = True, communes: list[str] | None = None) -> dict:
    """Recompute stats.indicator for these days from the events; returns days, rows written and seconds.

    refresh_daily: recount the events of these days into stats.daily first (False when only the settings or
    boundaries changed). Window days never counted before are counted in any case, for every unit.
    communes: only these communes changed (a batch's): recompute them, their hamlets and the units above them.
    """
    started = time.perf_counter()
    days = sorted(set(days))
    params = {"tz": settings.timezone, "share_18plus": settings.share_18plus, "share_50plus": settings.share_50plus,
              "share_65plus": settings.share_65plus, "max_occupancy": settings.capacity_max_occupancy,
              "scope": None, "communes": None}
    rows = 0
    if not days:
        return {"days": 0, "rows": 0, "seconds": 0.0}
    if communes is not None:
        with engine.connect() as conn:
            scoped = {**params, "scope": conn.exec_driver_sql(SQL["scope_of_communes"], {"communes": communes}
                                                              ).scalar() or [], "communes": list(communes)}
    else:
        scoped = params
    with engine.begin() as conn:
        first = days[0] - dt.timedelta(days=TEST_WINDOW - 1)
        counted = {r[0] for r in conn.exec_driver_sql(SQL["refreshed_days"], {"first": first, "last": days[-1]})}
    never_counted = set()
    for day in days:
        never_counted |= {day - dt.timedelta(days=i) for i in range(TEST_WINDOW)} - counted
    for day in sorted(never_counted - set(days)):
        with engine.begin() as conn:
            _day_units(conn, day, params)
            _count_daily(conn, day, params)
    for day in days:  # one transaction a day: its temporary units, its daily counts, its indicators
        p = params if day in never_counted else scoped  # a day never counted is counted whole
        with engine.begin() as conn:
            _day_units(conn, day, p)
            if refresh_daily or day in never_counted:
                _count_daily(conn, day, p)
            rows += _indicators(conn, day, p)
    return {"days": len(days), "rows": rows, "scope": scoped["scope"],
            "seconds": round(time.perf_counter() - started, 3)}


def _day_units(conn, day: dt.date, params: dict) -> None:
    conn.exec_driver_sql(SQL["day_units"], {**params, "day": day})


def _count_daily(conn, day: dt.date, params: dict) -> None:
    p = {**params, "day": day}
    conn.exec_driver_sql(SQL["delete_daily"], p)
    conn.exec_driver_sql(SQL["insert_daily_local"], p)
    for level in (2, 1):  # districts from their communes, then provinces from their districts
        conn.exec_driver_sql(SQL["insert_daily_rollup"], {**p, "level": level})
    if params["scope"] is None:
        conn.exec_driver_sql(SQL["mark_refreshed"], p)


def _indicators(conn, day: dt.date, params: dict) -> int:
    p = {**params, "day": day}
    chained = conn.exec_driver_sql(SQL["has_indicators"], {"day": day - dt.timedelta(days=1)}).scalar()
    cumulative = SQL["cumulative_chained"] if chained else SQL["cumulative_from_events"]
    conn.exec_driver_sql(SQL["delete_indicators"], p)
    return conn.exec_driver_sql(f"WITH {cumulative} {SQL['insert_indicators']}", p).rowcount
