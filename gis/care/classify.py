"""Severity class and required tier of observations, in one set-based statement generated from a clinical rule set.

`classification_sql` turns the rules into SQL (sql/classify.sql): each criterion a comparison of a column with a
bound literal of the rule set, each class a conjunction or disjunction of its criteria, the classes one CASE in
file order; warning-sign sets apply from their `valid_from` until the next set of the same scope. It reads any
table with the observations feed's columns, so the next slice runs it on a whole batch of `events.observations`;
`classify` runs it on given rows through a temporary table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from psycopg2 import sql
from sqlalchemy import Engine

from gis.care.rules import ClinicalRules, Criterion, WarningSet
from gis.sqlfiles import fragment, load

SQL = load(Path(__file__).parent / "sql" / "classify.sql")
OBSERVATION_COLUMNS = ("obs_id", "at", "spo2", "resp_rate", "pulse", "temp_c", "systolic_bp", "conscious", "symptoms")
_OPS = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "="}


def criterion_sql(c: Criterion, alias: str = "o") -> sql.Composable:
    """One criterion as a boolean expression (NULL when the vital is missing: it then neither holds nor fails)."""
    if c.vital == "symptomatic":  # the feed's `symptoms`, not empty
        column: sql.Composable = sql.SQL("(coalesce(btrim({}), '') <> '')").format(sql.Identifier(alias, "symptoms"))
    else:
        column = sql.Identifier(alias, c.vital)
    if c.op == "between":
        assert isinstance(c.value, list)
        low, high = c.value
        return sql.SQL("({} BETWEEN {} AND {})").format(column, sql.Literal(low), sql.Literal(high))
    return sql.SQL("({} {} {})").format(column, sql.SQL(_OPS[c.op]), sql.Literal(c.value))


def _combined(criteria: list[Criterion], match: str, alias: str) -> sql.Composable:
    if not criteria:
        return sql.SQL("false")
    joiner = sql.SQL(" AND " if match == "all" else " OR ")
    return sql.SQL("({})").format(joiner.join(criterion_sql(c, alias) for c in criteria))


def _local_day(alias: str) -> sql.Composable:
    return sql.SQL("({} AT TIME ZONE %(tz)s)::date").format(sql.Identifier(alias, "at"))


def _in_force(sets: list[WarningSet], i: int, alias: str) -> sql.Composable:
    """The set's period: from its valid_from until the next set of the same scope."""
    w = sets[i]
    later = [s.valid_from for s in sets[i + 1 :] if s.scope == w.scope]
    day = _local_day(alias)
    period = sql.SQL("{} >= {}").format(day, sql.Literal(w.valid_from))
    if later:
        period = sql.SQL("{} AND {} < {}").format(period, day, sql.Literal(min(later)))
    return sql.SQL("({})").format(period)


def _case(whens: list[tuple[sql.Composable, object]]) -> sql.Composed:
    return sql.SQL("CASE {} END").format(
        sql.SQL(" ").join(sql.SQL("WHEN {} THEN {}").format(cond, sql.Literal(value)) for cond, value in whens)
    )


def classification_sql(rules: ClinicalRules, observations: sql.Composable, province: str | None = None) -> sql.Composed:
    """The SELECT (obs_id, severity, warning, required_tier) over `observations` (a table or a subquery in
    parentheses, read as `o`); run it with %(tz)s bound."""
    alias = "o"
    assessed = [c for c in rules.classes if c.assessed_by is None]  # a clinician's class is never given from vitals
    whens = [(_combined(c.criteria, c.match, alias), c) for c in assessed]
    severity = _case([(cond, c.id) for cond, c in whens])
    class_tier = _case([(cond, c.required_tier.value) for cond, c in whens])
    sets = rules.warning_sets(province)
    signs = [
        sql.SQL("({} AND {})").format(_in_force(sets, i, alias), _combined(w.criteria, w.match, alias))
        for i, w in enumerate(sets)
        if w.criteria
    ]
    warning = sql.SQL("coalesce({}, false)").format(sql.SQL(" OR ").join(signs)) if signs else sql.SQL("false")
    return fragment(
        SQL["classify"],
        severity=severity,
        class_tier=class_tier,
        warning=warning,
        warning_tier=sql.Literal(rules.warning_transfer_tier.value),
        observations=observations,
    )


def classify(
    engine: Engine,
    rules: ClinicalRules,
    observations: Iterable[Mapping[str, Any]],
    timezone: str,
    province: str | None = None,
) -> dict[str, dict[str, Any]]:
    """obs_id -> {severity, warning, required_tier} for the given observations (mappings with OBSERVATION_COLUMNS;
    a missing vital is None). `at` is an aware datetime."""
    rows = [{c: o.get(c) for c in OBSERVATION_COLUMNS} for o in observations]
    for r in rows:
        if not isinstance(r["at"], dt.datetime) or r["at"].tzinfo is None:
            raise ValueError(f"observation {r['obs_id']!r}: `at` must be an aware datetime")
    with engine.begin() as conn:
        conn.exec_driver_sql(SQL["create_observations"])
        if rows:
            conn.exec_driver_sql(SQL["insert_observation"], rows)
        statement = classification_sql(rules, sql.Identifier("care_obs"), province)
        text = statement.as_string(conn.connection.dbapi_connection)
        result = conn.exec_driver_sql(text, {"tz": timezone}).mappings()
        return {r["obs_id"]: {k: r[k] for k in ("severity", "warning", "required_tier")} for r in result}
