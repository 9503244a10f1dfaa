"""The trace engine: for a set of cases, their infectious windows, visits and exposures, then the locations of interest.

One run is one transaction and a few set-based statements over all its cases at once (gis/trace/sql/trace.sql): the
cases' old rows are replaced (a withdrawn case, never an F0, keeps none), then every location of interest of a
(venue, local day) the cases touched before or after is recomputed from all cases' visits, so a correction or a
withdrawal leaves nothing stale published. A traced case whose window starts before the oldest check-in partition
kept, with a stored visit before it, is skipped and keeps its rows (retention dropped its check-ins; the summary's
`skipped_retained`). Check-ins of a venue not in the registry yet are traced; their location
comes when a venues batch brings the venue (`trace_venue_batch`).

After a check-ins batch (trigger "batch" with its id) under checkin_within, a case already traced with the window its
case row gives now, none of whose own check-ins is in the batch (from its window's start to the end plus the longest
dwell), in a batch that corrected no earlier row, is traced incrementally: its rows are kept, and only its (venue,
day) pairs a batch check-in can reach are recomputed. Anything else is traced in full. A rule set edited under the
same id needs a full run (`covidgis trace run`), as before.

Exposures are not stored one row per contact check-in (migration 0022): a run stores each visit's contact range
(the instants a contact's check-in at the venue can have) and the view trace.exposure derives the contacts from it
and events.checkins on read (checkins_venue_time_idx per visit), so the batch's check-ins near a kept visit are its
exposures as soon as they land. The summary's contacts are counted from that join (trace.exposure_pair).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from gis.sqlfiles import load
from gis.summary import Summary
from gis.trace.rules import TraceRules
from gis.trace.settings import TraceSettings

log = logging.getLogger(__name__)

SQL = load(Path(__file__).parent / "sql" / "trace.sql")
Trigger = Literal["cli", "batch"]
ANALYZE_AFTER_ROWS = 1_000  # visits deleted or inserted by a run, from which it analyses the trace tables


@dataclass
class TraceSummary(Summary):
    """What a trace run did: F0s traced, their visits, venues visited, distinct contacts, locations written; and the
    traced cases skipped because retention dropped check-ins of their window (their stored rows kept)."""

    ruleset: str
    cases: int
    visits: int
    venues: int
    contacts: int
    locations: int
    seconds: float
    run_id: int | None = None
    skipped_retained: int = 0


def _params(rules: TraceRules, settings: TraceSettings) -> dict[str, Any]:
    """Every rule-set value the statements bind (each statement takes the ones it names)."""
    return {
        "ruleset": rules.id,
        "tz": settings.timezone,
        "before_days": rules.window_before_days,
        "dwell": json.dumps(rules.dwell_minutes),
        "covisit": rules.covisit,
        "minutes": rules.covisit_minutes,
        "exposure": rules.checkin_within_exposure,
        "close_minutes": rules.overlap_close_minutes or 0,
        "public_kinds": sorted(rules.public_kinds),
        "min_visitors": settings.publish_min_visitors,
        "advice": json.dumps({k: a.model_dump() for k, a in rules.advice.items()}, ensure_ascii=False),
        "reach": reach_minutes(rules),
        "max_dwell": max(rules.dwell_minutes.values()),
        "max_reach": max(rules.covisit_minutes, *rules.dwell_minutes.values()),
    }


def reach_minutes(rules: TraceRules) -> int:
    """How far from an F0 check-in a contact's check-in can lie: ±covisit_minutes, or the longest dwell (overlap)."""
    if rules.covisit == "checkin_within":
        return rules.covisit_minutes
    return max(rules.dwell_minutes.values())


def trace_cases(
    engine: Engine,
    rules: TraceRules,
    settings: TraceSettings,
    *,
    cases: list[str] | None = None,
    day: dt.date | None = None,
    trigger: Trigger = "cli",
    batch_id: int | None = None,
) -> TraceSummary:
    """Trace the given cases (or those detected on `day`; neither: every case) and recompute their locations."""
    if cases is not None and day is not None:
        raise ValueError("trace_cases takes cases or day, not both")
    started = time.perf_counter()
    with engine.begin() as conn:
        summary = trace_in(conn, rules, settings, cases=cases, day=day, trigger=trigger, batch_id=batch_id)
    summary.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "trace %s: %d cases, %d visits at %d venues, %d contacts, %d locations, %d skipped (retention) (%.2f s)",
        rules.id,
        summary.cases,
        summary.visits,
        summary.venues,
        summary.contacts,
        summary.locations,
        summary.skipped_retained,
        summary.seconds,
    )
    return summary


