"""Vectorised, database-free classification of areas by a rule set (masks over rows, loops over rules)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Any

import numpy as np
import pandas as pd

from gis.risk.errors import InvalidIndicator, MissingIndicator, UnsupportedLevel
from gis.risk.kinds import fmt
from gis.risk.ruleset import Assessment, RuleSet

OUTPUT_COLUMNS = ["level", "colour", "label_vi", "label_en", "reasons", "decisive"]


class Evaluation:
    """Indicator values and explanations for the rows of one assessment: what every kind's evaluation reads
    (`get`), writes (`values`, a step's output) and explains (`explain`)."""

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
            return self.rs.derived[name].compute(self)
        if name == "date":
            col = self.frame[name] if name in self.frame.columns else pd.Series(pd.NaT, index=self.frame.index)
            try:
                return pd.to_datetime(col, errors="raise").to_numpy("datetime64[ns]")
            except (ValueError, TypeError) as e:
                raise InvalidIndicator("date", f"expected ISO dates: {e}") from e
        if name not in self.frame.columns:
            return np.full(self.n, np.nan)
        try:
            return pd.to_numeric(self.frame[name], errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (ValueError, TypeError) as e:
            raise InvalidIndicator(name, f"expected numbers (or true/false): {e}") from e

    def missing_error(self, name: str, rows: np.ndarray) -> MissingIndicator:
        """A clear error naming the input field behind a missing value in the first bad row."""
        i = int(np.flatnonzero(rows)[0])
        where = f"row {self.frame.index[i]} (0-based)" + (f" and {int(rows.sum()) - 1} more" if rows.sum() > 1 else "")
        needed = f" (needed for {name})" if name in self.rs.derived else ""
        todo, zero = [name], []
        while todo:
            n = todo.pop(0)
            if n in self.rs.derived:
                inputs, dens = self.rs.derived[n].parts(self, i)
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


def _assess(rs: RuleSet, assessment: Assessment, frame: pd.DataFrame) -> pd.DataFrame:
    """Classify the rows of one assessment (one group of admin levels)."""
    ev = Evaluation(rs, frame)
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
        ev.explain(filled, f"{name} missing, read as {fmt(rs.num(value))} (rule set {rs.id}, missing.fill)", ())
        ev.values[name] = np.where(np.isnan(v), rs.num(value), v)
    active = ~na
    for name in assessment.needed(rs):
        bad = active & np.isnan(ev.get(name))
        if bad.any():
            raise ev.missing_error(name, bad)
    for step in assessment.steps:
        step.run(ev, active)
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
    defs = {d.level: d for d in ruleset.level_defs()}
    out["colour"] = out["level"].map(lambda lv: defs[lv].colour)
    out["label_vi"] = out["level"].map(lambda lv: defs[lv].label_vi)
    out["label_en"] = out["level"].map(lambda lv: defs[lv].label_en)
    return out[OUTPUT_COLUMNS]


def classify_records(records: Iterable[dict[str, Any]], ruleset: RuleSet, admin_level: int = 3) -> list[dict[str, Any]]:
    """Classify plain dicts (e.g. JSON lines) at one admin level; used by the CLI."""
    df = pd.DataFrame.from_records(list(records))
    df["admin_level"] = admin_level
    out = classify(df, ruleset)
    keys = ["level", "colour", "label_vi", "label_en", "reasons"]
    return [dict(zip(keys, row)) for row in zip(*(out[k].tolist() for k in keys))]
