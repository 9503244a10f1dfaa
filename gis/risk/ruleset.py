"""Risk rule sets: YAML files validated into typed models; thresholds live only in the YAML."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gis.risk.errors import InvalidRuleset, UnknownRuleset

RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_RULESET = "vn-4800-2021"
OPS = (">=", ">", "<=", "<", "==", "!=")
COLOURS = ("green", "yellow", "orange", "red", "dark_red", "grey")
ADMIN_LEVELS = {"province": 1, "district": 2, "commune": 3, "hamlet": 4}

# A number written in the YAML, or the name of an entry of `parameters` holding it.
Num = float | str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Instrument(_Model):
    """A legal or official text a rule set implements."""

    number: str
    date: dt.date
    issuer: str
    title: str = ""
    article: str = ""
    url: str = ""


class LevelDef(_Model):
    """One level of a rule set with its map colour and labels."""

    level: int
    colour: Literal["green", "yellow", "orange", "red", "dark_red", "grey"]
    label_vi: str
    label_en: str


class IndicatorSpec(_Model):
    """An input indicator a rule set reads; optional ones may be null without error."""

    description: str = ""
    optional: bool = False


class Parameter(_Model):
    """A named threshold or switch, with how sure we are of it and where it comes from."""

    value: bool | int | float | str
    status: Literal["confirmed", "inferred", "open"]
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _unconfirmed_needs_note(self) -> Parameter:
        if self.status != "confirmed" and not self.note.strip():
            raise ValueError("a parameter that is not confirmed needs a note saying what is open")
        return self


# --- derived indicators ------------------------------------------------------------------------


class Ratio(_Model):
    """numerator (sum or mean of fields) / denominator × scale, as an unrounded float."""

    kind: Literal["ratio"]
    numerator: list[str]
    numerator_op: Literal["sum", "mean"] = "sum"
    denominator: str
    scale: Num = 1.0


class SumOf(_Model):
    """Sum of fields."""

    kind: Literal["sum"]
    fields: list[str]


class Period(_Model):
    start: dt.date | None = None
    use: str


class ByDate(_Model):
    """Pick another indicator by the row's `date` (the latest period whose start ≤ date)."""

    kind: Literal["by_date"]
    periods: list[Period]


class Choice(_Model):
    """Pick another indicator by the value of a parameter (a documented switch)."""

    kind: Literal["choice"]
    parameter: str
    options: dict[str, str]


Derived = Annotated[Ratio | SumOf | ByDate | Choice, Field(discriminator="kind")]


# --- conditions --------------------------------------------------------------------------------


class Compare(_Model):
    """indicator <op> value; `enabled` false (or a false parameter) drops it from its parent."""

    indicator: str
    op: str
    value: Num
    enabled: bool | str = True


class AllOf(_Model):
    all: list[Condition]
    enabled: bool | str = True


class AnyOf(_Model):
    any: list[Condition]
    enabled: bool | str = True


Condition = Compare | AllOf | AnyOf
AllOf.model_rebuild()
AnyOf.model_rebuild()


# --- combination steps -------------------------------------------------------------------------


class Bands(_Model):
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


class Matrix(_Model):
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


class Rule(_Model):
    level: int
    when: Condition
    cite: str


class Rules(_Model):
    """Ordered triggers evaluated top-down; the first rule that matches gives the level."""

    type: Literal["rules"]
    output: str = "level"
    rules: list[Rule]
    otherwise: int | None = None
    otherwise_cite: str = ""


class Raise(_Model):
    """Raise the level by `by` (capped at `max`) where `when` holds."""

    type: Literal["raise"]
    output: str = "level"
    by: Num = 1
    max: Num
    when: Condition
    enabled: bool | str = True
    cite: str


class NotBelow(_Model):
    """Keep the level at least `indicator` (e.g. the previous level) where `when` holds."""

    type: Literal["not_below"]
    output: str = "level"
    indicator: str
    when: Condition
    enabled: bool | str = True
    cite: str


Step = Annotated[Bands | Matrix | Rules | Raise | NotBelow, Field(discriminator="type")]