def trace_in(
    conn: Connection,
    rules: TraceRules,
    settings: TraceSettings,
    *,
    cases: list[str] | None = None,
    day: dt.date | None = None,
    trigger: Trigger = "cli",
    batch_id: int | None = None,
) -> TraceSummary:
    """`trace_cases` inside the caller's transaction (a benchmark rolls it back); seconds: of the statements."""
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    p = _params(rules, settings)
    _prepare(conn, p)
    if cases is not None:
        conn.exec_driver_sql(SQL["target_cases"], {"cases": list(cases)})
    elif day is not None:
        conn.exec_driver_sql(SQL["target_day"], {**p, "day": day})
    else:
        conn.exec_driver_sql(SQL["target_all"], p)
    skipped = len(conn.exec_driver_sql(SQL["skip_retained"], p).all())
    conn.exec_driver_sql(SQL["analyze_target"])
    incremental = trigger == "batch" and batch_id is not None and rules.covisit == "checkin_within"
    if incremental:
        p = {**p, "batch": batch_id}
        for name in ("batch_checkins", "analyze_batch", "incremental_cases", "incremental_split", "analyze_target"):
            conn.exec_driver_sql(SQL[name], p)
        conn.exec_driver_sql(SQL["analyze_incr"])
    conn.exec_driver_sql(SQL["old_pairs"], p)
    changed = sum(conn.exec_driver_sql(SQL[name], p).rowcount for name in ("delete_kept", "delete_visits"))
    for name in ("delete_windows", "insert_windows"):
        conn.exec_driver_sql(SQL[name], p)
    wlo, whi = conn.exec_driver_sql(SQL["window_bounds"], p).one()
    if wlo is not None:
        for name in ("f0_checkins", "index_f0_checkins", "analyze_f0_checkins", "insert_visits", "analyze_visits"):
            conn.exec_driver_sql(SQL[name], {**p, "wlo": wlo, "whi": whi})
        changed += conn.exec_driver_sql(SQL["store_visits"], p).rowcount
    if changed >= ANALYZE_AFTER_ROWS:
        conn.exec_driver_sql(SQL["analyze_stored"])
    conn.exec_driver_sql(SQL["new_pairs"], p)
    if incremental:
        for name in ("incremental_pairs", "incremental_join"):
            conn.exec_driver_sql(SQL[name], p)
    n_cases, visits, venues = conn.exec_driver_sql(SQL["counts"], p).one()
    contacts = conn.exec_driver_sql(SQL["contacts_" + rules.covisit], p).scalar_one()
    locations = _locations(conn, p)
    summary = TraceSummary(rules.id, n_cases, visits, venues, contacts, locations, 0.0, skipped_retained=skipped)
    summary.run_id = _record_run(conn, p, summary, trigger, batch_id, started_at)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def trace_venue_batch(engine: Engine, rules: TraceRules, settings: TraceSettings, batch_id: int) -> TraceSummary:
    """After a venues batch: the locations of its venues recomputed (a venue that arrived after its check-ins gets
    its locations; a venue whose kind changed is published or withdrawn accordingly)."""
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    p = {**_params(rules, settings), "batch": batch_id}
    with engine.begin() as conn:
        _prepare(conn, p)
        conn.exec_driver_sql(SQL["venue_batch_pairs"], p)
        venues = conn.exec_driver_sql("SELECT count(DISTINCT venue_id)::int FROM trace_pairs").scalar_one()
        locations = _locations(conn, p)
        summary = TraceSummary(rules.id, 0, 0, venues, 0, locations, 0.0)
        summary.run_id = _record_run(conn, p, summary, "batch", batch_id, started_at)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def cases_touched_by_batch(
    engine: Engine, table: str, batch_id: int, rules: TraceRules, settings: TraceSettings
) -> list[str]:
    """The cases an ingest batch changes the trace of: a cases batch's own cases (new, corrected, withdrawn); for a
    check-ins batch, the cases with one of their own check-ins of the batch in their window and the traced cases
    with a visit near one of its check-ins. Other tables touch no case."""
    if table == "cases":
        statement, params = SQL["batch_cases"], {"batch": batch_id}
    elif table == "checkins":
        statement, params = SQL["batch_checkin_cases"], {**_params(rules, settings), "batch": batch_id}
    else:
        return []
    with engine.begin() as conn:
        conn.exec_driver_sql(SQL["no_jit"])  # a statement over every check-in partition: JIT would compile each
        return sorted(conn.exec_driver_sql(statement, params).scalars())


