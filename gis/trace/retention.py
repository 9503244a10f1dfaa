"""Retention of check-ins (issue 12, item 9): day partitions of events.checkins older than the retention are dropped.

The privacy promise (README, "Tracing"): who checked in where is kept `COVIDGIS_TRACE_RETENTION_DAYS` days (default
21, as the NHS COVID-19 app kept venue check-ins), counted back from today in the trace time zone; a partition whose
local day is more than that many days before today is dropped whole, never today's or a later one. What tracing
derived stays: windows, visits, exposures (they keep the check-in ids, with no foreign key to the check-ins),
contacts, locations of interest and proposals. Exposures are derived on read from the visits and the check-ins
(migration 0022), so those of a partition's check-ins are stored in trace.exposure_kept before it is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from psycopg2 import sql
from sqlalchemy import Engine

from gis.sqlfiles import compose, load
from gis.summary import Summary
from gis.trace.errors import TraceError
from gis.trace.settings import TraceSettings

log = logging.getLogger(__name__)

SQL = load(Path(__file__).parent / "sql" / "retention.sql")


@dataclass
class RetentionSummary(Summary):
    """What a retention run dropped (or would drop, dry run): the partitions and their days; what it kept."""

    today: dt.date
    retention_days: int
    oldest_kept: dt.date
    dry_run: bool
    dropped: list[str] = field(default_factory=list)
    dropped_days: list[dt.date] = field(default_factory=list)
    dropped_rows_estimate: int = 0
    kept: int = 0
    seconds: float = 0.0


def local_today(settings: TraceSettings) -> dt.date:
    """Today in the trace time zone (the day partitions are local days)."""
    return dt.datetime.now(ZoneInfo(settings.timezone)).date()


def cutoff(today: dt.date, retention_days: int) -> dt.date:
    """The oldest local day kept: today minus the retention (a partition of an earlier day is dropped)."""
    if retention_days < 0:
        raise TraceError(f"COVIDGIS_TRACE_RETENTION_DAYS must be 0 or more, not {retention_days}")
    return today - dt.timedelta(days=retention_days)


def drop_old_checkins(
    engine: Engine, settings: TraceSettings, today: dt.date, dry_run: bool = False
) -> RetentionSummary:
    """Drop the check-in day partitions older than the retention (see the module's docstring); `dry_run` lists them."""
    started = time.perf_counter()
    oldest = min(cutoff(today, settings.retention_days), today)
    summary = RetentionSummary(today, settings.retention_days, oldest, dry_run)
    kept_exposures = 0
    with engine.begin() as conn:
        conn.exec_driver_sql(SQL["lock"])
        for part in conn.exec_driver_sql(SQL["partitions"], {"tz": settings.timezone}).mappings().all():
            if part["day"] >= oldest:
                summary.kept += 1
                continue
            summary.dropped.append(f"{part['schema']}.{part['name']}")
            summary.dropped_days.append(part["day"])
            summary.dropped_rows_estimate += max(part["estimated_rows"], 0)
            if not dry_run:
                bounds = {"lower": part["lower"], "upper": part["upper"]}
                kept_exposures += conn.exec_driver_sql(SQL["keep_exposures"], bounds).rowcount
                statement = compose(
                    conn, "DROP TABLE {partition}", partition=sql.Identifier(part["schema"], part["name"])
                )
                conn.exec_driver_sql(statement)
    summary.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "check-in retention (%d days, oldest kept %s): %s %d partitions, %d kept; %d exposures stored",
        settings.retention_days,
        oldest,
        "would drop" if dry_run else "dropped",
        len(summary.dropped),
        summary.kept,
        kept_exposures,
    )
    return summary
