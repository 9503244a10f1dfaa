"""One file through one feed as one batch: COPY to staging, validate, locate, merge, reject — one transaction."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg2.errors
from psycopg2.extras import Json
from sqlalchemy import Engine, PoolProxiedConnection

from gis.ingest.errors import UnusableFileError
from gis.ingest.feeds import Feed
from gis.ingest.pseudonym import Pseudonymiser
from gis.ingest.read import Source, csv_problem, open_source
from gis.ingest.settings import IngestSettings
from gis.ingest.statements import FeedSql, statement
from gis.ingest.transform import Records, plan, records
from gis.sqlfiles import load
from gis.summary import Summary

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total) in the source's units


@dataclass
class BatchSummary(Summary):
    """What became of a file's rows; rows = accepted + corrections + duplicates + rejected."""

    feed: str
    batch_id: int
    file: str
    sha256: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    corrections: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step of the batch (copy, validate, …)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file, read in chunks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise UnusableFileError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
    return digest.hexdigest()


class CopyStream:
    """What psycopg2's copy_expert reads: the staging records as COPY text, produced on demand while COPY reads
    (never the whole file): each read() hands over the next CHUNK_LINES records joined into one string (~3 MB)."""

    CHUNK_LINES = 20_000

    def __init__(self, lines: Records, source: Source, progress: Progress | None):
        self.lines = lines
        self._records = iter(lines)
        self._source = source
        self._progress = progress
        self.error: Exception | None = None  # why reading stopped (psycopg2 reports it only as a cancelled COPY)

    def read(self, size: int = -1) -> str:
        try:
            chunk = list(islice(self._records, self.CHUNK_LINES))
        except Exception as exc:
            self.error = exc
            raise
        if self._progress:
            self._progress(self._source.done(), self._source.total)
        if not chunk:
            return ""
        chunk.append("")
        return "\n".join(chunk)

    readline = read


def ingest_file(
    engine: Engine,
    feed: Feed,
    path: Path,
    pseudonymiser: Pseudonymiser,
    settings: IngestSettings,
    progress: Progress | None = None,
) -> BatchSummary:
    """Ingest path as one batch of feed. UnusableFileError (and nothing written) when the file cannot be used."""
    started = time.perf_counter()
    sha256 = file_sha256(path)
    hashed = time.perf_counter() - started
    with open_source(path, feed) as source:
        plan(feed, source.header, path.name)  # required columns present, before anything is written
        lines = records(feed, source.header, source.rows(), pseudonymiser, path.name, source.width)
        summary = _run_batch(engine, feed, path, sha256, CopyStream(lines, source, progress), settings)
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.phases = {"file_sha256": round(hashed, 3), **summary.phases}
    log.info(
        "%s: batch %s — %s rows: %s new, %s corrections, %s duplicates, %s rejected (%.1f s)",
        path.name,
        summary.batch_id,
        summary.rows,
        summary.accepted,
        summary.corrections,
        summary.duplicates,
        summary.rejected,
        summary.seconds,
    )
    return summary


