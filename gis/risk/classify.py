"""Vectorised, database-free classification of areas by a rule set (masks over rows, loops over rules)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from gis.risk.errors import InvalidIndicator, InvalidRuleset, MissingIndicator, UnsupportedLevel
from gis.risk.ruleset import (
    AllOf,
    Assessment,
    Bands,
    ByDate,
    Choice,
    Compare,
    Condition,
    Matrix,
    NotBelow,
    Raise,
    Ratio,
    Rules,
    RuleSet,
    SumOf,
)

SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
COMPARE = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
    "==": np.equal,
    "!=": np.not_equal,
}
OUTPUT_COLUMNS = ["level", "colour", "label_vi", "label_en", "reasons", "decisive"]


def _fmt(v: Any) -> str:
    """A value as people read it, without rounding away what decided a band edge."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "null"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.10g}"
    return str(v)


def _fmt_all(values: np.ndarray) -> np.ndarray:
    """_fmt over an array ('%.10g' is _fmt's format), at 100,000 areas a day."""
    v = np.asarray(values)
    if v.dtype.kind not in "fiu":
        return pd.Series(v).map(_fmt).to_numpy(object)
    v = v.astype(float)
    shown = np.array([f"{x:.10g}" for x in v.tolist()], dtype=object)  # faster than np.char.mod
    shown[np.isnan(v)] = "null"
    return shown


def _fill(n: int, value: Any) -> np.ndarray:
    """An object array of n copies of value (tuples stay whole)."""
    a = np.empty(n, dtype=object)
    a.fill(value)
    return a