class Assessment(_Model):
    """How areas of the given admin levels (1 province … 4 hamlet) are classified."""

    admin_levels: list[int]
    steps: list[Step]
    note: str = ""


class Missing(_Model):
    """What missing data means: 'not available' groups, fills; anything else needed is an error."""

    not_available_when: list[list[str]] = []
    fill: dict[str, Num] = {}
    status: Literal["confirmed", "inferred", "open"] = "confirmed"
    source: str = ""
    note: str = ""


class RuleSet(_Model):
    """A complete, validated rule set."""

    id: str
    version: str
    title: str
    extends: str | None = None
    decision: Instrument
    related: list[Instrument] = []
    levels: list[LevelDef]
    not_available: LevelDef | None = None
    indicators: dict[str, IndicatorSpec]
    parameters: dict[str, Parameter] = {}
    derived: dict[str, Derived] = {}
    missing: Missing = Missing()
    assessments: dict[str, Assessment]
    notes: list[str] = []

    def num(self, x: Num) -> float:
        """The number a YAML slot holds, resolving a parameter name."""
        if isinstance(x, str):
            return float(self.parameters[x].value)
        return float(x)

    def op(self, x: str) -> str:
        """The comparison operator, resolving a parameter name."""
        return x if x in OPS else str(self.parameters[x].value)

    def enabled(self, x: bool | str) -> bool:
        """Whether a switchable element is on, resolving a parameter name."""
        return bool(self.parameters[x].value) if isinstance(x, str) else x

    def level_def(self, level: int) -> LevelDef:
        for d in [*self.levels, *([self.not_available] if self.not_available else [])]:
            if d.level == level:
                return d
        raise KeyError(level)

    def assessment_for(self, admin_level: int) -> str | None:
        """Name of the assessment covering an admin level, if any."""
        return next((k for k, a in self.assessments.items() if admin_level in a.admin_levels), None)

    @property
    def uses_date(self) -> bool:
        return any(isinstance(d, ByDate) for d in self.derived.values())

    def open_settings(self) -> dict[str, Parameter]:
        """Parameters the research could not confirm: visible, overridable settings."""
        return {k: p for k, p in self.parameters.items() if p.status != "confirmed"}

    @model_validator(mode="after")
    def _references_resolve(self) -> RuleSet:
        _check_references(self)
        return self


def iter_compares(cond: Condition) -> Iterator[Compare]:
    """Every comparison inside a condition tree."""
    if isinstance(cond, Compare):
        yield cond
    else:
        for child in cond.all if isinstance(cond, AllOf) else cond.any:
            yield from iter_compares(child)


