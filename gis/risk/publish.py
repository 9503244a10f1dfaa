"""Which rule set the public zones show and below which count a number is suppressed (`risk.published`).

Written by `covidgis zones publish` (and `covidgis demo`), never by the server: serving only reads. A change is a
new snapshot, so every cache (ETags, the server's response cache, the map's) turns over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from gis import sqlfiles
from gis.risk.changes import record_changes
from gis.summary import Summary

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "publish.sql")
BUMP_SNAPSHOT = sqlfiles.load(Path(__file__).parent / "sql" / "zones.sql")["bump_snapshot"]  # as a recompute does


@dataclass
class PublishSummary(Summary):
    """What the public zones show now; `snapshot_version` is the new snapshot when that changed, else None."""

    ruleset: str
    suppress_below: int
    snapshot_version: int | None = None


@dataclass
class Published:
    """The row of `risk.published`."""

    ruleset_id: str
    suppress_below: int
    changed_at: dt.datetime


def publish(engine: Engine, ruleset_id: str, suppress_below: int) -> PublishSummary:
    """Show `ruleset_id`'s zones publicly with counts under `suppress_below` suppressed; idempotent."""
    with engine.begin() as conn:
        changed = conn.exec_driver_sql(
            SQL["publish"], {"ruleset": ruleset_id, "suppress_below": suppress_below}
        ).first()
        version = conn.exec_driver_sql(BUMP_SNAPSHOT).scalar_one() if changed else None
        if version is not None:  # another rule set or threshold: the public zones' levels may all change
            record_changes(conn, version)  # pruned by the next recompute
    return PublishSummary(ruleset=ruleset_id, suppress_below=suppress_below, snapshot_version=version)


def published(engine: Engine) -> Published | None:
    """What the public zones show, or None when nothing was ever published."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(SQL["published"]).mappings().first()
    return Published(**row) if row else None