def _run_batch(
    engine: Engine, feed: Feed, path: Path, sha256: str, stream: CopyStream, settings: IngestSettings
) -> BatchSummary:
    """The batch transaction: everything or nothing is written."""
    q = FeedSql(feed, settings.future_slack_minutes)
    tolerance = {"tolerance_m": settings.snap_tolerance_m, "tolerance_deg": settings.snap_tolerance_m / 100_000}
    phases: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        phases[name] = round(now - clock[0], 3)
        clock[0] = now

    conn = engine.raw_connection()
    try:
        with _cursor(conn) as cur:
            cur.execute(statement("stage", "prepare"))
            cur.execute(statement("batch", "open_batch"), {"feed": feed.name, "file_name": path.name, "sha256": sha256})
            batch_id = cur.fetchone()[0]
            ids = {"batch_id": batch_id, "feed": feed.name}
            cur.execute(q.create_stage())
            try:
                cur.copy_expert(q.copy_stage().as_string(cur), stream, size=1 << 20)
            except psycopg2.errors.QueryCanceled:
                _raise_read_error(stream, feed, path)
                raise
            lap("read_and_copy")
            cur.execute(statement("stage", "create_work"))
            cur.execute(q.insert_problems())
            lap("validate")
            for stmt in q.locate():
                cur.execute(stmt, tolerance)
            lap("locate")
            if not stream.lines.keys_increasing:  # else no two rows share a key: nothing to look for
                cur.execute(q.check_duplicate_keys())
            lap("duplicate_keys")
            if feed.checks:  # the feed's own cross-row checks (Feed.check_files): rejects into `problem`
                params = {"tz": feed.timezone, "feed": feed.name, "batch_id": batch_id}
                for check in feed.check_files():
                    for stmt in load(check).values():
                        cur.execute(stmt, params)
                lap("feed_checks")
            cur.execute(statement("batch", "counts"))
            rows_read, rejected, by_reason = cur.fetchone()
            good = rows_read - rejected
            if feed.partition_by_day and good:
                cur.execute(q.partition_days(), {"tz": feed.timezone})
                for day, lower, upper in cur.fetchall():
                    cur.execute(q.create_partition(day), {"lower": lower, "upper": upper})
            accepted = corrections = 0
            if good:
                accepted = _insert_new(cur, q, ids)
            lap("insert")
            if accepted < good:  # some keys are stored already: duplicates, or corrections when the content differs
                cur.execute(q.create_changed())
                cur.execute(q.audit_corrections(), ids)
                cur.execute(q.update_corrections(), ids)
                corrections = cur.rowcount
                lap("corrections")
            if rejected:
                cur.execute(statement("batch", "insert_rejects"), {"batch_id": batch_id, "file_name": path.name})
                lap("rejects")
            summary = BatchSummary(
                feed=feed.name,
                batch_id=batch_id,
                file=path.name,
                sha256=sha256,
                rows=rows_read,
                accepted=accepted,
                rejected=rejected,
                duplicates=good - accepted - corrections,
                corrections=corrections,
                rejected_by_reason=dict(sorted(by_reason.items())),
            )
            cur.execute(
                statement("batch", "close_batch"),
                {
                    "accepted": summary.accepted,
                    "rejected": summary.rejected,
                    "duplicates": summary.duplicates,
                    "corrections": summary.corrections,
                    "rows_read": rows_read,
                    "batch_id": batch_id,
                    "by_reason": Json(summary.rejected_by_reason),
                },
            )
            if settings.test_merge_delay_s > 0:
                cur.execute(statement("merge", "test_delay"), {"seconds": settings.test_merge_delay_s})
        conn.commit()
        lap("commit")
        summary.phases = phases
        return summary
    except BaseException:
        if _cursor_closed(conn):  # the server went away: the pool must not reuse this connection
            conn.invalidate()
        else:
            conn.rollback()
        raise
    finally:
        conn.close()


def _cursor(conn: PoolProxiedConnection) -> Any:
    """A psycopg2 cursor on the pooled connection (the engine's driver): COPY is psycopg2's (copy_expert)."""
    driver = conn.driver_connection
    assert driver is not None, "a connection checked out of the pool has its driver connection"
    return driver.cursor()


def _cursor_closed(conn: PoolProxiedConnection) -> bool:
    """Whether the server went away under the connection (then it must not go back to the pool)."""
    return conn.driver_connection is None or bool(conn.driver_connection.closed)


def _insert_new(cur: Any, q: FeedSql, ids: dict[str, Any]) -> int:
    """Insert the good rows whose key is new; how many. All of them new (the common case): one plain insert."""
    cur.execute("SAVEPOINT new_rows")
    try:
        cur.execute(q.insert_new(skip_stored=False), ids)
    except psycopg2.errors.UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT new_rows")
        cur.execute(q.insert_new(), ids)
        return cur.rowcount
    inserted = cur.rowcount
    cur.execute("RELEASE SAVEPOINT new_rows")
    return inserted


def _raise_read_error(stream: CopyStream, feed: Feed, path: Path) -> None:
    """Turn the reader's error behind a cancelled COPY into the user error it is, naming the row: rows are
    numbered one after another, so the reader stopped in the row after the last one it read whole."""
    exc = stream.error
    last = stream.lines.last_row
    after = f"after row {last}" if last else "after the header"
    if isinstance(exc, UnicodeDecodeError):
        raise UnusableFileError(
            f"{path.name}: not {feed.encoding} text {after}; the feed {feed.name!r} declares "
            f"encoding {feed.encoding}: re-export the file as {feed.encoding}"
        ) from exc
    if isinstance(exc, csv.Error):
        raise UnusableFileError(f"{path.name}: row {(last or 1) + 1}: {csv_problem(exc, feed.delimiter)}") from exc
    if exc is not None:
        raise exc


def batch_rejects(engine: Engine, batch_id: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A batch's lineage row and its rejects in row order."""
    conn = engine.raw_connection()
    try:
        with _cursor(conn) as cur:
            cur.execute(statement("batch", "batch"), {"batch_id": batch_id})
            row = cur.fetchone()
            batch = dict(zip([d.name for d in cur.description], row)) if row else None
            cur.execute(statement("batch", "batch_rejects"), {"batch_id": batch_id})
            names = [d.name for d in cur.description]
            rejects = [dict(zip(names, r)) for r in cur.fetchall()]
        conn.rollback()
        return batch, rejects
    finally:
        conn.close()


def dumps(obj: object) -> str:
    """JSON for the CLI (dates as ISO strings)."""
    return json.dumps(obj, ensure_ascii=False, default=str)
