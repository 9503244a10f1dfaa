"""Daily indicators per area, one day at a time in date order (running totals continue from the day before)."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

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
    params = {
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
    if communes is not None:
        with engine.connect() as conn:
            reach = conn.exec_driver_sql(SQL["scope_of_communes"], {"communes": communes}).scalar() or []
        scoped = {**params, "scope": reach, "communes": list(communes)}
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
        count = refresh_daily or day in never_counted
        with ThreadPoolExecutor(1) as pool:
            side = _Side(engine, day, p, count, pool) if whole and settings.workers > 1 else None
            with engine.begin() as conn:  # one transaction a day: its temporary units, daily counts, indicators
                _day_units(conn, day, p)
                if count:
                    _count_daily(conn, day, p, side.other_feeds if side else None)
                rows += _indicators(conn, day, p, side.case_windows if side else None)
    return IndicatorSummary(
        days=len(days), rows=rows, seconds=round(time.perf_counter() - started, 3), scope=scoped["scope"]
    )


class _Side:
    """A whole day's second connection (a second core's worth of work): while the first counts the tests, it counts
    the other feeds, then the case windows; each result is COPY text, handed over as soon as it is ready."""

    def __init__(self, engine: Engine, day: dt.date, params: dict, count: bool, pool: ThreadPoolExecutor):
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
                    self.other_feeds.set_result(read_text(conn, _by_ancestor(SQL["located_other_feeds"]), p))
                self.case_windows.set_result(read_text(conn, SQL["case_windows"], p))
        except BaseException as exc:
            for future in (self.other_feeds, self.case_windows):
                if not future.done():
                    future.set_exception(exc)


def _statement(name: str, then: str) -> str:
    """A named INSERT with a clause appended (ON CONFLICT …)."""
    return SQL[name].rstrip().rstrip(";") + then


def _by_ancestor(located: str) -> str:
    return SQL["daily_by_ancestor"].replace("{located}", located)


def _count_whole_day(engine: Engine, day: dt.date, params: dict) -> None:
    """Count a day's events into stats.daily for every unit (a window day never counted before)."""
    with engine.begin() as conn:
        _day_units(conn, day, params)
        _count_daily(conn, day, params)


def _day_units(conn, day: dt.date, params: dict) -> None:
    conn.exec_driver_sql(SQL["day_units"], {**params, "day": day})


def _count_daily(conn, day: dt.date, params: dict, other_feeds: Future[str] | None = None) -> None:
    """The day's daily counts. other_feeds: the counts of the feeds besides tests, as COPY text, coming from a second
    connection; the tests are counted here meanwhile."""
    p = {**params, "day": day}
    conn.exec_driver_sql(SQL["delete_daily_gone"], p)
    upsert = " " + SQL["daily_changed_only"] if conn.exec_driver_sql(SQL["has_daily"], p).scalar() else ""
    if other_feeds is None:
        parts = _by_ancestor(f"{SQL['located_tests']} UNION ALL {SQL['located_other_feeds']}")
    else:
        conn.exec_driver_sql(f"CREATE TEMP TABLE tests_daily ON COMMIT DROP AS {_by_ancestor(SQL['located_tests'])}", p)
        conn.exec_driver_sql(SQL["create_side_daily"])
        write_text(conn, "side_daily", other_feeds.result())
        parts = "SELECT * FROM tests_daily UNION ALL SELECT * FROM side_daily"
    conn.exec_driver_sql(_statement("insert_daily_local", upsert).replace("{parts}", parts), p)
    for level in (2, 1):  # districts from their communes, then provinces from their districts
        conn.exec_driver_sql(_statement("insert_daily_rollup", upsert), {**p, "level": level})
    if params["scope"] is None:
        conn.exec_driver_sql(SQL["mark_refreshed"], p)


def _indicators(conn, day: dt.date, params: dict, case_windows: Future[str] | None = None) -> int:
    """The day's indicators of out_units. case_windows: their case counts as COPY text, coming from a second
    connection; the running totals are computed here meanwhile."""
    p = {**params, "day": day}
    chained = conn.exec_driver_sql(SQL["has_indicators"], {"day": day - dt.timedelta(days=1)}).scalar()
    cumulative = SQL["cumulative_chained"] if chained else SQL["cumulative_from_events"]
    conn.exec_driver_sql(f"CREATE TEMP TABLE cumulative ON COMMIT DROP AS {cumulative}", p)
    conn.exec_driver_sql(SQL["create_case_window"])
    if case_windows is None:
        conn.exec_driver_sql("INSERT INTO case_window " + SQL["case_windows"], p)
    else:
        write_text(conn, "case_window", case_windows.result())
    conn.exec_driver_sql(SQL["delete_indicators_gone"], p)
    upsert = " " + SQL["indicators_changed_only"] if conn.exec_driver_sql(SQL["has_indicators"], p).scalar() else ""
    conn.exec_driver_sql(_statement("insert_indicators", upsert), p)
    return conn.exec_driver_sql(SQL["unit_count"]).scalar_one()
