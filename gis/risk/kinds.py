"""The kinds of a rule set's parts — conditions, derived indicators, combination steps — one class each.

Each kind is a pydantic model that owns everything about it: the load-time checks of the names, parameters and
levels it refers to (`check`), the indicators it reads (`reads` / `inputs`), and its vectorised evaluation over all
areas at once (`evaluate` for conditions, `compute` for derived indicators, `run` for steps). Adding a kind is one
class here and its name in the union below its siblings; `ruleset.py` validates and loads rule sets, `classify.py`
runs an assessment's steps in order and turns what they explained into reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gis.risk.errors import InvalidRuleset

if TYPE_CHECKING:
    from gis.risk.classify import Evaluation
    from gis.risk.ruleset import RuleSet

OPS = (">=", ">", "<=", "<", "==", "!=")
SYMBOLS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "=", "!=": "≠"}
COMPARE = {
    ">=": np.greater_equal,
    ">": np.greater,
    "<=": np.less_equal,
    "<": np.less,
    "==": np.equal,
    "!=": np.not_equal,
}

# A number written in the YAML, or the name of an entry of `parameters` holding it.
Num = float | str
# What a condition says about every row: (mask, reason text, decisive indicator names), one array entry per row.
Outcome = tuple[np.ndarray, np.ndarray, np.ndarray]


class Model(BaseModel):
    """Base of every rule-set model: unknown keys are errors (a typo must not silently drop a rule)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- how values are shown in reasons -----------------------------------------------------------