def _check_references(rs: RuleSet) -> None:
    """Fail at load time on any name, parameter or level that does not resolve."""
    errors: list[str] = []
    params = rs.parameters
    levels = {d.level for d in rs.levels} | ({rs.not_available.level} if rs.not_available else set())

    def num(x: Num, where: str) -> None:
        if isinstance(x, str) and (x not in params or isinstance(params[x].value, (bool, str))):
            errors.append(f"{where}: {x!r} is not a numeric parameter")

    def switch(x: bool | str, where: str) -> None:
        if isinstance(x, str) and (x not in params or not isinstance(params[x].value, bool)):
            errors.append(f"{where}: {x!r} is not a true/false parameter")

    def name(n: str, known: set[str], where: str) -> None:
        if n not in known:
            errors.append(f"{where}: unknown indicator {n!r}")

    base = set(rs.indicators) | {"date"}
    for n, d in rs.derived.items():
        known = base | set(rs.derived)
        where = f"derived {n}"
        if isinstance(d, Ratio):
            for f in [*d.numerator, d.denominator]:
                name(f, known, where)
            num(d.scale, where)
        elif isinstance(d, SumOf):
            for f in d.fields:
                name(f, known, where)
        elif isinstance(d, ByDate):
            for p in d.periods:
                name(p.use, known, where)
        elif isinstance(d, Choice):
            if d.parameter not in params or str(params[d.parameter].value) not in d.options:
                errors.append(f"{where}: parameter {d.parameter!r} must hold one of {sorted(d.options)}")
            for f in d.options.values():
                name(f, known, where)
    known_all = base | set(rs.derived)
    for group in rs.missing.not_available_when:
        for n in group:
            name(n, known_all, "missing.not_available_when")
    if rs.missing.not_available_when and rs.not_available is None:
        errors.append("missing.not_available_when needs a `not_available` level")
    for n, v in rs.missing.fill.items():
        name(n, known_all, "missing.fill")
        num(v, "missing.fill")
    for an, a in rs.assessments.items():
        known = set(known_all)
        for i, s in enumerate(a.steps):
            where = f"assessment {an} step {i + 1} ({s.type})"
            conds: list[Condition] = []
            if isinstance(s, Bands):
                name(s.indicator, known, where)
                for e in s.edges:
                    num(e, where)
                if not errors and (vals := [rs.num(e) for e in s.edges]) != sorted(set(vals)):
                    errors.append(f"{where}: edges must increase, got {vals}")
            elif isinstance(s, Matrix):
                name(s.row, known, where)
                name(s.column, known, where)
                for row in s.cells.values():
                    for c in row:
                        num(c, where)
            elif isinstance(s, Rules):
                conds = [r.when for r in s.rules]
                bad = [r.level for r in s.rules if r.level not in levels]
                if s.otherwise is not None and s.otherwise not in levels:
                    bad.append(s.otherwise)
                if bad:
                    errors.append(f"{where}: undefined levels {bad}")
            elif isinstance(s, Raise):
                conds = [s.when]
                num(s.by, where)
                num(s.max, where)
                switch(s.enabled, where)
            elif isinstance(s, NotBelow):
                conds = [s.when]
                name(s.indicator, known, where)
                switch(s.enabled, where)
            for c in conds:
                for cmp in iter_compares(c):
                    name(cmp.indicator, known, where)
                    num(cmp.value, where)
                    switch(cmp.enabled, where)
                    if cmp.op not in OPS and (cmp.op not in params or params[cmp.op].value not in OPS):
                        errors.append(f"{where}: {cmp.op!r} is neither an operator nor a parameter holding one")
            known.add(s.output)
        if "level" not in known - known_all:
            errors.append(f"assessment {an}: no step sets `level`")
    if errors:
        raise ValueError("; ".join(errors))


# --- loading -----------------------------------------------------------------------------------


def list_rulesets() -> list[str]:
    """Ids of the shipped rule sets (file stem = id)."""
    return sorted(p.stem for p in RULESET_DIR.glob("*.yml"))


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (lists included) in `override` replaces."""
    out = dict(base)
    for k, v in override.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InvalidRuleset(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise InvalidRuleset(f"{path}: a rule set must be a YAML mapping")
    return data


def _resolve(ref: str | Path, relative_to: Path | None = None) -> Path:
    s = str(ref)
    if s.endswith((".yml", ".yaml")) or "/" in s or isinstance(ref, Path):
        path = Path(s)
        if not path.is_absolute() and relative_to is not None and not path.exists():
            path = relative_to / path
        if not path.is_file():
            raise UnknownRuleset(s, list_rulesets())
        return path
    path = RULESET_DIR / f"{s}.yml"
    if not path.is_file():
        raise UnknownRuleset(s, list_rulesets())
    return path


def load_raw(ref: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The rule set as a plain mapping, with `extends` chains deep-merged."""
    path = _resolve(ref, _seen[-1].parent if _seen else None).resolve()
    if path in _seen:
        raise InvalidRuleset(f"{path}: `extends` loops back on itself")
    data = _read_yaml(path)
    parent = data.get("extends")
    if parent:
        base = load_raw(parent, (*_seen, path))
        data = deep_merge(base, data)
    return data


def load_ruleset(ref: str | Path = DEFAULT_RULESET) -> RuleSet:
    """Load a shipped rule set by id, or any rule set YAML by path (with `extends` support)."""
    data = load_raw(ref)
    try:
        return RuleSet.model_validate(data)
    except ValidationError as e:
        raise InvalidRuleset(f"rule set {ref}: {e}") from e
