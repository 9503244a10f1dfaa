"""Which days a batch changed, so the CLI and the scheduler recompute exactly those (and the days after them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from psycopg2 import sql
from sqlalchemy import Engine

from gis import sqlfiles
from gis.stats.settings import StatsSettings

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "touched.sql")


# Event tables whose rows carry a commune: a batch of them changes only those communes and the units above.
LOCAL_TABLES = {"cases", "tests", "vaccinations", "quarantine_stays"}


def days_to_recompute(
    engine: Engine, table: str, batch_id: int, settings: StatsSettings
) -> tuple[list[dt.date], list[str] | None]:
    """The days to recompute after a batch, in order, and the communes it changed (None: possibly all).

    Days run from the first day the batch touched to the last day computed (or touched): running totals and
    14-day windows carry a change forward. No days for tables no indicator reads (venues, check-ins).
    """
    if table not in SQL:
        return [], None
    with engine.connect() as conn:
        first, last = conn.exec_driver_sql(SQL[table], {"batch": batch_id, "tz": settings.timezone}).one()
        last_computed = conn.exec_driver_sql(SQL["last_computed"]).scalar()
        communes = None
        if table in LOCAL_TABLES:
            communes_of_batch = sqlfiles.compose(conn, SQL["communes"], table=sql.Identifier("events", table))
            communes = conn.exec_driver_sql(communes_of_batch, {"batch": batch_id}).scalar() or []
    if first is None:
        return [], None
    end = max(d for d in (last, last_computed) if d is not None)
    return [first + dt.timedelta(days=i) for i in range((end - first).days + 1)], communes
