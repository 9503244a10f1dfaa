"""The scheduler: every feed's job on its schedule (pull, ingest the drop folder, then recompute the zones).

APScheduler keeps its jobs in PostgreSQL (ingest.scheduler_job, made by the Alembic migration); each feed has one
job with max_instances=1, so a feed's files are never ingested by two runs at once. The job is `scheduled_ingest`,
a function of this module (the job store keeps its textual reference, but the import here is what runs it).
It composes stages like `gis/jobs.py` does: the ingest stage knows nothing of the zones.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from gis import jobs
from gis.context import AppContext
from gis.ingest.feeds import feed_names, load_feed
from gis.ingest.watch import WatchSummary, poll_feed

log = logging.getLogger(__name__)

JOB_TABLE = "scheduler_job"  # in the ingest schema


def ingest_feed(ctx: AppContext, name: str) -> WatchSummary:
    """One run of a feed's job: its new files ingested, each batch followed by the recompute of what it touched."""
    return poll_feed(
        name,
        ctx.engine,
        ctx.settings,
        ctx.ingest,
        after_batch=lambda table, batch_id: jobs.after_batch(ctx, table, batch_id),
    )


def run_once(ctx: AppContext) -> WatchSummary:
    """Every feed's job once, in name order (what `covidgis ingest watch --once` does)."""
    return WatchSummary([r for name in feed_names(ctx.ingest.feeds_dir) for r in ingest_feed(ctx, name).results])


def scheduled_ingest(name: str) -> None:
    """The scheduler's job for one feed: a job is its own entry point, so it builds its context and disposes it."""
    with AppContext() as ctx:
        ingest_feed(ctx, name)


def scheduled_retention() -> None:
    """The daily check-in retention (`covidgis trace retention`), its own entry point like a feed's job."""
    with AppContext() as ctx:
        jobs.trace_retention(ctx)


def run_scheduler(ctx: AppContext) -> None:
    """Schedule every feed's job (stored in PostgreSQL, through the context's engine) and run until interrupted."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    store = SQLAlchemyJobStore(engine=ctx.engine, tablename=JOB_TABLE, tableschema="ingest")
    scheduler = BlockingScheduler(
        jobstores={"default": store}, job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    )
    for name in feed_names(ctx.ingest.feeds_dir):
        feed = load_feed(name, ctx.ingest.feeds_dir)
        scheduler.add_job(
            scheduled_ingest,
            "interval",
            args=[name],
            id=f"ingest:{name}",
            minutes=feed.schedule.every_minutes,
            next_run_time=datetime.now(UTC),
            replace_existing=True,
            max_instances=1,
        )
        log.info(
            "feed %s: every %s min from %s",
            name,
            feed.schedule.every_minutes,
            ctx.ingest.drop_folder(ctx.settings.var_dir) / name,
        )
    # Check-ins older than the retention go once a day, at 03:00 local time (the privacy promise, README "Tracing").
    scheduler.add_job(
        scheduled_retention,
        "cron",
        hour=3,
        minute=0,
        timezone=ctx.trace.timezone,
        id="trace:retention",
        replace_existing=True,
        max_instances=1,
    )
    log.info("check-in retention: daily at 03:00 %s, %d days", ctx.trace.timezone, ctx.trace.retention_days)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
