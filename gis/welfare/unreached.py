"""Nobody missed: the eligible households of a programme not reached on a day (issue 14 item 5).

`unreached(engine, programme, day, days)` decides eligibility in SQL only (the programme's conditions composed
into one set-based statement, as `eligible` does, without its per-household explanation) and keeps the households
that hold no delivery of the programme on or before the day, not reversed by then, within the last `days` days or
in the dedup period a delivery on the day would claim. Highest zone level first, then the programme's hints met,
then the vulnerability flags held, then the household id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from psycopg2 import sql
from sqlalchemy import Engine

from gis.sqlfiles import compose, fragment, load
from gis.summary import Summary
from gis.welfare.programmes import FLAGS_VI, Programme, verdict_sql

SQL = load(Path(__file__).parent / "sql" / "welfare.sql")
# Flags that make a household more vulnerable, for the list's order only (never a condition of a programme).
VULNERABILITY = ("poor", "near_poor", "elderly_alone", "disabled", "lost_income", "covid_household")


def _count_true(columns: Sequence[tuple[str, bool]], prefix: str) -> sql.Composable:
    if not columns:
        return sql.SQL("0")
    return sql.SQL(" + ").join(
        sql.SQL("({}.{} IS NOT DISTINCT FROM {})::int").format(
            sql.Identifier(prefix), sql.Identifier(flag), sql.Literal(value)
        )
        for flag, value in columns
    )


@dataclass
class UnreachedResult(Summary):
    """The eligible households of a programme not reached on a day (of one commune, or of all), in order."""

    programme: str
    day: dt.date
    days: int
    ruleset_id: str | None
    open: bool
    commune_code: str | None = None
    period_start: dt.date | None = None
    to_confirm_included: bool = False
    unreached: int = 0
    by_commune: dict[str, int] = field(default_factory=dict)
    households: list[dict] = field(default_factory=list)


def unreached(
    engine: Engine,
    programme: Programme,
    day: dt.date,
    days: int,
    commune_code: str | None = None,
    to_confirm: bool = False,
) -> UnreachedResult:
    """Households eligible for `programme` on `day` (and, with `to_confirm`, those an officer confirms) without a
    delivery of it within `days` days up to `day` or in its current dedup period (see the module docstring)."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    hints = [(c.flag, c.value) for c in programme.eligibility.hints if c.flag is not None]
    period_start = programme.period_start(day)
    params = {
        "day": day,
        "days": days,
        "programme": programme.id,
        "period_start": period_start,
        "period_from": programme.period.from_,
        "commune_code": commune_code,
        "to_confirm": to_confirm,
    }
    with engine.connect() as conn:
        statement = compose(
            conn,
            SQL["unreached"],
            decided=fragment(SQL["decided"], verdict=verdict_sql(programme, day)),
            counted=fragment(SQL["counted_delivery"]),
            reaches=fragment(SQL["reaches"]),
            hints=_count_true(hints, "d"),
            vulnerability=_count_true([(f, True) for f in VULNERABILITY], "d"),
        )
        # JIT compiled this statement's ~130 functions for 3 of its 4 s at 1 M households (benchmarks/welfare.py)
        conn.exec_driver_sql("SET LOCAL jit = off")
        ruleset = conn.exec_driver_sql(SQL["published_ruleset"]).scalar()
        cursor = conn.exec_driver_sql(statement, params)
        names = list(cursor.keys())
        rows = cursor.all()
    result = UnreachedResult(
        programme.id, day, days, ruleset, programme.is_open(day), commune_code, period_start, to_confirm
    )
    for values in rows:
        row = dict(zip(names, values))  # plain dicts: SQLAlchemy's row mappings cost a second per 180,000 rows
        result.by_commune[row["commune_code"]] = result.by_commune.get(row["commune_code"], 0) + 1
        result.households.append(
            {
                "household_id": row["household_id"],
                "area_code": row["area_code"],
                "commune_code": row["commune_code"],
                "eligible": row["verdict"],
                "zone_level": row["zone_level"],
                "members": row["members"],
                "hints_met": row["hints_met"],
                "vulnerability": row["vulnerability"],
                "flags": [f for f in FLAGS_VI if row[f]],
                "last_delivery_day": row["last_delivery_day"],
            }
        )
    result.unreached = len(result.households)
    return result