def unknown_cases(engine: Engine, cases: list[str]) -> list[str]:
    """The ids among `cases` that events.cases does not hold."""
    with engine.connect() as conn:
        known = set(
            conn.exec_driver_sql(
                "SELECT case_id FROM events.cases WHERE case_id = ANY (%(cases)s::text[])", {"cases": cases}
            ).scalars()
        )
    return [c for c in cases if c not in known]


CONTACT_COLUMNS = (
    "checkin_id",
    "venue_id",
    "checked_in_at",
    "person_key",
    "case_id",
    "overlap_minutes",
    "risk",
    "ruleset_id",
)


def case_contacts(engine: Engine, ruleset_id: str, case_id: str, settings: TraceSettings) -> list[dict[str, Any]]:
    """The contact check-ins of one case (CONTACT_COLUMNS; checked_in_at in the local time zone)."""
    tz = ZoneInfo(settings.timezone)
    params = {"ruleset": ruleset_id, "case_id": case_id}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(SQL["case_contacts"], params).mappings().all()
    return [{**row, "checked_in_at": row["checked_in_at"].astimezone(tz)} for row in rows]


def case_traced(engine: Engine, ruleset_id: str, case_id: str) -> bool:
    """Whether the case has a window in the rule set (traced, and not withdrawn)."""
    with engine.connect() as conn:
        return conn.exec_driver_sql(SQL["case_traced"], {"ruleset": ruleset_id, "case_id": case_id}).scalar_one()


@dataclass
class Notified(Summary):
    """A contact marked notified (`covidgis trace mark`)."""

    ruleset: str
    person_key: str
    notified_at: dt.datetime
    notified_by: str | None


def mark_notified(engine: Engine, ruleset_id: str, person_key: str, by: str | None) -> Notified | None:
    """Record that a contact was notified; None when the key has no exposure in the rule set."""
    with engine.begin() as conn:
        at = conn.exec_driver_sql(
            SQL["mark_notified"], {"ruleset": ruleset_id, "person_key": person_key, "by": by}
        ).scalar_one_or_none()
    return Notified(ruleset_id, person_key, at, by) if at is not None else None


def _prepare(conn: Connection, p: dict[str, Any]) -> None:
    conn.exec_driver_sql(SQL["lock"], p)
    conn.exec_driver_sql(SQL["no_jit"])
    conn.exec_driver_sql(SQL["work_mem"])
    conn.exec_driver_sql(SQL["create_target"])
    conn.exec_driver_sql(SQL["create_pairs"])


def _locations(conn: Connection, p: dict[str, Any]) -> int:
    """Recompute the locations of the pairs in trace_pairs: upserted and withdrawn rows."""
    plo, phi = conn.exec_driver_sql(SQL["pair_bounds"], p).one()
    if plo is None:
        return 0
    upserted = conn.exec_driver_sql(SQL["upsert_locations"], {**p, "plo": plo, "phi": phi}).rowcount
    withdrawn = conn.exec_driver_sql(SQL["withdraw_locations"], p).rowcount
    return upserted + withdrawn


def _record_run(
    conn: Connection,
    p: dict[str, Any],
    summary: TraceSummary,
    trigger: Trigger,
    batch_id: int | None,
    started_at: dt.datetime,
) -> int:
    row = {
        "ruleset": p["ruleset"],
        "trigger": trigger,
        "batch_id": batch_id,
        "started_at": started_at,
        "cases": summary.cases,
        "visits": summary.visits,
        "venues": summary.venues,
        "contacts": summary.contacts,
        "locations": summary.locations,
    }
    return conn.exec_driver_sql(SQL["insert_run"], row).scalar_one()
