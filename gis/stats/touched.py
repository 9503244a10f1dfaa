"""Which days a batch changed, so the CLI and the scheduler recompute exactly those (and the days after them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine

from gis import sqlfiles
from gis.stats.settings import StatsSettings

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "touched.sql")


def days_to_recompute(engine: Engine, table: str, batch_id: int, settings: StatsSettings) -> list[dt.date]:
    """From the first day the batch touched to the last day computed (or touched), in order; [] for tables
    no indicator reads (venues, check-ins).

    Every later day is included because running totals and 14-day windows carry a change forward.
    """
    if table not in SQL:
        return []
    with engine.connect() as conn:
        first, last = conn.exec_driver_sql(SQL[table], {"batch": batch_id, "tz": settings.timezone}).one()
        last_computed = conn.exec_driver_sql(SQL["last_computed"]).scalar()
    if first is None:
        return []
    end = max(d for d in (last, last_computed) if d is not None)
    return [first + dt.timedelta(days=i) for i in range((end - first).days + 1)]
