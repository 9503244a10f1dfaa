"""Coverage per hamlet and programme (issue 14 item 5): what the public layer `welfare-coverage` shows, banded.

`refresh_coverage(engine, day, days)` computes, for every shipped programme whose period has begun by `day`,
per hamlet: households, eligible (verdict true), to confirm, reached (eligible and reached by the not-yet-reached
list's rule, gis/welfare/unreached.py: eligible − reached is that list's length), delivered (households holding a
delivery of the programme in its period up to the day) and the cash delivered, into `welfare.coverage` (exact
counts; the public view suppresses and bands them, layers/welfare-coverage.sql). A programme whose period ended is
counted on its last day. All programmes are replaced in one transaction: the layer never shows half a refresh.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from gis.sqlfiles import compose, fragment, load
from gis.summary import Summary
from gis.welfare.programmes import Programme, load_programmes, verdict_sql

SQL = load(Path(__file__).parent / "sql" / "welfare.sql")


@dataclass
class CoverageSummary(Summary):
    """What a refresh of welfare.coverage counted, per programme (province totals; exact: not for publication)."""

    day: dt.date
    days: int
    programmes: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not begun by the day, or opening later


def refresh_coverage(
    engine: Engine, day: dt.date, days: int, programmes: list[Programme] | None = None
) -> CoverageSummary:
    """Replace welfare.coverage with the coverage of each programme (default: every shipped one) on `day`."""
    summary = CoverageSummary(day, days)
    chosen = programmes if programmes is not None else load_programmes()
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL jit = off")  # compiling took longer than running (gis/welfare/unreached.py)
        for programme in chosen:
            counted_on = min(day, programme.period.to)
            conn.exec_driver_sql(SQL["coverage_clear"], {"programme": programme.id})
            if not programme.is_open(counted_on):
                summary.skipped.append(programme.id)
                continue
            statement = compose(
                conn,
                SQL["coverage"],
                decided=fragment(SQL["decided"], verdict=verdict_sql(programme, counted_on)),
                counted=fragment(SQL["counted_delivery"]),
                reaches=fragment(SQL["reaches"]),
            )
            params = {
                "programme": programme.id,
                "title_vi": programme.title_vi,
                "title_en": programme.title_en,
                "day": counted_on,
                "days": days,
                "period_start": programme.period_start(counted_on),
                "period_from": programme.period.from_,
                "commune_code": None,
            }
            hamlets = conn.exec_driver_sql(statement, params).rowcount
            totals = conn.exec_driver_sql(SQL["coverage_totals"], {"programme": programme.id}).mappings().one()
            summary.programmes.append({"programme": programme.id, "day": counted_on, "hamlets": hamlets, **totals})
    return summary
