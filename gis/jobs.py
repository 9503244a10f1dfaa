"""Compositions of stages that the CLI and the scheduler both run (stages never call each other).

Each takes the entry point's `AppContext` (its engine and every stage's settings): nothing here builds settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from gis.care.capacity import compute_capacity, days_touched
from gis.care.f1rules import load_f1_rules
from gis.care.quarantine import F1OrdersSummary, refresh_orders
from gis.care.rules import load_clinical_rules
from gis.care.transfers import ClassifySummary, classify_batch
from gis.context import AppContext
from gis.ingest.feeds import load_feed
from gis.publish.apitiles import store_zone_tiles
from gis.publish.errors import PublishError
from gis.publish.snapshot import PublishSnapshotSummary, locations_digest, publish_snapshot, snapshot_version
from gis.publish.staticmap import install_static_map
from gis.risk.publish import PublishSummary, publish
from gis.risk.ruleset import load_ruleset
from gis.risk.zones import ComputeSummary, compute_zones
from gis.stats.indicators import IndicatorSummary, compute_indicators
from gis.stats.touched import days_to_recompute
from gis.summary import Summary
from gis.trace.engine import TraceSummary, cases_touched_by_batch, trace_cases, trace_venue_batch
from gis.trace.proposals import ProposalSummary, days_touched_by_batch, propose_days
from gis.trace.retention import RetentionSummary, drop_old_checkins, local_today
from gis.trace.rules import load_trace_rules
from gis.travel.measures import travel_measures_document

log = logging.getLogger(__name__)
TRACED_TABLES = ("cases", "checkins", "venues")  # the batches after which cases are traced again
# The batches after which the F1 orders are derived again: their sources (stays; contacts, traced after cases and
# check-ins), what sets their rule (vaccinations, cases) and their follow-up (tests, cases; admissions: where a
# person turned F0 is, for the transfer).
F1_ORDER_TABLES = ("quarantine_stays", "tests", "cases", "vaccinations", "checkins", "admissions")


@dataclass
class RecomputeSummary(Summary):
    """What a recompute did: the days (first … last), then the indicators' and the zones' own summaries."""

    first: dt.date
    last: dt.date
    days: int
    indicators: IndicatorSummary
    zones: ComputeSummary
    published: PublishSnapshotSummary | None = None  # the static folder, when the snapshot changed

    @property
    def seconds(self) -> float:
        return round(self.indicators.seconds + self.zones.seconds, 3)


def recompute(
    ctx: AppContext, days: list[dt.date], ruleset: str, communes: list[str] | None = None
) -> RecomputeSummary:
    """Indicators from the events, then zones of the given rule set (id or YAML path), for these days.

    communes: only these changed (a batch's); the units they reach are recomputed, not the whole country.
    """
    indicators = compute_indicators(ctx.engine, days, ctx.stats, communes=communes)
    zones = compute_zones(ctx.engine, days, load_ruleset(ruleset), ctx.risk, scope=indicators.scope)
    published = publish_after_change(ctx, zones.snapshot_version)
    return RecomputeSummary(
        first=min(days), last=max(days), days=len(days), indicators=indicators, zones=zones, published=published
    )


def publish_static(ctx: AppContext, out: Path | None = None, keep: int | None = None) -> PublishSnapshotSummary:
    """The static snapshot folder (`covidgis publish`): the public zones' files, the search index, the locations of
    interest and the travel measures of the configured travel rule set, then latest.json; then the static map that
    reads them (index.html and its vendored scripts, replaced only when they changed); then the API's zones tiles
    of the snapshot in the database (once per snapshot)."""
    summary = publish_snapshot(
        ctx.engine,
        out or ctx.publish.folder(ctx.settings.var_dir),
        keep or ctx.publish.keep,
        extra_documents={"travel-measures": travel_measures_document(ctx.travel.ruleset)},
    )
    install_static_map(summary.out)
    stored = store_zone_tiles(ctx.engine, ctx.publish.api_tile_zooms)  # read by the public tile route
    summary.api_tiles, summary.parts["api tiles"] = stored.tiles, stored.seconds
    return summary


def publish_after_change(ctx: AppContext, snapshot_version: int | None) -> PublishSnapshotSummary | None:
    """After a snapshot change (a new version), the static folder again, unless COVIDGIS_PUBLISH_AFTER_CHANGE is off.

    The change itself is committed already: a folder that cannot be written is logged and left for the next change
    or `covidgis publish`, never a failure of the recompute or the batch behind it.
    """
    if snapshot_version is None or not ctx.publish.after_change:
        return None
    try:
        summary = publish_static(ctx)
    except (PublishError, OSError) as exc:  # OSError: the disk filled or a file could not be written mid-publish
        log.warning("snapshot %s not published as static files: %s", snapshot_version, exc)
        return None
    log.info(
        "snapshot %s published to %s: %d files (%.1f s)",
        summary.snapshot_version,
        summary.out,
        summary.files,
        summary.seconds,
    )
    return summary


def publish_after_trace(
    ctx: AppContext, before: str | None, traced: TraceSummary | None
) -> PublishSnapshotSummary | None:
    """After a trace run that changed the public locations of interest (`before`: their digest before it) while the
    zones stayed: the static folder again (a snapshot change publishes on its own: publish_after_change)."""
    if traced is None or locations_digest(ctx.engine) == before:
        return None
    return publish_after_change(ctx, snapshot_version(ctx.engine))


def publish_zones(ctx: AppContext, ruleset_id: str) -> tuple[PublishSummary, PublishSnapshotSummary | None]:
    """`covidgis zones publish`: this rule set's zones made public, then the static folder when the snapshot moved."""
    done = publish(ctx.engine, ruleset_id, ctx.serve.suppress_below)
    return done, publish_after_change(ctx, done.snapshot_version)


def recompute_after_batch(ctx: AppContext, table: str, batch_id: int) -> RecomputeSummary | None:
    """After an ingest batch: the days it touched and every computed day after them (live zones)."""
    days, communes = days_to_recompute(ctx.engine, table, batch_id, ctx.stats)
    if not days:
        return None
    summary = recompute(ctx, days, ctx.risk.ruleset, communes=communes)
    log.info(
        "batch %s: recomputed %d days (%s … %s): %d zones changed, snapshot %s",
        batch_id,
        summary.days,
        summary.first,
        summary.last,
        summary.zones.changed,
        summary.zones.snapshot_version,
    )
    return summary


@dataclass
class AfterBatchSummary(Summary):
    """What ran after an ingest batch: the trace of the cases it touched, then the recompute of indicators and zones
    (None: nothing to do)."""

    trace: TraceSummary | None
    recompute: RecomputeSummary | None
    proposals: ProposalSummary | None = None
    published: PublishSnapshotSummary | None = None  # the static folder after a trace-only change
    care: ClassifySummary | None = None  # an observations batch classified, its transfer requests opened
    capacity: RecomputeSummary | None = None  # criterion 3 and zones again after an admissions or rooms batch
    f1_orders: F1OrdersSummary | None = None  # the F1 quarantine orders re-derived (F1_ORDER_TABLES)


def care_after_batch(ctx: AppContext, table: str, batch_id: int) -> ClassifySummary | None:
    """After an observations batch, its observations classified and their transfer requests opened."""
    if table != "observations":
        return None
    timezone = load_feed("observations", ctx.ingest.feeds_dir).timezone
    return classify_batch(ctx.engine, load_clinical_rules(ctx.care.ruleset), batch_id, timezone, ctx.care.province)


def f1_orders_after_batch(ctx: AppContext, table: str, batch_id: int) -> F1OrdersSummary | None:
    """After a batch of F1_ORDER_TABLES (after its trace), the F1 orders re-derived and followed up on the local
    today (gis/care/quarantine.py), with the transfers of F1 turned F0 in quarantine."""
    if table not in F1_ORDER_TABLES:
        return None
    timezone = load_feed("quarantine", ctx.ingest.feeds_dir).timezone
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    summary = refresh_orders(ctx.engine, ctx.care, load_f1_rules(ctx.care.f1_ruleset), today, timezone)
    log.info(
        "batch %s: %d F1 orders (%d active, %d overdue, %d lost, %d turned F0), %d transfers requested",
        batch_id,
        summary.orders,
        summary.active,
        summary.overdue,
        summary.lost,
        summary.became_f0,
        summary.transfers_requested,
    )
    return summary


def capacity_after_batch(ctx: AppContext, table: str, batch_id: int) -> RecomputeSummary | None:
    """After an admissions or rooms batch: criterion 3 (gis/care/capacity.py) of the days it touched, then their
    indicators and zones again (treatment_capacity_met reads care.capacity)."""
    timezone = load_feed("admissions", ctx.ingest.feeds_dir).timezone
    days = days_touched(ctx.engine, table, batch_id, timezone)
    for day in days:
        compute_capacity(ctx.engine, day, timezone)
    return recompute(ctx, days, ctx.risk.ruleset) if days else None


def trace_after_batch(ctx: AppContext, table: str, batch_id: int) -> TraceSummary | None:
    """After a cases or check-ins batch, the cases whose trace it changes are traced again (the default trace rule
    set); after a venues batch, the locations of interest of its venues are recomputed."""
    if table not in TRACED_TABLES:
        return None
    rules = load_trace_rules(ctx.trace.ruleset)
    if table == "venues":
        return trace_venue_batch(ctx.engine, rules, ctx.trace, batch_id)
    cases = cases_touched_by_batch(ctx.engine, table, batch_id, rules, ctx.trace)
    if not cases:
        return None
    return trace_cases(ctx.engine, rules, ctx.trace, cases=cases, trigger="batch", batch_id=batch_id)


def propose_after_batch(ctx: AppContext, table: str, batch_id: int) -> ProposalSummary | None:
    """After the trace of a batch, the lockdown proposals of the days it touched (the default trace rule set)."""
    rules = load_trace_rules(ctx.trace.ruleset)
    days = days_touched_by_batch(ctx.engine, table, batch_id, rules, ctx.trace)
    return propose_days(ctx.engine, rules, ctx.trace, days) if days else None


def trace_retention(ctx: AppContext, dry_run: bool = False) -> RetentionSummary:
    """The daily retention job: check-in partitions older than COVIDGIS_TRACE_RETENTION_DAYS dropped."""
    return drop_old_checkins(ctx.engine, ctx.trace, local_today(ctx.trace), dry_run=dry_run)


def after_batch(ctx: AppContext, table: str, batch_id: int, recompute: bool = True) -> AfterBatchSummary:
    """Everything composed after an ingest batch: trace first (ingest -> trace -> zones), then the recompute; the
    static folder again when the trace changed the locations of interest and the zones did not change."""
    before = locations_digest(ctx.engine) if table in TRACED_TABLES else None
    traced = trace_after_batch(ctx, table, batch_id)
    proposed = propose_after_batch(ctx, table, batch_id) if traced is not None else None
    recomputed = recompute_after_batch(ctx, table, batch_id) if recompute else None
    cared = care_after_batch(ctx, table, batch_id)
    capacity = capacity_after_batch(ctx, table, batch_id) if recompute else None
    f1_orders = f1_orders_after_batch(ctx, table, batch_id)
    zones_moved = recomputed is not None and recomputed.zones.snapshot_version is not None  # published already
    published = None if zones_moved else publish_after_trace(ctx, before, traced)
    return AfterBatchSummary(
        trace=traced,
        recompute=recomputed,
        proposals=proposed,
        care=cared,
        capacity=capacity,
        published=published,
        f1_orders=f1_orders,
    )


def demo(ctx: AppContext) -> None:
    """The demo's data: Đồng Nai's boundaries, synthetic feeds ingested, zones for the sample period, published.

    Each step is skipped when its result is already there, so a second `make demo` starts in seconds.
    """
    from psycopg2 import sql

    from gis.boundaries.dataset import read_manifest
    from gis.boundaries.load import prepare, store
    from gis.ingest.demo_data import DemoOptions, feed_of, missing_feeds, write_demo_feeds
    from gis.ingest.demo_stages import demo_stages
    from gis.ingest.feeds import feed_names, load_feed
    from gis.ingest.pipeline import file_sha256, ingest_file
    from gis.ingest.pseudonym import Pseudonymiser, load_secret
    from gis.settings import PROJECT_ROOT

    engine = ctx.engine
    ds = read_manifest(PROJECT_ROOT / "boundaries" / "dongnai")
    summary = store(engine, ds, prepare(ds))
    log.info(
        "boundaries %s: %s (%d new, %d unchanged)", ds.name, summary.units_by_level, summary.inserted, summary.unchanged
    )
    options = DemoOptions()
    feeds_dir = ctx.settings.var_dir / "demo-feeds"
    if missing := missing_feeds(feeds_dir):  # all for a new folder; the care and welfare feeds for an older one
        log.info("writing synthetic demo feeds to %s: %s", feeds_dir, ", ".join(missing))
        write_demo_feeds(engine, feeds_dir, options, only=missing)
    pseudonymiser = Pseudonymiser(load_secret(ctx.settings))
    with engine.connect() as conn:
        done = set(conn.exec_driver_sql("SELECT file_sha256 FROM ingest.batch").scalars())
    feeds = set(feed_names(ctx.ingest.feeds_dir))
    for path in sorted(feeds_dir.iterdir(), key=_demo_order):
        if feed_of(path) in feeds and file_sha256(path) not in done:  # SYNTHETIC.txt is the folder's label
            feed = load_feed(feed_of(path), ctx.ingest.feeds_dir)
            batch = ingest_file(engine, feed, path, pseudonymiser, ctx.ingest)
            with engine.begin() as conn:  # fresh statistics: without them classifying 52,388 observations took 6 min
                conn.exec_driver_sql(
                    sql.SQL("ANALYZE {}")
                    .format(sql.Identifier("events", feed.table))
                    .as_string(conn.connection.dbapi_connection)
                )
            if cared := care_after_batch(ctx, batch.feed, batch.batch_id):  # observations: classes, transfer requests
                log.info("%d observations classified, %d transfer requests", cared.classified, cared.requests_opened)
    days = [options.start + dt.timedelta(days=i) for i in range((options.end - options.start).days + 1)]
    ruleset = load_ruleset(ctx.risk.ruleset)
    with engine.connect() as conn:
        have = conn.exec_driver_sql(
            "SELECT count(DISTINCT day) FROM risk.zone WHERE ruleset_id = %(r)s AND day BETWEEN %(a)s AND %(b)s",
            {"r": ruleset.id, "a": days[0], "b": days[-1]},
        ).scalar_one()
    publish(engine, ruleset.id, ctx.serve.suppress_below)  # first, so the recompute's snapshot is published
    if have < len(days):
        timezone = load_feed("admissions", ctx.ingest.feeds_dir).timezone
        log.info("criterion 3 (treatment capacity) for %s … %s", days[0], days[-1])
        for day in days:  # before the zones, which read it (treatment_capacity_met)
            compute_capacity(engine, day, timezone)
        log.info("computing indicators and zones for %s … %s", days[0], days[-1])
        computed = recompute(ctx, days, ctx.risk.ruleset)
        log.info(
            "%d zones over %d days (%.1f s + %.1f s)",
            computed.zones.zones,
            computed.days,
            computed.indicators.seconds,
            computed.zones.seconds,
        )
    rules = load_trace_rules(ctx.trace.ruleset)
    with engine.connect() as conn:
        traced = conn.exec_driver_sql("SELECT 1 FROM trace.run WHERE ruleset_id = %(r)s LIMIT 1", {"r": rules.id})
        first_trace = traced.first() is None
    if first_trace:  # every case once; afterwards each batch traces what it touched
        trace_cases(engine, rules, ctx.trace)
    f1_timezone = load_feed("quarantine", ctx.ingest.feeds_dir).timezone
    f1 = refresh_orders(engine, ctx.care, load_f1_rules(ctx.care.f1_ruleset), days[-1], f1_timezone)  # idempotent
    log.info(
        "%d F1 orders on %s (%d active, %d overdue, %d lost, %d turned F0)",
        f1.orders,
        days[-1],
        f1.active,
        f1.overdue,
        f1.lost,
        f1.became_f0,
    )
    staged = demo_stages(engine, ctx.care, ctx.welfare, pseudonymiser, ctx.ingest.snap_tolerance_m)
    log.info(
        "demo records: %d transfers accepted (%d placed), %d deliveries (%s refused, %d reversed), %d hotline requests"
        " (%d linked)",
        staged.transfers_accepted,
        staged.transfers_placed,
        staged.deliveries,
        sum(staged.refused.values()),
        staged.reversals,
        staged.hotline_requests,
        staged.hotline_linked,
    )
    static = publish_static(ctx)  # every time: a second demo finds it unchanged in milliseconds
    log.info("static snapshot %s in %s (%d files)", static.snapshot_version, static.out, static.files)


def _demo_order(path: Path) -> int:
    """Places before the events that refer to them (facilities, venues before check-ins), admissions before the
    observations classified against them: demo_data.FILES's order."""
    from gis.ingest.demo_data import FILES

    order = list(FILES)
    name = path.name.split(".")[0]
    return order.index(name) if name in order else len(order)
