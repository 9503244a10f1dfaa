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


@dataclass
class ProposedOverride:
    """What a narrow-lockdown proposal (trace.proposal) fills in an override: its area, first day and reason."""

    proposal_id: str
    area: str
    day: dt.date
    reason: str


def proposed_override(engine: Engine, proposal_id: str) -> ProposedOverride:
    """The area, day and a reason from a stored proposal (`covidgis trace proposals`). The reason goes with the zone
    to the public layers, so it names the proposal and the criteria met, never venues or counts."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(SQL["proposal"], {"proposal": proposal_id}).mappings().one_or_none()
    if row is None:
        raise InvalidOverride(f"no proposal {proposal_id!r} in trace.proposal: `covidgis trace proposals --date D`")
    if row["withdrawn_at"] is not None:
        raise InvalidOverride(
            f"proposal {proposal_id!r} was withdrawn at {row['withdrawn_at'].isoformat()}: "
            "the trace no longer supports it"
        )
    criteria = "; ".join(row["criteria"])
    reason = (
        f"Phong tỏa hẹp theo đề xuất truy vết {proposal_id} ({criteria}) / "
        f"narrow lockdown as proposed by tracing, {proposal_id} ({criteria})"
    )
    return ProposedOverride(proposal_id, row["area_code"], row["day"], reason)


def zones_of_day(engine: Engine, ruleset_id: str, day: dt.date, admin_level: int) -> list[dict[str, Any]]:
    """The zones of one rule set, day and administrative level: code, name, level (and the computed one), colour,
    Vietnamese label, decisive indicators and reasons."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            SQL["zones_of_day"], {"ruleset": ruleset_id, "day": day, "admin_level": admin_level}
        ).mappings()
        return [dict(r) for r in rows]
