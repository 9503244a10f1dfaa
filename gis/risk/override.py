"""The steering committee's level for an area and period (`risk.override`), and the zones of a day as decided.

An override is kept beside the computed level: `compute_zones` applies it to the days it covers, so a recompute of
those days is what makes it show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gis import sqlfiles
from gis.risk.errors import RiskError
from gis.summary import Summary

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "override.sql")


class InvalidOverride(RiskError):
    """An override the committee cannot mean: no such area, no reason or author, a period that ends before it starts."""


@dataclass
class OverrideSummary(Summary):
    """The override stored: its id and what it says."""

    id: int
    area: str
    level: int
    start: dt.date
    end: dt.date | None


def add_override(
    engine: Engine, area: str, level: int, start: dt.date, end: dt.date | None, reason: str, author: str
) -> OverrideSummary:
    """Store an area's level from `start` to `end` (open when None), with who decided it and why."""
    if not reason.strip() or not author.strip():
        raise InvalidOverride("an override needs a reason and an author")
    if end is not None and end < start:
        raise InvalidOverride(f"the override ends ({end}) before it starts ({start})")
    with engine.begin() as conn:
        if not conn.exec_driver_sql(SQL["area_exists"], {"area": area}).scalar():
            raise InvalidOverride(f"no area with code {area}")
        oid = conn.exec_driver_sql(
            SQL["add_override"],
            {"area": area, "start": start, "end": end, "level": level, "reason": reason, "author": author},
        ).scalar_one()
    return OverrideSummary(id=oid, area=area, level=level, start=start, end=end)


def zones_of_day(engine: Engine, ruleset_id: str, day: dt.date, admin_level: int) -> list[dict[str, Any]]:
    """The zones of one rule set, day and administrative level: code, name, level (and the computed one), colour,
    Vietnamese label, decisive indicators and reasons."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            SQL["zones_of_day"], {"ruleset": ruleset_id, "day": day, "admin_level": admin_level}
        ).mappings()
        return [dict(r) for r in rows]