def fmt(v: Any) -> str:
    """A value as people read it, without rounding away what decided a band edge."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "null"
    if isinstance(v, float | np.floating):
        return f"{float(v):.10g}"
    return str(v)


def fmt_all(values: np.ndarray) -> np.ndarray:
    """fmt over an array ('%.10g' is fmt's format), at 100,000 areas a day."""
    v = np.asarray(values)
    if v.dtype.kind not in "fiu":
        return pd.Series(v).map(fmt).to_numpy(object)
    v = v.astype(float)
    shown = np.array([f"{x:.10g}" for x in v.tolist()], dtype=object)  # faster than np.char.mod
    shown[np.isnan(v)] = "null"
    return shown


def fill(n: int, value: Any) -> np.ndarray:
    """An object array of n copies of value (tuples stay whole)."""
    a = np.empty(n, dtype=object)
    a.fill(value)
    return a


# --- load-time checks --------------------------------------------------------------------------


class Checker:
    """The load-time errors of one rule set: every name, parameter and level that does not resolve."""

    def __init__(self, rs: RuleSet):
        self.rs = rs
        self.errors: list[str] = []
        self.levels = {d.level for d in rs.level_defs()}

    def error(self, text: str) -> None:
        self.errors.append(text)

    def name(self, n: str, known: Collection[str], where: str) -> None:
        if n not in known:
            self.error(f"{where}: unknown indicator {n!r}")

    def num(self, x: Num, where: str) -> None:
        params = self.rs.parameters
        if isinstance(x, str) and (x not in params or isinstance(params[x].value, bool | str)):
            self.error(f"{where}: {x!r} is not a numeric parameter")

    def switch(self, x: bool | str, where: str) -> None:
        params = self.rs.parameters
        if isinstance(x, str) and (x not in params or not isinstance(params[x].value, bool)):
            self.error(f"{where}: {x!r} is not a true/false parameter")

    def op(self, x: str, where: str) -> None:
        params = self.rs.parameters
        if x not in OPS and (x not in params or params[x].value not in OPS):
            self.error(f"{where}: {x!r} is neither an operator nor a parameter holding one")


# --- conditions --------------------------------------------------------------------------------


class Compare(Model):
    """indicator <op> value; `enabled` false (or a false parameter) drops it from its parent."""

    indicator: str
    op: str
    value: Num
    enabled: bool | str = True

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.name(self.indicator, known, where)
        c.num(self.value, where)
        c.switch(self.enabled, where)
        c.op(self.op, where)

    def reads(self, rs: RuleSet) -> list[str]:
        return [self.indicator] if rs.enabled(self.enabled) else []

    def evaluate(self, ev: Evaluation) -> Outcome | None:
        """(mask, reason text, decisive names) of the condition; None if it is switched off."""
        rs = ev.rs
        if not rs.enabled(self.enabled):
            return None
        v = ev.get(self.indicator)
        op, thr = rs.op(self.op), rs.num(self.value)
        with np.errstate(invalid="ignore"):
            mask = COMPARE[op](v, thr) & ~np.isnan(v)
        text = f"{self.indicator} = " + fmt_all(v) + f" {SYMBOLS[op]} {fmt(thr)}"
        return mask, text, fill(ev.n, (self.indicator,))


class _Group(Model):
    """A condition over others (`all` or `any`); a disabled child is dropped."""

    enabled: bool | str = True

    @property
    def children(self) -> list[Condition]:
        raise NotImplementedError

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.switch(self.enabled, where)
        for child in self.children:
            child.check(c, known, where)

    def reads(self, rs: RuleSet) -> list[str]:
        return [n for child in self.children for n in child.reads(rs)] if rs.enabled(self.enabled) else []

    def evaluate(self, ev: Evaluation) -> Outcome | None:
        if not ev.rs.enabled(self.enabled):
            return None
        return self._combine(ev, [p for p in (child.evaluate(ev) for child in self.children) if p])

    def _combine(self, ev: Evaluation, parts: list[Outcome]) -> Outcome:
        raise NotImplementedError


class AllOf(_Group):
    all: list[Condition]

    @property
    def children(self) -> list[Condition]:
        return self.all

    def _combine(self, ev: Evaluation, parts: list[Outcome]) -> Outcome:
        mask = np.logical_and.reduce([p[0] for p in parts]) if parts else np.ones(ev.n, bool)
        text, names = fill(ev.n, ""), fill(ev.n, ())
        for k, p in enumerate(parts):
            text = text + (" and " if k else "") + p[1]
            names = names + p[2]
        return mask, text, names


class AnyOf(_Group):
    any: list[Condition]

    @property
    def children(self) -> list[Condition]:
        return self.any

    def _combine(self, ev: Evaluation, parts: list[Outcome]) -> Outcome:
        if not parts:
            return np.zeros(ev.n, bool), fill(ev.n, ""), fill(ev.n, ())
        masks = [p[0] for p in parts]
        return (
            np.logical_or.reduce(masks),
            np.select(masks, [p[1] for p in parts], default=""),
            np.select(masks, [p[2] for p in parts], default=fill(ev.n, ())),
        )


Condition = Compare | AllOf | AnyOf
AllOf.model_rebuild()
AnyOf.model_rebuild()


# --- derived indicators ------------------------------------------------------------------------
# inputs(): every name it may read (checked at load); check(): its other references; compute(): its values;
# parts(): what it read in one row (the active choice and period only), to name the input behind a missing value.


class Ratio(Model):
    """numerator (sum or mean of fields) / denominator × scale, as an unrounded float."""

    kind: Literal["ratio"]
    numerator: list[str]
    numerator_op: Literal["sum", "mean"] = "sum"
    denominator: str
    scale: Num = 1.0

    def inputs(self) -> list[str]:
        return [*self.numerator, self.denominator]

    def check(self, c: Checker, where: str) -> None:
        c.num(self.scale, where)

    def compute(self, ev: Evaluation) -> np.ndarray:
        num = np.sum([ev.get(f) for f in self.numerator], axis=0)
        if self.numerator_op == "mean":
            num = num / len(self.numerator)
        den = ev.get(self.denominator)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = num * ev.rs.num(self.scale) / den  # scale first: exact for whole counts
        return np.where(den == 0, np.nan, out)

    def parts(self, ev: Evaluation, i: int) -> tuple[list[str], list[str]]:
        """(inputs, denominators) read in row i."""
        return self.inputs(), [self.denominator]


class SumOf(Model):
    """Sum of fields."""

    kind: Literal["sum"]
    fields: list[str]

    def inputs(self) -> list[str]:
        return list(self.fields)

    def check(self, c: Checker, where: str) -> None:
        pass

    def compute(self, ev: Evaluation) -> np.ndarray:
        return np.sum([ev.get(f) for f in self.fields], axis=0)

    def parts(self, ev: Evaluation, i: int) -> tuple[list[str], list[str]]:
        return self.inputs(), []


class Period(Model):
    start: dt.date | None = None
    use: str


class ByDate(Model):
    """Pick another indicator by the row's `date` (the latest period whose start ≤ date)."""

    kind: Literal["by_date"]
    periods: list[Period]

    def inputs(self) -> list[str]:
        return ["date", *(p.use for p in self.periods)]

    def check(self, c: Checker, where: str) -> None:
        pass

    def _in_order(self) -> list[Period]:
        return sorted(self.periods, key=lambda p: p.start or dt.date.min)

    def compute(self, ev: Evaluation) -> np.ndarray:
        dates = ev.get("date")
        out = np.full(ev.n, np.nan)
        for p in self._in_order():  # later periods overwrite
            mask = ~np.isnat(dates) if p.start is None else dates >= np.datetime64(p.start, "ns")
            out = np.where(mask, ev.get(p.use), out)
        return out

    def parts(self, ev: Evaluation, i: int) -> tuple[list[str], list[str]]:
        date = ev.get("date")[i]
        if np.isnat(date):
            return ["date"], []
        active = [p.use for p in self._in_order() if p.start is None or date >= np.datetime64(p.start, "ns")]
        return active[-1:], []


class Choice(Model):
    """Pick another indicator by the value of a parameter (a documented switch)."""

    kind: Literal["choice"]
    parameter: str
    options: dict[str, str]

    def inputs(self) -> list[str]:
        return list(self.options.values())

    def check(self, c: Checker, where: str) -> None:
        params = c.rs.parameters
        if self.parameter not in params or str(params[self.parameter].value) not in self.options:
            c.error(f"{where}: parameter {self.parameter!r} must hold one of {sorted(self.options)}")

    def chosen(self, rs: RuleSet) -> str:
        return self.options[str(rs.parameters[self.parameter].value)]

    def compute(self, ev: Evaluation) -> np.ndarray:
        return ev.get(self.chosen(ev.rs))

    def parts(self, ev: Evaluation, i: int) -> tuple[list[str], list[str]]:
        return [self.chosen(ev.rs)], []


Derived = Annotated[Ratio | SumOf | ByDate | Choice, Field(discriminator="kind")]


# --- combination steps -------------------------------------------------------------------------
# check(): its references at load (known: the indicators, derived names and earlier steps' outputs); reads(): the
# indicators its enabled parts need; run(): its values for the active rows, each explained for the rows it decides.


class Bands(Model):
    """Half-open bands [e_i, e_i+1) of an indicator, mapped to values."""

    type: Literal["bands"]
    output: str
    indicator: str
    edges: list[Num]
    values: list[int | str]
    cite: str

    @model_validator(mode="after")
    def _one_more_value_than_edges(self) -> Bands:
        if len(self.values) != len(self.edges) + 1:
            raise ValueError(f"bands {self.output!r}: need len(values) == len(edges) + 1")
        return self

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.name(self.indicator, known, where)
        for e in self.edges:
            c.num(e, where)
        if not c.errors and (vals := [c.rs.num(e) for e in self.edges]) != sorted(set(vals)):
            c.error(f"{where}: edges must increase, got {vals}")

    def reads(self, rs: RuleSet) -> list[str]:
        return [self.indicator]

    def run(self, ev: Evaluation, active: np.ndarray) -> None:
        v = ev.get(self.indicator)
        edges = [ev.rs.num(e) for e in self.edges]
        idx = np.searchsorted(np.asarray(edges), np.nan_to_num(v, nan=-np.inf), side="right")
        shown = fmt_all(v)
        for k, value in enumerate(self.values):
            lo = f"≥ {fmt(edges[k - 1])}" if k > 0 else ""
            hi = f"< {fmt(edges[k])}" if k < len(edges) else ""
            bound = " and ".join(b for b in (lo, hi) if b)
            band = active & (idx == k)
            text = fill(ev.n, "")  # written only for the rows in the band
            text[band] = f"{self.indicator} = " + shown[band] + f" {bound} ({self.cite}) → {self.output} {value}"
            ev.explain(band, text, (self.indicator,))
        ev.values[self.output] = np.asarray(self.values, dtype=object)[idx]


class Matrix(Model):
    """Level from a row variable and a column variable."""

    type: Literal["matrix"]
    output: str = "level"
    row: str
    column: str
    columns: list[int | str]
    cells: dict[str, list[Num]]
    cite: str

    @model_validator(mode="after")
    def _rows_match_columns(self) -> Matrix:
        for key, row in self.cells.items():
            if len(row) != len(self.columns):
                raise ValueError(f"matrix row {key!r} has {len(row)} cells for {len(self.columns)} columns")
        return self

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.name(self.row, known, where)
        c.name(self.column, known, where)
        for row in self.cells.values():
            for cell in row:
                c.num(cell, where)

    def reads(self, rs: RuleSet) -> list[str]:
        return [self.row, self.column]

    def run(self, ev: Evaluation, active: np.ndarray) -> None:
        rows = ev.get(self.row).astype(str)
        cols = ev.get(self.column)
        out = np.full(ev.n, np.nan)
        for key, cells in self.cells.items():
            for col, cell in zip(self.columns, cells):
                mask = (rows == key) & (cols == col)
                out[mask] = ev.rs.num(cell)
                label = f"{self.row} {key} × {self.column} {col} → level {int(ev.rs.num(cell))} ({self.cite})"
                ev.explain(active & mask, label, ())
        ev.values[self.output] = out


class Rule(Model):
    level: int
    when: Condition
    cite: str


class Rules(Model):
    """Ordered triggers evaluated top-down; the first rule that matches gives the level."""

    type: Literal["rules"]
    output: str = "level"
    rules: list[Rule]
    otherwise: int | None = None
    otherwise_cite: str = ""

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        bad = [r.level for r in self.rules if r.level not in c.levels]
        if self.otherwise is not None and self.otherwise not in c.levels:
            bad.append(self.otherwise)
        if bad:
            c.error(f"{where}: undefined levels {bad}")
        for r in self.rules:
            r.when.check(c, known, where)

    def reads(self, rs: RuleSet) -> list[str]:
        return [n for r in self.rules for n in r.when.reads(rs)]

    def run(self, ev: Evaluation, active: np.ndarray) -> None:
        rs = ev.rs
        out = np.full(ev.n, np.nan)
        todo = active.copy()
        for rule in self.rules:
            res = rule.when.evaluate(ev)
            if res is None:
                continue
            hit = todo & res[0]
            out[hit] = rule.level
            ev.explain(hit, res[1] + f" ({rule.cite}) → level {rule.level}", res[2])
            todo &= ~hit
        if self.otherwise is not None:
            out[todo] = self.otherwise
            ev.explain(todo, f"none of the rules above applies ({self.otherwise_cite}) → level {self.otherwise}", ())
        elif todo.any():
            if rs.not_available is None:
                first = ev.frame.index[np.flatnonzero(todo)[0]]
                raise InvalidRuleset(f"rule set {rs.id}: no rule matches row {first!r}")
            out[todo] = rs.not_available.level
            ev.explain(todo, "no rule matches → not available", ())
        ev.values[self.output] = out


class Raise(Model):
    """Raise the level by `by` (capped at `max`) where `when` holds."""

    type: Literal["raise"]
    output: str = "level"
    by: Num = 1
    max: Num
    when: Condition
    enabled: bool | str = True
    cite: str

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.num(self.by, where)
        c.num(self.max, where)
        c.switch(self.enabled, where)
        self.when.check(c, known, where)

    def reads(self, rs: RuleSet) -> list[str]:
        return self.when.reads(rs) if rs.enabled(self.enabled) else []

    def run(self, ev: Evaluation, active: np.ndarray) -> None:
        rs = ev.rs
        if not rs.enabled(self.enabled) or (res := self.when.evaluate(ev)) is None:
            return
        level, cap, by = ev.get(self.output), rs.num(self.max), rs.num(self.by)
        hit = active & res[0] & (level < cap)
        ev.values[self.output] = np.where(hit, np.minimum(level + by, cap), level)
        ev.explain(hit, res[1] + f" ({self.cite}) → level raised by {fmt(by)}", res[2])


class NotBelow(Model):
    """Keep the level at least `indicator` (e.g. the previous level) where `when` holds."""

    type: Literal["not_below"]
    output: str = "level"
    indicator: str
    when: Condition
    enabled: bool | str = True
    cite: str

    def check(self, c: Checker, known: Collection[str], where: str) -> None:
        c.name(self.indicator, known, where)
        c.switch(self.enabled, where)
        self.when.check(c, known, where)

    def reads(self, rs: RuleSet) -> list[str]:  # not `indicator`: without it (a first assessment) nothing is kept
        return self.when.reads(rs) if rs.enabled(self.enabled) else []

    def run(self, ev: Evaluation, active: np.ndarray) -> None:
        if not ev.rs.enabled(self.enabled) or (res := self.when.evaluate(ev)) is None:
            return
        level, floor = ev.get(self.output), ev.get(self.indicator)
        with np.errstate(invalid="ignore"):
            hit = active & res[0] & ~np.isnan(floor) & (floor > level)
        shown = fmt_all(floor)
        text = res[1] + f" and {self.indicator} = " + shown + f" ({self.cite}) → level kept at " + shown
        ev.values[self.output] = np.where(hit, floor, level)
        ev.explain(hit, text, res[2] + fill(ev.n, (self.indicator,)))


Step = Annotated[Bands | Matrix | Rules | Raise | NotBelow, Field(discriminator="type")]
