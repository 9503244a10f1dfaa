"""Zones for every area and day: classify the stored indicators with a rule set, roll up, override, store."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import orjson
import pandas as pd
from psycopg2 import sql
from sqlalchemy import Connection, Engine

from gis import sqlfiles
from gis.db.frames import read_frame, write_text
from gis.risk.changes import record_changes
from gis.risk.classify import classify
from gis.risk.ruleset import RuleSet
from gis.risk.settings import RiskSettings
from gis.summary import Summary

log = logging.getLogger(__name__)

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "zones.sql")
# Inputs a zone stores beside its reasons: those computed here, not kept in stats.indicator (which the zone's
# day and area point to).
DERIVED_INPUTS = [
    "previous_level",
    "adjacent_max_level",
    "child_count",
    "child_count_level_2",
    "child_count_level_3",
    "child_count_level_4",
    "children_level_4_scattered",
]
ROLLUP_INDICATORS = {
    "child_count",
    "child_count_level_2",
    "child_count_level_3",
    "child_count_level_4",
    "children_level_4_scattered",
}
ADJACENCY_ROUNDS = 5  # "adjoins an orange commune" can cascade; stop when stable or after this many rounds
CODES = {"area_code": str, "parent_code": str}
STAGE_COLUMNS = [
    "ruleset_id",
    "day",
    "area_code",
    "admin_level",
    "ruleset_version",
    "level",
    "colour",
    "label_vi",
    "label_en",
    "computed_level",
    "override_id",
    "reasons",
    "decisive",
    "inputs",
]


@dataclass
class ComputeSummary(Summary):
    """What `compute_zones` did: days and zones computed, rows a user would see change, the snapshot it made."""

    ruleset: str
    days: int = 0
    zones: int = 0
    changed: int = 0
    snapshot_version: int | None = None
    seconds: float = 0.0
    per_colour: dict[str, int] = field(default_factory=dict)  # on the last day computed


def ensure_adjacency(engine: Engine, tolerance_m: float) -> None:
    """Recompute neighbours when the boundaries or the tolerance changed since the last time."""
    with engine.begin() as conn:
        state = conn.exec_driver_sql(SQL["adjacency_state"]).mappings().one()
        if state["newest_load"] is None:
            return
        if state["adjacency_load"] == state["newest_load"] and state["tolerance_m"] == tolerance_m:
            return
        started = time.perf_counter()
        conn.exec_driver_sql(SQL["rebuild_adjacency"], {"tol": tolerance_m})
        log.info("neighbours recomputed (tolerance %s m) in %.1f s", tolerance_m, time.perf_counter() - started)


def compute_zones(
    engine: Engine, days: list[dt.date], ruleset: RuleSet, settings: RiskSettings, scope: list[str] | None = None
) -> ComputeSummary:
    """Classify every area on each day (in date order, since a day's zone depends on the day before).

    scope: only these areas (those a batch reached). Ignored by rule sets that read neighbours or children,
    whose zones can change beyond the scope.
    """
    started = time.perf_counter()
    neighbours = pd.DataFrame({"code": pd.Series(dtype=str), "neighbour_code": pd.Series(dtype=str)})
    if set(ruleset.indicators) & (ROLLUP_INDICATORS | {"adjacent_max_level"}):
        scope = None
        ensure_adjacency(engine, settings.adjacency_tolerance_m)
        with engine.connect() as conn:
            neighbours = read_frame(conn, SQL["adjacency"], dtype=str)
    with engine.connect() as conn:
        stored = set(conn.exec_driver_sql(SQL["indicator_columns"]).scalars())
    # Only what the rule set reads travels to Python.
    columns = [sql.Identifier("i", c) for c in sorted(stored & set(ruleset.indicators))]
    summary = ComputeSummary(ruleset=ruleset.id)
    for day in sorted(set(days)):
        with engine.begin() as conn:
            zones = _zones_for_day(conn, day, ruleset, neighbours, scope, columns)
            if zones.empty:
                continue
            changed = _store(conn, zones, day, ruleset.id, scoped=scope is not None)
            if changed:
                summary.snapshot_version = conn.exec_driver_sql(SQL["bump_snapshot"]).scalar_one()
                record_changes(conn, summary.snapshot_version, settings.changes_keep_versions, (ruleset.id, day))
        summary.days += 1
        summary.zones += len(zones)
        summary.changed += changed
        summary.per_colour = {str(k): int(v) for k, v in zones["colour"].value_counts().items()}
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _zones_for_day(
    conn: Connection,
    day: dt.date,
    ruleset: RuleSet,
    neighbours: pd.DataFrame,
    scope: list[str] | None,
    columns: list[sql.Identifier],
) -> pd.DataFrame:
    if scope is None:  # every unit: hash joins (a new day is missing from the planner's statistics: 0.55 s → 0.2 s)
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    frame = read_frame(
        conn,
        sqlfiles.compose(conn, SQL["indicators_for_day"], columns=sql.SQL("").join(sql.SQL(", ") + c for c in columns)),
        {"day": day, "scope": scope, "ruleset": ruleset.id},
        dtype=CODES,
    )
    if frame.empty:
        return frame
    frame = frame.set_index("area_code", drop=False)
    if ruleset.uses_date:
        frame["date"] = day.isoformat()
    result = classify_hierarchy(frame, ruleset, neighbours)
    overrides = read_frame(conn, SQL["overrides_for_day"], {"day": day}, dtype=CODES)
    result = apply_overrides(result, overrides, ruleset)
    result["ruleset_id"], result["ruleset_version"], result["day"] = ruleset.id, ruleset.version, day
    return result


def classify_hierarchy(frame: pd.DataFrame, ruleset: RuleSet, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Classify from the smallest units up, so roll-up rules can count their children's levels.

    frame: one row per area (index = area code) with admin_level, parent_code and the indicators.
    neighbours: code, neighbour_code pairs among units of one level.
    """
    needs = set(ruleset.indicators)
    frame = frame.copy()
    out: list[pd.DataFrame] = []
    for admin_level in sorted(frame["admin_level"].unique(), reverse=True):
        rows = frame[frame["admin_level"] == admin_level].copy()
        if ruleset.assessment_for(int(admin_level)) is None:
            continue
        if needs & ROLLUP_INDICATORS and out:
            rows = _with_children(rows, pd.concat(out), neighbours)
        if "adjacent_max_level" in needs:
            result = _classify_with_neighbours(rows, ruleset, neighbours)
        else:
            result = classify(rows, ruleset)
        result["inputs"] = _inputs(rows, needs)
        result["admin_level"] = int(admin_level)
        result["parent_code"] = rows["parent_code"]
        out.append(result)
    zones = pd.concat(out) if out else pd.DataFrame()
    zones["area_code"] = zones.index
    zones["computed_level"] = zones["level"]
    return zones


def _classify_with_neighbours(rows: pd.DataFrame, ruleset: RuleSet, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Classify, then feed each unit its neighbours' highest level and classify again until nothing changes."""
    pairs = neighbours[neighbours["code"].isin(rows.index) & neighbours["neighbour_code"].isin(rows.index)]
    rows["adjacent_max_level"] = np.nan
    result = classify(rows, ruleset)
    for _ in range(ADJACENCY_ROUNDS):
        levels = pairs["neighbour_code"].map(result["level"])
        adjacent = levels.groupby(pairs["code"].to_numpy()).max()
        rows["adjacent_max_level"] = adjacent.reindex(rows.index).to_numpy(dtype=float)
        again = classify(rows, ruleset)
        if again["level"].equals(result["level"]):
            return again
        result = again
    log.warning("adjacency did not settle after %d rounds; keeping the last one", ADJACENCY_ROUNDS)
    return result


def _with_children(rows: pd.DataFrame, below: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Count each unit's children per level, and say whether its level-4 children are scattered."""
    children = below[below["parent_code"].isin(rows.index)]
    counts = pd.crosstab(children["parent_code"], children["level"])
    rows["child_count"] = children.groupby("parent_code").size().reindex(rows.index, fill_value=0).to_numpy(int)
    for level in (2, 3, 4):
        col = counts[level] if level in counts.columns else pd.Series(dtype=int)
        rows[f"child_count_level_{level}"] = col.reindex(rows.index, fill_value=0).to_numpy(int)
    red = children[children["level"] == 4]
    rows["children_level_4_scattered"] = rows.index.map(
        lambda code: int(connected_groups(red.index[red["parent_code"] == code], neighbours) > 1)
    )
    return rows


def connected_groups(codes, neighbours: pd.DataFrame) -> int:
    """Number of connected groups the given units form through the neighbour pairs."""
    codes = set(codes)
    if len(codes) <= 1:
        return len(codes)
    links = neighbours[neighbours["code"].isin(codes) & neighbours["neighbour_code"].isin(codes)]
    graph: dict[str, set[str]] = {c: set() for c in codes}
    for a, b in zip(links["code"], links["neighbour_code"]):
        graph[a].add(b)
    seen: set[str] = set()
    groups = 0
    for start in codes:
        if start in seen:
            continue
        groups += 1
        stack = [start]
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                stack.extend(graph[node] - seen)
    return groups


def apply_overrides(zones: pd.DataFrame, overrides: pd.DataFrame, ruleset: RuleSet) -> pd.DataFrame:
    """The steering committee's level wins; the computed level and reasons stay beside it."""
    zones = zones.copy()
    zones["override_id"] = pd.array([pd.NA] * len(zones), dtype="Int64")
    for o in overrides.to_dict("records"):
        code, level = o["area_code"], int(o["level"])
        if code not in zones.index:
            continue
        spec = ruleset.level_def(level)
        cells: dict[str, str | int] = {"level": level, "colour": spec.colour, "override_id": int(o["id"])}
        for column, value in {**cells, "label_vi": spec.label_vi, "label_en": spec.label_en}.items():
            zones.at[code, column] = value
        reasons = cast("list[str]", zones.at[code, "reasons"])
        reason = f"override by {o['author']}: level {level} — {o['reason']}"
        zones.at[code, "reasons"] = [*reasons, reason]  # type: ignore[assignment]  # stubs: a cell holds no list
    return zones


def _inputs(rows: pd.DataFrame, needs: set[str]) -> pd.Series:
    """The derived inputs the rule set read, one JSON object per area (serialised now, in C)."""
    cols = [c for c in DERIVED_INPUTS if c in needs and c in rows.columns]
    if not cols:  # a frame without columns writes one line for all its rows
        return pd.Series("{}", index=rows.index)
    return pd.Series(rows[cols].to_json(orient="records", lines=True, force_ascii=False).splitlines(), index=rows.index)


def _store(conn: Connection, zones: pd.DataFrame, day: dt.date, ruleset_id: str, scoped: bool) -> int:
    """Write the day's zones; returns how many rows a user would see change.

    Each row carries a digest of what it says. Rows whose digest equals the stored one are not sent at all; a day
    computed for the first time is COPied straight into risk.zone; other changed rows go through a staging table
    and a merge.
    """
    codes = zones["area_code"].tolist() if scoped else None  # a whole day: every stored zone of it
    params = {"ruleset": ruleset_id, "day": day, "codes": codes}
    stored = {code: digest for code, digest in conn.exec_driver_sql(SQL["stored_digests"], params).all()}
    lines = _copy_text(zones, stored)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in [*STAGE_COLUMNS, "row_hash"])
    if not stored:
        write_text(conn, sqlfiles.compose(conn, SQL["copy_zones"], columns=columns), lines)
        return len(zones)
    conn.exec_driver_sql(SQL["create_stage"])
    write_text(conn, sqlfiles.compose(conn, SQL["copy_stage"], columns=columns), lines)
    return conn.exec_driver_sql(SQL["merge_stage"]).rowcount


def _copy_text(zones: pd.DataFrame, stored: dict[str, str], chunk: int = 10_000) -> Iterator[str]:
    """The zones as COPY text (tab-separated, \\N for NULL), STAGE_COLUMNS then the row's digest, in chunks of rows
    (the server parses one chunk while the next is made), leaving out rows whose digest equals the stored one.
    Reasons and decisive values become JSON (orjson; NaN becomes null)."""
    for start in range(0, len(zones), chunk):
        part = zones.iloc[start : start + chunk]
        n = len(part)
        columns = []
        for name in STAGE_COLUMNS:
            values = part[name]
            if name == "override_id":  # a number or NULL: nothing to escape
                missing = values.isna().tolist()
                columns.append(["\\N" if m else str(int(v)) for m, v in zip(missing, values.tolist())])
                continue
            if name in ("reasons", "decisive"):
                out = [orjson.dumps(v).decode() for v in values]
            elif name in ("ruleset_id", "day", "ruleset_version"):  # one value for the whole day
                out = [str(values.iloc[0])] * n
            else:
                out = [str(v) for v in values.tolist()]
            columns.append(_escaped(out))
        lines = []
        for code, line in zip(part["area_code"].tolist(), map("\t".join, zip(*columns))):
            digest = hashlib.blake2b(line.encode(), digest_size=16).hexdigest()
            if stored.get(code) != digest:
                lines.append(f"{line}\t{digest}")
        if lines:
            yield "\n".join(lines) + "\n"


def _escaped(values: list[str]) -> list[str]:
    """COPY text escaping, only when a value needs it (checked once for the whole column)."""
    joined = "".join(values)
    if not any(c in joined for c in ("\\", "\t", "\n", "\r")):
        return values
    return [v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r") for v in values]
