"""What the coordinator page `/care` shows: the open and accepted transfer requests with their offers and KPIs
(gis/care/transfers.py's `transfers`), each with its person key, the facilities' names and the minutes it has
waited; and every facility's occupancy now (people from the replay's present, promises of accepted requests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from gis.care.settings import CareSettings
from gis.care.transfers import transfers
from gis.sqlfiles import load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "board.sql")


@dataclass
class Board(Summary):
    """Open and accepted requests (open ones with up to 5 offers, nearest first) and the KPIs by tier."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)


def board(engine: Engine, settings: CareSettings) -> Board:
    """The requests still waiting for a bed (open) or a placement (accepted), oldest first, and the KPIs."""
    listed = transfers(engine, settings, open_only=True)
    ids = [r["request_id"] for r in listed.requests]
    with engine.connect() as conn:
        people = {
            r["request_id"]: dict(r) for r in conn.exec_driver_sql(SQL["request_people"], {"ids": ids}).mappings()
        }
    requests = []
    for r in listed.requests:
        extra = people.get(r["request_id"], {})
        requests.append(
            {
                **r,
                "person_key": extra.get("person_key"),
                "from_name": extra.get("from_name"),
                "to_name": extra.get("to_name"),
                "waiting_minutes": extra.get("waiting_minutes"),
                "offers": r.get("offers", []),
            }
        )
    return Board(requests=requests, kpis=listed.kpis)


def request_exists(engine: Engine, request_id: int) -> bool:
    with engine.connect() as conn:
        return conn.exec_driver_sql(SQL["request_exists"], {"request_id": request_id}).first() is not None


@dataclass
class FacilitiesNow(Summary):
    """Occupancy now per facility with registered rooms: beds, staffed beds, people, promised and free staffed beds."""

    facilities: list[dict[str, Any]] = field(default_factory=list)


def facilities_now(engine: Engine) -> FacilitiesNow:
    with engine.connect() as conn:
        return FacilitiesNow(facilities=[dict(r) for r in conn.exec_driver_sql(SQL["facilities_now"]).mappings()])
