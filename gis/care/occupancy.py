"""Occupancy of rooms, facilities, tiers and communes as the replay of admissions, live or at the end of a past day.

Nothing here counts people in Python: care.stay (migration 0013) replays each person's events with a window
function, and sql/occupancy.sql counts the stays open at one instant per room, once per call, into a temporary
table; facilities, tiers and communes are sums of those rooms. The facilities feed's typed-in `occupied` is kept
as `reported_occupied`; where it differs from the replay, the difference is a finding.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from gis.sqlfiles import load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "occupancy.sql")


@dataclass
class Occupancy(Summary):
    """Occupancy at one instant: every room, facility, tier (kind and tier) and commune, and the findings."""

    at: dt.datetime
    day: dt.date | None  # the day whose end `at` is, when asked for a day
    facility: str | None
    rooms: list[dict[str, Any]] = field(default_factory=list)
    facilities: list[dict[str, Any]] = field(default_factory=list)
    tiers: list[dict[str, Any]] = field(default_factory=list)
    communes: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def end_of_day(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a local day ends (the next day's 00:00 in the time zone): a day's occupancy is the state then."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))


def occupancy(
    engine: Engine, at: dt.datetime | None = None, facility: str | None = None, day: dt.date | None = None
) -> Occupancy:
    """Occupancy at `at` (default: now, live), of one facility or all; `day` only labels the result."""
    started = time.perf_counter()
    with engine.begin() as conn:  # one snapshot; the temporary tables go with it
        if at is None:
            at = conn.exec_driver_sql("SELECT now()").scalar_one()
        params = {"at": at, "facility": facility}
        conn.exec_driver_sql(SQL["stays_at"], params)
        conn.exec_driver_sql(SQL["per_room"], params)
        conn.exec_driver_sql(SQL["per_facility"])
        result = Occupancy(
            at=at,
            day=day,
            facility=facility,
            rooms=_rows(conn, SQL["rooms"]),
            facilities=_rows(conn, SQL["facilities"]),
            tiers=_rows(conn, SQL["tiers"]),
            communes=_rows(conn, SQL["communes"]),
        )
        doubles = _rows(conn, SQL["double_admissions"])
    result.findings = findings(result, doubles)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _rows(conn: Connection, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.exec_driver_sql(statement, params).mappings()]


def findings(result: Occupancy, doubles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Data-quality findings of the instant: the reported occupancy differs from the replay, a room holds more
    people than it has staffed beds, people in rooms the registry does not know, an admit while admitted."""
    found: list[dict[str, Any]] = []
    for f in result.facilities:
        if f["reported_occupied"] is not None and f["reported_difference"] != 0:
            found.append(
                {
                    "finding": "reported_occupancy_differs",
                    "facility_id": f["facility_id"],
                    "occupied": f["occupied"],
                    "reported_occupied": f["reported_occupied"],
                    "difference": f["reported_difference"],
                }
            )
        if f["outside_registered_rooms"]:
            found.append(
                {
                    "finding": "stays_outside_registered_rooms",
                    "facility_id": f["facility_id"],
                    "occupied": f["outside_registered_rooms"],
                }
            )
    for r in result.rooms:
        if r["registered"] and r["staffed_beds"] is not None and r["occupied"] > r["staffed_beds"]:
            found.append(
                {
                    "finding": "over_staffed_beds",
                    "facility_id": r["facility_id"],
                    "room_id": r["room_id"],
                    "occupied": r["occupied"],
                    "staffed_beds": r["staffed_beds"],
                }
            )
    for d in doubles:
        found.append(
            {
                "finding": "admit_while_admitted",
                "facility_id": d["facility_id"],
                "room_id": d["room_id"],
                "event_id": d["event_id"],
                "closed_by_event_id": d["closed_by_event_id"],
                "at": d["to_at"],
            }
        )
    return found
