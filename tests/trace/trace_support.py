"""Seeding events rows for trace scenarios directly (partitions made as gis/ingest/sql/merge.sql makes them)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EMPTY = (
    "TRUNCATE events.cases, events.venues, events.checkins, events.quarantine_stays, trace.case_window, trace.visit, "
    "trace.exposure_kept, trace.location, trace.run, trace.notification"
)


def local(day: str, hhmm: str) -> dt.datetime:
    """A local (Asia/Ho_Chi_Minh) instant: local('2021-07-19', '10:00')."""
    return dt.datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=TZ)


def empty(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(EMPTY))


def add_case(engine: Engine, case_id: str, person: str, detected_on: str, status: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events.cases (case_id, person_key, detected_on, status, batch_id, row_hash) "
                "VALUES (:c, :p, :d, :s, 0, 'seed') ON CONFLICT (case_id) DO UPDATE SET "
                "person_key = excluded.person_key, detected_on = excluded.detected_on, status = excluded.status"
            ),
            {"c": case_id, "p": person, "d": dt.date.fromisoformat(detected_on), "s": status},
        )


def add_venue(engine: Engine, venue_id: str, kind: str | None, batch_id: int = 0) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events.venues (venue_id, name, kind, batch_id, row_hash) "
                "VALUES (:v, :n, :k, :b, 'seed') ON CONFLICT (venue_id) DO UPDATE SET kind = excluded.kind, "
                "batch_id = excluded.batch_id"
            ),
            {"v": venue_id, "n": f"Địa điểm {venue_id}", "k": kind, "b": batch_id},
        )


def add_checkins(engine: Engine, rows: list[tuple[str, str, dt.datetime]], batch_id: int = 0) -> list[str]:
    """Check-ins (person, venue, instant); ids are person-venue-HHMM. Day partitions made as the ingest merge does."""
    ids = []
    with engine.begin() as conn:
        for person, venue, at in rows:
            day = at.astimezone(TZ).date()
            lower = dt.datetime.combine(day, dt.time(), TZ)
            upper = lower + dt.timedelta(days=1)
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS events.checkins_{day:%Y%m%d} PARTITION OF events.checkins "
                "FOR VALUES FROM (%(lower)s) TO (%(upper)s)",
                {"lower": lower, "upper": upper},
            )
            checkin_id = f"{person}-{venue}-{at.astimezone(TZ):%m%d%H%M}"
            conn.execute(
                text(
                    "INSERT INTO events.checkins (checkin_id, checked_in_at, person_key, venue_id, batch_id, row_hash)"
                    " VALUES (:i, :t, :p, :v, :b, 'seed')"
                ),
                {"i": checkin_id, "t": at, "p": person, "v": venue, "b": batch_id},
            )
            ids.append(checkin_id)
    return ids


def exposures(engine: Engine, case_id: str | None = None) -> set[tuple[str, str, str]]:
    """(case_id, contact person, risk) of every exposure (of one case)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT case_id, person_key, risk FROM trace.exposure WHERE :c IS NULL OR case_id = CAST(:c AS text)"),
            {"c": case_id},
        ).all()
    return {(r.case_id, r.person_key, r.risk) for r in rows}


def contacts_of(engine: Engine, case_id: str) -> set[str]:
    return {person for _, person, _ in exposures(engine, case_id)}


def location(engine: Engine, venue_id: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM trace.location WHERE venue_id = :v"), {"v": venue_id}).mappings().all()