class _Evaluation:
    """Indicator values and explanations for the rows of one assessment."""

    def __init__(self, rs: RuleSet, frame: pd.DataFrame):
        self.rs = rs
        self.frame = frame
        self.n = len(frame)
        self.values: dict[str, np.ndarray] = {}
        self.fragments: list[tuple[np.ndarray, Any, Any]] = []  # (mask, text, names): arrays, or one str/tuple

    # --- values --------------------------------------------------------------------------------
    def get(self, name: str) -> np.ndarray:
        """Values of a raw or derived indicator or of a step output, NaN where missing."""
        if name not in self.values:
            self.values[name] = self._compute(name)
        return self.values[name]

    def _compute(self, name: str) -> np.ndarray:
        if name in self.rs.derived:
            return self._derive(self.rs.derived[name])
        if name not in self.frame.columns:
            return np.full(self.n, np.nan)
        col = self.frame[name]
        if name == "date":
            try:
                return pd.to_datetime(col, errors="raise").to_numpy("datetime64[ns]")
            except (ValueError, TypeError) as e:
                raise InvalidIndicator("date", f"expected ISO dates: {e}") from e
        try:
            return pd.to_numeric(col, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (ValueError, TypeError) as e:
            raise InvalidIndicator(name, f"expected numbers (or true/false): {e}") from e

    def _derive(self, d: Any) -> np.ndarray:
        rs = self.rs
        if isinstance(d, Ratio):
            num = np.sum([self.get(f) for f in d.numerator], axis=0)
            if d.numerator_op == "mean":
                num = num / len(d.numerator)
            den = self.get(d.denominator)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = num * rs.num(d.scale) / den  # scale first: exact for whole counts
            return np.where(den == 0, np.nan, out)
        if isinstance(d, SumOf):
            return np.sum([self.get(f) for f in d.fields], axis=0)
        if isinstance(d, Choice):
            return self.get(d.options[str(rs.parameters[d.parameter].value)])
        if isinstance(d, ByDate):
            dates = self.get("date")
            out = np.full(self.n, np.nan)
            for p in sorted(d.periods, key=lambda p: p.start or dt.date.min):  # later periods overwrite
                mask = ~np.isnat(dates) if p.start is None else dates >= np.datetime64(p.start, "ns")
                out = np.where(mask, self.get(p.use), out)
            return out
        raise TypeError(d)

    def _parts(self, name: str, i: int) -> tuple[list[str], list[str]]:
        """(inputs, denominators) a derived value reads in row i (the active choice and period only)."""
        d, rs = self.rs.derived.get(name), self.rs
        if isinstance(d, Ratio):
            return [*d.numerator, d.denominator], [d.denominator]
        if isinstance(d, SumOf):
            return list(d.fields), []
        if isinstance(d, Choice):
            return [d.options[str(rs.parameters[d.parameter].value)]], []
        date = self.get("date")[i]
        if np.isnat(date):
            return ["date"], []
        starts = sorted(d.periods, key=lambda p: p.start or dt.date.min)
        active = [p.use for p in starts if p.start is None or date >= np.datetime64(p.start, "ns")]
        return active[-1:], []

    def missing_error(self, name: str, rows: np.ndarray) -> MissingIndicator:
        """A clear error naming the input field behind a missing value in the first bad row."""
        i = int(np.flatnonzero(rows)[0])
        where = f"row {self.frame.index[i]} (0-based)" + (f" and {int(rows.sum()) - 1} more" if rows.sum() > 1 else "")
        needed = f" (needed for {name})" if name in self.rs.derived else ""
        todo, zero = [name], []
        while todo:
            n = todo.pop(0)
            if n in self.rs.derived:
                inputs, dens = self._parts(n, i)
                todo += inputs
                zero += dens
                continue
            v = self.get(n)[i]
            if np.isnat(v) if isinstance(v, np.datetime64) else np.isnan(v):
                return MissingIndicator(n, f"null or absent in {where}{needed}")
        for n in zero:
            if self.get(n)[i] == 0:
                return MissingIndicator(n, f"is 0 in {where}{needed}, cannot divide by it")
        return MissingIndicator(name, f"could not be computed in {where}")

    # --- explanations --------------------------------------------------------------------------
    def explain(self, mask: np.ndarray, text: np.ndarray | str, names: np.ndarray | tuple[str, ...]) -> None:
        """Record a reason (text) and the decisive indicator names for the rows in mask."""
        self.fragments.append((mask, text, names))  # a str or tuple stands for the same value on every row

    def condition(self, cond: Condition) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(mask, reason text, decisive names) of a condition; None if it is switched off."""
        rs = self.rs
        if not rs.enabled(cond.enabled):
            return None
        if isinstance(cond, Compare):
            v = self.get(cond.indicator)
            op, thr = rs.op(cond.op), rs.num(cond.value)
            with np.errstate(invalid="ignore"):
                mask = COMPARE[op](v, thr) & ~np.isnan(v)
            shown = _fmt_all(v)
            text = f"{cond.indicator} = " + shown + f" {SYMBOLS[op]} {_fmt(thr)}"
            return mask, text, _fill(self.n, (cond.indicator,))
        parts = [p for p in (self.condition(c) for c in (cond.all if isinstance(cond, AllOf) else cond.any)) if p]
        if isinstance(cond, AllOf):
            mask = np.logical_and.reduce([p[0] for p in parts]) if parts else np.ones(self.n, bool)
            text = _fill(self.n, "")
            names = _fill(self.n, ())
            for k, p in enumerate(parts):
                text = text + (" and " if k else "") + p[1]
                names = names + p[2]
            return mask, text, names
        if not parts:
            return np.zeros(self.n, bool), _fill(self.n, ""), _fill(self.n, ())
        masks = [p[0] for p in parts]
        return (
            np.logical_or.reduce(masks),
            np.select(masks, [p[1] for p in parts], default=""),
            np.select(masks, [p[2] for p in parts], default=_fill(self.n, ())),
        )


def _needed(rs: RuleSet, assessment: Assessment) -> list[str]:
    """Indicator names the enabled parts of an assessment read (step outputs and optional inputs excluded)."""
    names: list[str] = []
    outputs: set[str] = set()

    def walk(c: Condition) -> None:
        if not rs.enabled(c.enabled):
            return
        if isinstance(c, Compare):
            names.append(c.indicator)
        else:
            for child in c.all if isinstance(c, AllOf) else c.any:
                walk(child)

    for s in assessment.steps:
        if isinstance(s, Bands):
            names.append(s.indicator)
        elif isinstance(s, Matrix):
            names += [s.row, s.column]
        elif isinstance(s, Rules):
            for r in s.rules:
                walk(r.when)
        elif isinstance(s, (Raise, NotBelow)) and rs.enabled(s.enabled):
            walk(s.when)
        outputs.add(s.output)
    optional = {k for k, spec in rs.indicators.items() if spec.optional}
    return [n for n in dict.fromkeys(names) if n not in outputs and n not in optional]


def _run_step(ev: _Evaluation, step: Any, active: np.ndarray) -> None:
    """Apply one combination step to the active rows, recording its reasons."""
    rs, n = ev.rs, ev.n
    if isinstance(step, Bands):
        v = ev.get(step.indicator)
        edges = [rs.num(e) for e in step.edges]
        idx = np.searchsorted(np.asarray(edges), np.nan_to_num(v, nan=-np.inf), side="right")
        out = np.asarray(step.values, dtype=object)[idx]
        shown = _fmt_all(v)
        for k, value in enumerate(step.values):
            lo = f"≥ {_fmt(edges[k - 1])}" if k > 0 else ""
            hi = f"< {_fmt(edges[k])}" if k < len(edges) else ""
            bound = " and ".join(b for b in (lo, hi) if b)
            band = active & (idx == k)
            text = _fill(n, "")  # written only for the rows in the band
            text[band] = f"{step.indicator} = " + shown[band] + f" {bound} ({step.cite}) → {step.output} {value}"
            ev.explain(band, text, (step.indicator,))
        ev.values[step.output] = out
    elif isinstance(step, Matrix):
        rows = ev.get(step.row).astype(str)
        cols = ev.get(step.column)
        out = np.full(n, np.nan)
        for key, cells in step.cells.items():
            for col, cell in zip(step.columns, cells):
                mask = (rows == key) & (cols == col)
                out[mask] = rs.num(cell)
                label = f"{step.row} {key} × {step.column} {col} → level {int(rs.num(cell))} ({step.cite})"
                ev.explain(active & mask, label, ())
        ev.values[step.output] = out
    elif isinstance(step, Rules):
        out = np.full(n, np.nan)
        todo = active.copy()
        for rule in step.rules:
            res = ev.condition(rule.when)
            if res is None:
                continue
            hit = todo & res[0]
            out[hit] = rule.level
            ev.explain(hit, res[1] + f" ({rule.cite}) → level {rule.level}", res[2])
            todo &= ~hit
        if step.otherwise is not None:
            out[todo] = step.otherwise
            ev.explain(todo, f"none of the rules above applies ({step.otherwise_cite}) → level {step.otherwise}", ())
        elif todo.any():
            if rs.not_available is None:
                raise InvalidRuleset(
                    f"rule set {rs.id}: no rule matches row {ev.frame.index[np.flatnonzero(todo)[0]]!r}"
                )
            out[todo] = rs.not_available.level
            ev.explain(todo, "no rule matches → not available", ())
        ev.values[step.output] = out
    elif isinstance(step, Raise) and rs.enabled(step.enabled):
        res = ev.condition(step.when)
        level, cap, by = ev.get(step.output), rs.num(step.max), rs.num(step.by)
        hit = active & res[0] & (level < cap)
        ev.values[step.output] = np.where(hit, np.minimum(level + by, cap), level)
        ev.explain(hit, res[1] + f" ({step.cite}) → level raised by {_fmt(by)}", res[2])
    elif isinstance(step, NotBelow) and rs.enabled(step.enabled):
        res = ev.condition(step.when)
        level, floor = ev.get(step.output), ev.get(step.indicator)
        with np.errstate(invalid="ignore"):
            hit = active & res[0] & ~np.isnan(floor) & (floor > level)
        shown = _fmt_all(floor)
        text = res[1] + f" and {step.indicator} = " + shown + f" ({step.cite}) → level kept at " + shown
        ev.values[step.output] = np.where(hit, floor, level)
        ev.explain(hit, text, res[2] + _fill(n, (step.indicator,)))


def _assess(rs: RuleSet, assessment: Assessment, frame: pd.DataFrame) -> pd.DataFrame:
    """Classify the rows of one assessment (one group of admin levels)."""
    ev = _Evaluation(rs, frame)
    n = ev.n
    na = np.zeros(n, bool)
    for group in rs.missing.not_available_when:
        hit = np.logical_and.reduce([np.isnan(ev.get(name)) for name in group]) & ~na
        note = f" ({rs.missing.source})" if rs.missing.source else ""
        ev.explain(hit, f"{' and '.join(group)} missing → not available{note}", tuple(group))
        na |= hit
    for name, value in rs.missing.fill.items():
        v = ev.get(name)
        filled = np.isnan(v) & ~na
        ev.explain(filled, f"{name} missing, read as {_fmt(rs.num(value))} (rule set {rs.id}, missing.fill)", ())
        ev.values[name] = np.where(np.isnan(v), rs.num(value), v)
    active = ~na
    for name in _needed(rs, assessment):
        bad = active & np.isnan(ev.get(name))
        if bad.any():
            raise ev.missing_error(name, bad)
    for step in assessment.steps:
        _run_step(ev, step, active)
    level = np.where(na, rs.not_available.level if rs.not_available else 0, ev.get("level")).astype(int)
    # Visit only the rows a fragment applies to (a few per row), not every row of every fragment.
    reasons: list[list[str]] = [[] for _ in range(n)]
    decisive: list[dict[str, Any]] = [{} for _ in range(n)]
    plain: dict[str, list] = {}  # decisive values as plain Python, converted once per indicator
    for mask, texts, names in ev.fragments:
        rows = np.flatnonzero(mask)
        if not len(rows):
            continue
        texts = repeat(texts) if isinstance(texts, str) else texts[rows]
        names = repeat(names) if isinstance(names, tuple) else names[rows]
        for i, t, ns in zip(rows.tolist(), texts, names):
            if t:
                reasons[i].append(t)
            for k in ns or ():
                if k not in plain:
                    plain[k] = _py_all(ev.get(k))
                decisive[i][k] = plain[k][i]
    return pd.DataFrame({"level": level, "reasons": reasons, "decisive": decisive}, index=frame.index)


def _py(v: Any) -> Any:
    """A numpy scalar as plain Python (NaN as None) for JSON and dicts."""
    if isinstance(v, np.datetime64):
        return None if np.isnat(v) else str(v)[:10]
    f = float(v)
    return None if np.isnan(f) else (int(f) if f.is_integer() else f)


def _py_all(values: np.ndarray) -> list:
    """_py over an array, vectorised: whole numbers as int, NaN as None, dates as ISO text."""
    v = np.asarray(values)
    if v.dtype.kind not in "fiub":
        return [_py(x) for x in v]
    f = v.astype(float)
    out = f.astype(object)
    whole = np.isfinite(f) & (f == np.floor(f))
    out[whole] = f[whole].astype(np.int64).astype(object)
    out[np.isnan(f)] = None
    return out.tolist()


def classify(df: pd.DataFrame, ruleset: RuleSet) -> pd.DataFrame:
    """Classify one row per area (indicator columns + admin_level 1..4) into levels with reasons."""
    if "admin_level" not in df.columns:
        raise MissingIndicator("admin_level", "each row needs admin_level 1..4 (province, district, commune, hamlet)")
    frame = df.reset_index(drop=True)  # positions, so duplicate labels cannot confuse the merge back
    admin = pd.to_numeric(frame["admin_level"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    covered = np.isin(admin, [lv for a in ruleset.assessments.values() for lv in a.admin_levels])
    if not covered.all():
        i = int(np.flatnonzero(~covered)[0])
        raise UnsupportedLevel(
            f"rule set {ruleset.id} does not assess admin_level {frame['admin_level'].iloc[i]!r} (row {i})"
        )
    parts = [pd.DataFrame({"level": pd.Series([], dtype=int), "reasons": [], "decisive": []})]
    for assessment in ruleset.assessments.values():
        rows = np.isin(admin, assessment.admin_levels)
        if rows.any():
            parts.append(_assess(ruleset, assessment, frame.iloc[np.flatnonzero(rows)]))
    out = pd.concat(parts).sort_index()
    out.index = df.index
    defs = {d.level: d for d in [*ruleset.levels, *([ruleset.not_available] if ruleset.not_available else [])]}
    out["colour"] = out["level"].map(lambda lv: defs[lv].colour)
    out["label_vi"] = out["level"].map(lambda lv: defs[lv].label_vi)
    out["label_en"] = out["level"].map(lambda lv: defs[lv].label_en)
    return out[OUTPUT_COLUMNS]


def classify_records(records: Iterable[dict[str, Any]], ruleset: RuleSet, admin_level: int = 3) -> list[dict[str, Any]]:
    """Classify plain dicts (e.g. JSON lines) at one admin level; used by the CLI."""
    df = pd.DataFrame.from_records(list(records))
    df["admin_level"] = admin_level
    out = classify(df, ruleset)
    return [
        {
            "level": int(r.level),
            "colour": r.colour,
            "label_vi": r.label_vi,
            "label_en": r.label_en,
            "reasons": r.reasons,
        }
        for r in out.itertuples()
    ]
