"""Risk rule sets: YAML files validated into typed models; thresholds live only in the YAML.

The kinds of conditions, derived indicators and steps (each with its checks, inputs and evaluation) are in
`kinds.py`; this module holds the rule set around them and loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError, field_validator, model_validator

from gis.citations import Instrument
from gis.levels import COLOURS, AdminLevel
from gis.risk.errors import InvalidRuleset, UnknownRuleset
from gis.risk.kinds import OPS, Checker, Derived, Model, Num, Step

RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_RULESET = "vn-4800-2021"


class LevelDef(Model):
    """One level of a rule set with its map colour and labels."""

    level: int
    colour: str  # a key of gis.levels.COLOURS
    label_vi: str
    label_en: str

    @field_validator("colour")
    @classmethod
    def _known_colour(cls, colour: str) -> str:
        if colour not in COLOURS:
            raise ValueError(f"colour {colour!r} is not one of {', '.join(COLOURS)}")
        return colour


class IndicatorSpec(Model):
    """An input indicator a rule set reads; optional ones may be null without error."""

    description: str = ""
    optional: bool = False


class Parameter(Model):
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


class Assessment(Model):
    """How areas of the given admin levels (1 province … 4 hamlet) are classified."""

    admin_levels: list[AdminLevel]
    steps: list[Step]
    note: str = ""

    def check(self, c: Checker, name: str, known: set[str]) -> None:
        """Each step refers only to known indicators and the outputs of the steps before it; one sets `level`."""
        known = set(known)
        for i, step in enumerate(self.steps):
            step.check(c, known, f"assessment {name} step {i + 1} ({step.type})")
            known.add(step.output)
        if "level" not in {s.output for s in self.steps}:
            c.error(f"assessment {name}: no step sets `level`")

    def needed(self, rs: RuleSet) -> list[str]:
        """Indicator names the enabled parts of the assessment read (step outputs and optional inputs excluded)."""
        outputs = {s.output for s in self.steps}
        optional = {k for k, spec in rs.indicators.items() if spec.optional}
        names = dict.fromkeys(n for s in self.steps for n in s.reads(rs))
        return [n for n in names if n not in outputs and n not in optional]


class Missing(Model):
    """What missing data means: 'not available' groups, fills; anything else needed is an error."""

    not_available_when: list[list[str]] = []
    fill: dict[str, Num] = {}
    status: Literal["confirmed", "inferred", "open"] = "confirmed"
    source: str = ""
    note: str = ""


class RuleSet(Model):
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

    def level_defs(self) -> list[LevelDef]:
        """Every level, `not_available` included."""
        return [*self.levels, *([self.not_available] if self.not_available else [])]

    def level_def(self, level: int) -> LevelDef:
        for d in self.level_defs():
            if d.level == level:
                return d
        raise KeyError(level)

    def assessment_for(self, admin_level: int) -> str | None:
        """Name of the assessment covering an admin level, if any."""
        return next((k for k, a in self.assessments.items() if admin_level in a.admin_levels), None)

    @property
    def uses_date(self) -> bool:
        """Whether a derived indicator reads the row's `date` (the caller then supplies it)."""
        return any("date" in d.inputs() for d in self.derived.values())

    def open_settings(self) -> dict[str, Parameter]:
        """Parameters the research could not confirm: visible, overridable settings."""
        return {k: p for k, p in self.parameters.items() if p.status != "confirmed"}

    @model_validator(mode="after")
    def _references_resolve(self) -> RuleSet:
        _check_references(self)
        return self


def _check_references(rs: RuleSet) -> None:
    """Fail at load time on any name, parameter or level that does not resolve (each kind checks its own)."""
    c = Checker(rs)
    base = set(rs.indicators) | {"date"}
    known = base | set(rs.derived)
    for n, d in rs.derived.items():
        for f in d.inputs():
            c.name(f, known, f"derived {n}")
        d.check(c, f"derived {n}")
    for group in rs.missing.not_available_when:
        for n in group:
            c.name(n, known, "missing.not_available_when")
    if rs.missing.not_available_when and rs.not_available is None:
        c.error("missing.not_available_when needs a `not_available` level")
    for n, v in rs.missing.fill.items():
        c.name(n, known, "missing.fill")
        c.num(v, "missing.fill")
    for name, assessment in rs.assessments.items():
        assessment.check(c, name, known)
    if c.errors:
        raise ValueError("; ".join(c.errors))


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
