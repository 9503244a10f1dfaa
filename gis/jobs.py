"""Compositions of stages that the CLI and the scheduler both run (stages never call each other).

Each takes the entry point's `AppContext` (its engine and every stage's settings): nothing here builds settings.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from gis.context import AppContext
from gis.risk.publish import publish
from gis.risk.ruleset import load_ruleset
from gis.risk.zones import ComputeSummary, compute_zones
from gis.stats.indicators import IndicatorSummary, compute_indicators
from gis.stats.touched import days_to_recompute
from gis.summary import Summary

log = logging.getLogger(__name__)


@dataclass
class RecomputeSummary(Summary):
    """What a recompute did: the days (first … last), then the indicators' and the zones' own summaries."""

    first: dt.date
    last: dt.date
    days: int
    indicators: IndicatorSummary
    zones: ComputeSummary

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
    return RecomputeSummary(first=min(days), last=max(days), days=len(days), indicators=indicators, zones=zones)


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


def demo(ctx: AppContext) -> None:
    """The demo's data: Đồng Nai's boundaries, synthetic feeds ingested, zones for the sample period, published.

    Each step is skipped when its result is already there, so a second `make demo` starts in seconds.
    """
    from gis.boundaries.dataset import read_manifest
    from gis.boundaries.load import prepare, store
    from gis.ingest.demo_data import DemoOptions, feed_of, write_demo_feeds
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
    if not feeds_dir.exists():
        log.info("writing synthetic demo feeds to %s", feeds_dir)
        write_demo_feeds(engine, feeds_dir, options)
    pseudonymiser = Pseudonymiser(load_secret(ctx.settings))
    with engine.connect() as conn:
        done = set(conn.execute(text("SELECT file_sha256 FROM ingest.batch")).scalars())
    feeds = set(feed_names(ctx.ingest.feeds_dir))
    for path in sorted(feeds_dir.iterdir(), key=_demo_order):
        if feed_of(path) in feeds and file_sha256(path) not in done:  # SYNTHETIC.txt is the folder's label
            ingest_file(engine, load_feed(feed_of(path), ctx.ingest.feeds_dir), path, pseudonymiser, ctx.ingest)
    days = [options.start + dt.timedelta(days=i) for i in range((options.end - options.start).days + 1)]
    ruleset = load_ruleset(ctx.risk.ruleset)
    with engine.connect() as conn:
        have = conn.execute(
            text("SELECT count(DISTINCT day) FROM risk.zone WHERE ruleset_id = :r AND day BETWEEN :a AND :b"),
            {"r": ruleset.id, "a": days[0], "b": days[-1]},
        ).scalar_one()
    if have < len(days):
        log.info("computing indicators and zones for %s … %s", days[0], days[-1])
        computed = recompute(ctx, days, ctx.risk.ruleset)
        log.info(
            "%d zones over %d days (%.1f s + %.1f s)",
            computed.zones.zones,
            computed.days,
            computed.indicators.seconds,
            computed.zones.seconds,
        )
    publish(engine, ruleset.id, ctx.serve.suppress_below)


def _demo_order(path: Path) -> int:
    """Places before the events that refer to them (facilities, venues before check-ins)."""
    order = ["facilities", "venues", "cases", "tests", "vaccinations", "quarantine", "checkins"]
    name = path.name.split(".")[0]
    return order.index(name) if name in order else len(order)
