"""The change feed of the public zones (per snapshot version, the codes whose public level or colour changed), and the
stored masked numbers of the current public zones (`store_current`, migration 0012).

Recorded in the transaction that bumps risk.snapshot (`compute_zones`, `publish`), so a version and its changes
commit together; read by the zones collection's `changed-since=V` (gis/serve/provider.py, layers/_zone_changes.sql).
Bounded: the changes of the last `keep` versions are kept (COVIDGIS_RISK_CHANGES_KEEP_VERSIONS); older versions
answer 410.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Connection

from gis import sqlfiles

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "changes.sql")
CURRENT_SQL = sqlfiles.load(Path(__file__).parent / "sql" / "current.sql")
DEFAULT_KEEP_VERSIONS = 500


def record_changes(
    conn: Connection, version: int, keep: int | None = None, computed: tuple[str, dt.date] | None = None
) -> int:
    """Log under `version` the public zones whose (level, colour) changed since the last record and store their masked
    numbers (`store_current`); then, with `keep`, drop the changes of versions older than the last `keep`. Returns
    how many codes changed.

    computed: (rule set, day) when the version is a recompute of that day only: unless it is what the public zones
    show, nothing public changed and the diff is skipped."""
    changed = 0
    if (
        computed is None
        or conn.exec_driver_sql(SQL["shows_current"], {"ruleset": computed[0], "day": computed[1]}).scalar_one()
    ):
        changed = int(conn.exec_driver_sql(SQL["record_changes"], {"version": version}).scalar_one())
        store_current(conn)  # the public zones' masked numbers, for the same snapshot
    if keep is not None:
        conn.exec_driver_sql(SQL["prune_changes"], {"version": version, "keep": keep})
    return changed


def store_current(conn: Connection) -> int:
    """Store the masked numbers of the public current zones whose zone, indicator row or published rule set changed
    since they were stored (risk.zone_current, read by pub.zones); in the transaction that bumps risk.snapshot, so
    a snapshot and its stored numbers commit together. Returns how many zones were computed."""
    return int(conn.exec_driver_sql(CURRENT_SQL["store_current"]).one()[0])


def feed_state(conn: Connection) -> tuple[int, int]:
    """(oldest version the feed answers, current snapshot version)."""
    row = conn.exec_driver_sql(SQL["feed_state"]).one()
    return int(row[0]), int(row[1])
