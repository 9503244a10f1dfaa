"""The data version (zone snapshot, boundary load, facility batch): the one reader of `pub.data_version`.

The HTTP cache (ETags, the response cache), the map's API (what it keeps per version) and the feature provider
(counts and page positions per version) all key on it. Each reads through a DataVersion, which asks the database at
most once per ttl, one reader at a time, so a recompute shows within about a second everywhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine

from gis import sqlfiles

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "serve.sql")
NEVER_CHANGED = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)  # Last-Modified before any data was loaded


@dataclass(frozen=True)
class Version:
    """What the published data is at: each change marker (0 before the first), their tag and when they last moved."""

    zones: int
    boundaries: int
    facilities: int
    changed_at: dt.datetime | None
    trace: int = 0  # the last trace run (locations of interest)

    @cached_property
    def tag(self) -> str:
        return f"z{self.zones}.b{self.boundaries}.f{self.facilities}.t{self.trace}"

    @cached_property
    def last_modified(self) -> str:
        """`changed_at` as an HTTP date."""
        return email.utils.format_datetime((self.changed_at or NEVER_CHANGED).astimezone(dt.UTC), usegmt=True)


class DataVersion:
    """The current data version, read from pub.data_version at most once per ttl (one reader at a time)."""

    def __init__(self, engine: Engine, ttl_seconds: float):
        self.engine = engine
        self.ttl = ttl_seconds
        self._value: Version | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def read(self) -> Version:
        """The version as the database has it now."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(SQL["data_version"]).mappings().one()
        return Version(
            row["zones"] or 0, row["boundaries"] or 0, row["facilities"] or 0, row["changed_at"], row["trace"] or 0
        )

    def _fresh(self) -> Version | None:
        if self._value is not None and time.monotonic() - self._read_at < self.ttl:
            return self._value
        return None

    def current(self) -> Version:
        """The version, read again once the ttl has passed (blocking: threads and sync routes call it)."""
        value = self._fresh()
        if value is not None:
            return value
        if self._value is not None and self._lock.locked():
            return self._value  # someone is refreshing: the previous value is at most a moment old
        with self._lock:
            value = self._fresh()
            if value is None:
                value = self.read()
                self._value, self._read_at = value, time.monotonic()
            return value

    async def get(self) -> Version:
        """`current()` for the event loop: a fresh memo without a thread, a read in one."""
        value = self._fresh()
        return value if value is not None else await asyncio.to_thread(self.current)
