"""Daily indicators per area, one day at a time in date order (running totals continue from the day before)."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg2 import sql
from sqlalchemy import Connection, Engine

from gis import sqlfiles
from gis.db.frames import read_text, write_text
from gis.stats.settings import StatsSettings
from gis.summary import Summary

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "indicators.sql")
TEST_WINDOW = 7  # days of stats.daily an indicator sums (tests_7d)


@dataclass
class IndicatorSummary(Summary):
    """What `compute_indicators` did: days, units computed (a unit-day each), seconds."""

    days: int = 0
    rows: int = 0
    seconds: float = 0.0
    scope: list[str] | None = None  # the area codes recomputed when only some communes changed (None: all)


def compute_indicators(
    engine: Engine,
    days: list[dt.date],
    settings: StatsSettings,
    refresh_daily: bool = True,
    communes: list[str] | None = None,
) -> IndicatorSummary:
    """Recompute stats.indicator for these days from the events; returns days, units computed and seconds.
    A row is written only when one of its values changed (its computed_at says when).

    refresh_daily: recount the events of these days into stats.daily first (False when only the settings or
    boundaries changed). Window days never counted before are counted in any case, for every unit.
    communes: only these communes changed (a batch's): recompute them, their hamlets and the units above them.
    """
    started = time.perf_counter()
    days = sorted(set(days))
    params: dict[str, Any] = {
        "tz": settings.timezone,
        "share_18plus": settings.share_18plus,
        "share_50plus": settings.share_50plus,
        "share_65plus": settings.share_65plus,
        "max_occupancy": settings.capacity_max_occupancy,
        "scope": None,
        "communes": None,
    }
    rows = 0
    if not days:
        return IndicatorSummary()
    reach: list[str] | None = None
    if communes is not None:
        with engine.connect() as conn:
            reach = conn.exec_driver_sql(SQL["scope_of_communes"], {"communes": communes}).scalar() or []
    scoped = params if reach is None else {**params, "scope": reach, "communes": list(communes or [])}
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
        count = refresh_daily or day in never_counted
        with ThreadPoolExecutor(1) as pool:
            side = _Side(engine, day, p, count, pool) if whole and settings.workers > 1 else None
            with engine.begin() as conn:  # one transaction a day: its temporary units, daily counts, indicators
                _day_units(conn, day, p)
                if count:
                    _count_daily(conn, day, p, side.other_feeds if side else None)
                rows += _indicators(conn, day, p, side.case_windows if side else None)
    return IndicatorSummary(days=len(days), rows=rows, seconds=round(time.perf_counter() - started, 3), scope=reach)


class _Side:
    """A whole day's second connection (a second core's worth of work): while the first counts the tests, it counts
    the other feeds, then the case windows; each result is COPY text, handed over as soon as it is ready."""

    def __init__(self, engine: Engine, day: dt.date, params: dict[str, Any], count: bool, pool: ThreadPoolExecutor):
        self.other_feeds: Future[str] = Future()
        self.case_windows: Future[str] = Future()
        self._args = (engine, day, {**params, "day": day}, count)
        pool.submit(self._run)

    def _run(self) -> None:
        engine, day, p, count = self._args
        try:
            with engine.begin() as conn:
                _day_units(conn, day, p)
                if count:
                    other_feeds = sqlfiles.compose(conn, SQL["daily_by_ancestor"], located=_located("other_feeds"))
                    self.other_feeds.set_result(read_text(conn, other_feeds, p))
                self.case_windows.set_result(read_text(conn, SQL["case_windows"], p))
        except BaseException as exc:
            for future in (self.other_feeds, self.case_windows):
                if not future.done():
                    future.set_exception(exc)


def _located(feeds: str) -> sql.Composable:
    """The located rows of "tests" or "other_feeds", as daily_by_ancestor's {located}."""
    return sqlfiles.fragment(SQL[f"located_{feeds}"])


def _changed_only(conn: Connection, has_rows: str, clause: str, params: dict[str, Any]) -> sql.Composable:
    """The ON CONFLICT clause that writes only changed rows, when the day has rows already (a first computation
    inserts without it: cheaper)."""
    return sqlfiles.fragment(SQL[clause]) if conn.exec_driver_sql(SQL[has_rows], params).scalar() else sql.SQL("")


def _count_whole_day(engine: Engine, day: dt.date, params: dict[str, Any]) -> None:
    """Count a day's events into stats.daily for every unit (a window day never counted before)."""
    with engine.begin() as conn:
        _day_units(conn, day, params)
        _count_daily(conn, day, params)


def _day_units(conn: Connection, day: dt.date, params: dict[str, Any]) -> None:
    conn.exec_driver_sql(SQL["day_units"], {**params, "day": day})


def _count_daily(
    conn: Connection, day: dt.date, params: dict[str, Any], other_feeds: Future[str] | None = None
) -> None:
    """The day's daily counts. other_feeds: the counts of the feeds besides tests, as COPY text, coming from a second
    connection; the tests are counted here meanwhile."""
    p = {**params, "day": day}
    conn.exec_driver_sql(SQL["delete_daily_gone"], p)
    changed_only = _changed_only(conn, "has_daily", "daily_changed_only", p)
    conn.exec_driver_sql(SQL["create_daily_parts"])
    for feeds in ("tests",) if other_feeds else ("tests", "other_feeds"):
        rows = sqlfiles.fragment(SQL["daily_by_ancestor"], located=_located(feeds))
        conn.exec_driver_sql(sqlfiles.compose(conn, SQL["insert_daily_parts"], rows=rows), p)
    if other_feeds:
        write_text(conn, SQL["copy_daily_parts"], other_feeds.result())
    conn.exec_driver_sql(sqlfiles.compose(conn, SQL["insert_daily_local"], changed_only=changed_only), p)
    rollup = sqlfiles.compose(conn, SQL["insert_daily_rollup"], changed_only=changed_only)
    for level in (2, 1):  # districts from their communes, then provinces from their districts
        conn.exec_driver_sql(rollup, {**p, "level": level})
    if params["scope"] is None:
        conn.exec_driver_sql(SQL["mark_refreshed"], p)


def _indicators(conn: Connection, day: dt.date, params: dict[str, Any], case_windows: Future[str] | None = None) -> int:
    """The day's indicators of out_units. case_windows: their case counts as COPY text, coming from a second
    connection; the running totals are computed here meanwhile."""
    p = {**params, "day": day}
    chained = conn.exec_driver_sql(SQL["has_indicators"], {"day": day - dt.timedelta(days=1)}).scalar()
    conn.exec_driver_sql(SQL["create_cumulative_chained" if chained else "create_cumulative_from_events"], p)
    conn.exec_driver_sql(SQL["create_case_window"])
    if case_windows is None:
        windows = sqlfiles.fragment(SQL["case_windows"])
        conn.exec_driver_sql(sqlfiles.compose(conn, SQL["insert_case_window"], case_windows=windows), p)
    else:
        write_text(conn, SQL["copy_case_window"], case_windows.result())
    conn.exec_driver_sql(SQL["delete_indicators_gone"], p)
    changed_only = _changed_only(conn, "has_indicators", "indicators_changed_only", p)
    conn.exec_driver_sql(sqlfiles.compose(conn, SQL["insert_indicators"], changed_only=changed_only), p)
    return conn.exec_driver_sql(SQL["unit_count"]).scalar_one()
