"""Compositions of stages that the CLI and the scheduler both run (stages never call each other)."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import ComputeSummary, compute_zones
from gis.stats.indicators import IndicatorSummary, compute_indicators
from gis.stats.settings import StatsSettings
from gis.stats.touched import days_to_recompute

log = logging.getLogger(__name__)


def recompute(
    engine: Engine, days: list[dt.date], ruleset: str | None = None, communes: list[str] | None = None
) -> tuple[IndicatorSummary, ComputeSummary]:
    """Indicators from the events, then zones of the published (or the given) rule set, for these days.

    communes: only these changed (a batch's); the units they reach are recomputed, not the whole country.
    """
    risk = RiskSettings()
    indicators = compute_indicators(engine, days, StatsSettings(), communes=communes)
    scope = indicators.scope
    zones = compute_zones(engine, days, load_ruleset(ruleset or risk.ruleset), risk, scope=scope)
    return indicators, zones


def recompute_after_batch(engine: Engine, table: str, batch_id: int) -> dict | None:
    """After an ingest batch: the days it touched and every computed day after them (live zones)."""
    days, communes = days_to_recompute(engine, table, batch_id, StatsSettings())
    if not days:
        return None
    indicators, zones = recompute(engine, days, communes=communes)
    log.info(
        "batch %s: recomputed %d days (%s … %s): %d zones changed, snapshot %s",
        batch_id,
        len(days),
        days[0],
        days[-1],
        zones.changed,
        zones.snapshot_version,
    )
    return {
        "days": len(days),
        "first": str(days[0]),
        "last": str(days[-1]),
        "zones_changed": zones.changed,
        "snapshot_version": zones.snapshot_version,
        "seconds": round(indicators.seconds + zones.seconds, 3),
    }


def scheduled_ingest(name: str) -> None:
    """The scheduler's job for one feed: a job is its own entry point, so it builds the settings it runs with."""
    from gis.ingest.settings import IngestSettings
    from gis.ingest.watch import poll_feed
    from gis.settings import Settings

    poll_feed(name, Settings(), IngestSettings(), after_batch=recompute_after_batch)


def demo(settings, engine: Engine) -> None:
    """The demo's data: Đồng Nai's boundaries, synthetic feeds ingested, zones for the sample period.

    Each step is skipped when its result is already there, so a second `make demo` starts in seconds.
    """
    from sqlalchemy import text

    from gis.boundaries.dataset import read_manifest
    from gis.boundaries.load import prepare, store
    from gis.ingest.demo_data import DemoOptions, feed_of, write_demo_feeds
    from gis.ingest.feeds import feed_names, load_feed
    from gis.ingest.pipeline import file_sha256, ingest_file
    from gis.ingest.pseudonym import Pseudonymiser, load_secret
    from gis.ingest.settings import IngestSettings
    from gis.settings import PROJECT_ROOT

    ds = read_manifest(PROJECT_ROOT / "boundaries" / "dongnai")
    summary = store(engine, ds, prepare(ds))
    log.info(
        "boundaries %s: %s (%d new, %d unchanged)", ds.name, summary.units_by_level, summary.inserted, summary.unchanged
    )
    options = DemoOptions()
    feeds_dir = settings.var_dir / "demo-feeds"
    if not feeds_dir.exists():
        log.info("writing synthetic demo feeds to %s", feeds_dir)
        write_demo_feeds(engine, feeds_dir, options)
    ingest_settings = IngestSettings()
    pseudonymiser = Pseudonymiser(load_secret(settings))
    with engine.connect() as conn:
        done = set(conn.execute(text("SELECT file_sha256 FROM ingest.batch")).scalars())
    feeds = set(feed_names(ingest_settings.feeds_dir))
    for path in sorted(feeds_dir.iterdir(), key=_demo_order):
        if feed_of(path) in feeds and file_sha256(path) not in done:  # SYNTHETIC.txt is the folder's label
            ingest_file(
                engine, load_feed(feed_of(path), ingest_settings.feeds_dir), path, pseudonymiser, ingest_settings
            )
    days = [options.start + dt.timedelta(days=i) for i in range((options.end - options.start).days + 1)]
    ruleset = load_ruleset(RiskSettings().ruleset)
    with engine.connect() as conn:
        have = conn.execute(
            text("SELECT count(DISTINCT day) FROM risk.zone WHERE ruleset_id = :r AND day BETWEEN :a AND :b"),
            {"r": ruleset.id, "a": days[0], "b": days[-1]},
        ).scalar()
    if have < len(days):
        log.info("computing indicators and zones for %s … %s", days[0], days[-1])
        indicators, zones = recompute(engine, days)
        log.info(
            "%d zones over %d days (%.1f s + %.1f s)", zones.zones, zones.days, indicators.seconds, zones.seconds
        )


def _demo_order(path) -> int:
    """Places before the events that refer to them (facilities, venues before check-ins)."""
    order = ["facilities", "venues", "cases", "tests", "vaccinations", "quarantine", "checkins"]
    name = path.name.split(".")[0]
    return order.index(name) if name in order else len(order)
