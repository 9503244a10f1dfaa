"""The ingest scheduler: per feed, pull its URL (if any) into its drop folder and ingest new files there.

APScheduler keeps its jobs in PostgreSQL (ingest.scheduler_job, made by the Alembic migration); each feed has one
job with max_instances=1, so a feed's files are never ingested by two runs at once. A run that loses the database
(restart, network) is retried with exponential back-off; a batch is one transaction, so a retried file is either
wholly in or wholly out, and re-ingesting a committed one only finds duplicates.
"""

from __future__ import annotations

import logging
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import psycopg2
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from gis.db.engine import start_database
from gis.ingest.errors import UnusableFileError
from gis.ingest.feeds import Feed, feed_names, load_feed
from gis.ingest.pipeline import ingest_file
from gis.ingest.pseudonym import Pseudonymiser, load_secret
from gis.ingest.settings import IngestSettings
from gis.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE = (OperationalError, psycopg2.OperationalError, urllib.error.URLError, ConnectionError)
JOB_TABLE = "scheduler_job"


def with_retries(run: Callable[[], T], settings: IngestSettings) -> T:
    """run(), again after 1×, 2×, 4×… the back-off when the database or the network drops; then give up."""
    for attempt in range(settings.retries + 1):
        try:
            return run()
        except RETRYABLE as exc:
            if attempt == settings.retries:
                raise
            wait = settings.retry_backoff_s * 2 ** attempt
            log.warning("connection lost (%s); retry %d of %d in %.0f s", str(exc).strip().splitlines()[0],
                        attempt + 1, settings.retries, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def _pull(feed: Feed, folder: Path) -> None:
    """Download the feed's URL into its drop folder (written aside, then renamed: never half a file)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = folder / f"{feed.name}-{stamp}.{feed.format}"
    partial = folder / ".partial" / target.name
    partial.parent.mkdir(exist_ok=True)
    with urllib.request.urlopen(feed.schedule.url, timeout=60) as response, open(partial, "wb") as f:
        shutil.copyfileobj(response, f)
    partial.rename(target)


AfterBatch = Callable[[Engine, str, int], dict | None]  # (engine, event table, batch id): what the caller composes


def poll_feed(name: str, settings: Settings, ingest_settings: IngestSettings,
              after_batch: AfterBatch | None = None) -> list[dict]:
    """One run of a feed's job: pull, then ingest each new file and move it to done/ (or failed/ with the reason).

    after_batch runs after each ingested file (the scheduler recomputes zones there; ingest knows nothing of it).
    """
    feed = load_feed(name, ingest_settings.feeds_dir)
    folder = ingest_settings.drop_folder(settings.var_dir) / name
    for sub in ("done", "failed"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    if feed.schedule.url:
        with_retries(lambda: _pull(feed, folder), ingest_settings)
    pseudonymiser = Pseudonymiser(load_secret(settings))
    results = []
    for path in sorted(p for p in folder.glob(feed.schedule.pattern) if p.is_file() and not p.name.startswith(".")):
        try:
            summary = with_retries(lambda: ingest_file(start_database(settings), feed, path, pseudonymiser,
                                                       ingest_settings), ingest_settings)
        except UnusableFileError as exc:
            log.error("%s", exc)
            path.rename(folder / "failed" / path.name)
            (folder / "failed" / f"{path.name}.error.txt").write_text(f"{exc}\n", encoding="utf-8")
            results.append({"feed": name, "file": path.name, "error": str(exc)})
            continue
        path.rename(folder / "done" / f"{summary.batch_id}-{path.name}")
        result = summary.to_json()
        if after_batch:
            result["recomputed"] = with_retries(
                lambda: after_batch(start_database(settings), feed.table, summary.batch_id), ingest_settings)
        results.append(result)
    return results


def run_once(settings: Settings, ingest_settings: IngestSettings, after_batch: AfterBatch | None = None) -> list[dict]:
    """Every feed's job once, in name order (what `covidgis ingest watch --once` does)."""
    return [r for name in feed_names(ingest_settings.feeds_dir)
            for r in poll_feed(name, settings, ingest_settings, after_batch)]


# The job the scheduler stores: the composition (ingest, then recompute) lives with the other compositions.
SCHEDULED_JOB = "gis.jobs:scheduled_ingest"


def run_scheduler(settings: Settings, ingest_settings: IngestSettings) -> None:
    """Schedule every feed's job (stored in PostgreSQL) and run until interrupted."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    engine = start_database(settings)
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE, tableschema="ingest")
    scheduler = BlockingScheduler(jobstores={"default": store},
                                  job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300})
    for name in feed_names(ingest_settings.feeds_dir):
        feed = load_feed(name, ingest_settings.feeds_dir)
        scheduler.add_job(SCHEDULED_JOB, "interval", args=[name], id=f"ingest:{name}",
                          minutes=feed.schedule.every_minutes, next_run_time=datetime.now(timezone.utc),
                          replace_existing=True, max_instances=1)
        log.info("feed %s: every %s min from %s", name, feed.schedule.every_minutes,
                 ingest_settings.drop_folder(settings.var_dir) / name)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
