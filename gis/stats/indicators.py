"""Daily indicators per area, one day at a time in date order (running totals continue from the day before)."""

from __future__ import annotations

import datetime as dt
import io
import time
from concurrent.futures import ThreadPoolExecutor
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
              "roots": None, "scope": None, "communes": None}
    rows = 0
    if not days:
        return {"days": 0, "rows": 0, "seconds": 0.0}
    if communes is not None:
        with engine.connect() as conn:
            reach = conn.exec_driver_sql(SQL["scope_of_communes"], {"communes": communes}).scalar() or []
        scoped = {**params, "roots": reach, "scope": reach, "communes": list(communes)}
    else:
        scoped = params
    with engine.begin() as conn:
        first = days[0] - dt.timedelta(days=TEST_WINDOW - 1)
        counted = {r[0] for r in conn.exec_driver_sql(SQL["refreshed_days"], {"first": first, "last": days[-1]})}
    never_counted = set()
    for day in days:
        never_counted |= {day - dt.timedelta(days=i) for i in range(TEST_WINDOW)} - counted
    for day in sorted(never_counted - set(days)):
        _count_whole_day(engine, day, params)
    for day in days:  # in date order: running totals continue from the day before
        whole = day in never_counted or communes is None  # a day never counted is counted whole
        p = params if whole else scoped
        with ThreadPoolExecutor(1) as side:
            # A whole day's case windows are counted on a second connection while this one counts the big feeds.
            cases = side.submit(_case_windows, engine, day, p) if whole and settings.workers > 1 else None
            with engine.begin() as conn:  # one transaction a day: its temporary units, daily counts, indicators
                _day_units(conn, day, p)
                if refresh_daily or day in never_counted:
                    _count_daily(conn, day, p)
                rows += _indicators(conn, day, p, cases.result() if cases else None)
    return {"days": len(days), "rows": rows, "scope": scoped["scope"],
            "seconds": round(time.perf_counter() - started, 3)}


def _case_windows(engine: Engine, day: dt.date, params: dict) -> str:
    """The case_windows rows of a day as COPY text, from a connection (and transaction) of their own."""
    with engine.begin() as conn:
        _day_units(conn, day, params)
        cursor = conn.connection.dbapi_connection.cursor()
        query = cursor.mogrify(SQL["case_windows"], {**params, "day": day}).decode()
        out = io.StringIO()
        cursor.copy_expert(f"COPY ({query}) TO STDOUT", out)
        return out.getvalue()


def _count_whole_day(engine: Engine, day: dt.date, params: dict) -> None:
    """Count a day's events into stats.daily for every unit (a window day never counted before)."""
    with engine.begin() as conn:
        _day_units(conn, day, params)
        _count_daily(conn, day, params)


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


def _indicators(conn, day: dt.date, params: dict, case_windows: str | None = None) -> int:
    """The day's indicators of out_units; case_windows: their case counts as COPY text, if counted already."""
    p = {**params, "day": day}
    conn.exec_driver_sql(SQL["create_case_window"])
    if case_windows is None:
        conn.exec_driver_sql("INSERT INTO case_window " + SQL["case_windows"], p)
    else:
        conn.connection.dbapi_connection.cursor().copy_expert("COPY case_window FROM STDIN",
                                                               io.StringIO(case_windows))
    chained = conn.exec_driver_sql(SQL["has_indicators"], {"day": day - dt.timedelta(days=1)}).scalar()
    cumulative = SQL["cumulative_chained"] if chained else SQL["cumulative_from_events"]
    conn.exec_driver_sql(SQL["delete_indicators"], p)
    return conn.exec_driver_sql(f"WITH {cumulative} {SQL['insert_indicators']}", p).rowcount
