"""Clinical rule sets: YAML files (gis/care/rulesets/) validated at load into a frozen, typed `ClinicalRules`.

Severity classes with their thresholds on the observations' vitals, the treatment tier each class needs, home-care
criteria, dated warning-sign sets, discharge and step-down rules; research notes in docs/care-rules-research.md.
Every cited value names its `source` (a key of `instruments`, each a gis.citations.Instrument, or of
`undated_sources`), an article and `status` (confirmed | open). Loading fails with `InvalidCareRules` naming the file
and the key path on: an unknown key, a missing field, a status other than confirmed|open, a source that is neither
an instrument nor an undated source, a `confirmed` value resting on an undated source alone, a vital the
classifier does not know, a value of the wrong shape for its operator, a class or tier that does not exist, or a
class with criteria and `assessed_by: clinician` (or neither).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, model_validator

from gis.care.errors import InvalidCareRules, UnknownCareRules
from gis.citations import Instrument
from gis.rulefiles import Problems, parse_rule_file, rule_file
from gis.summary import Summary

CARE_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_CLINICAL_RULESET = "vn-moh-clinical-2021"

Status = Literal["confirmed", "open"]
Op = Literal["lt", "le", "gt", "ge", "eq", "between"]
# The observations feed's columns a criterion may test, plus `symptomatic` (its `symptoms` not empty).
NUMERIC_VITALS = ("spo2", "resp_rate", "pulse", "temp_c", "systolic_bp")
BOOLEAN_VITALS = ("conscious", "symptomatic")
Vital = Literal["spo2", "resp_rate", "pulse", "temp_c", "systolic_bp", "conscious", "symptomatic"]
Number = StrictInt | StrictFloat


class _Model(BaseModel):
    """Unknown keys are errors (a typo must not silently drop a threshold); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Cited(_Model):
    """A value with where it comes from and how sure we are of it."""

    source: str
    article: str = Field(min_length=1)
    status: Status
    note: str = ""


class Text(_Model):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class UndatedSource(_Model):
    """A text read whose number or date we could not establish: it never carries a confirmed value alone."""

    title: str = Field(min_length=1)
    issuer: str = ""
    url: str = ""
    note: str = ""


class VitalName(_Model):
    unit: str
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class Criterion(_Cited):
    """`vital op value`: between is inclusive, [low, high]; eq is for the yes/no vitals."""

    vital: Vital
    op: Op
    value: Number | StrictBool | list[Number]

    @model_validator(mode="after")
    def _shape(self) -> Criterion:
        boolean = self.vital in BOOLEAN_VITALS
        if boolean != (self.op == "eq") or (boolean and not isinstance(self.value, bool)):
            raise ValueError(f"{self.vital}: yes/no vitals take `eq` true|false, numeric vitals a comparison")
        if self.op == "between":
            if not (isinstance(self.value, list) and len(self.value) == 2 and self.value[0] <= self.value[1]):
                raise ValueError(f"{self.vital} between: value must be [low, high] with low <= high")
        elif not boolean and (isinstance(self.value, bool | list)):
            raise ValueError(f"{self.vital} {self.op}: value must be a number")
        return self


class CitedTier(_Cited):
    value: StrictInt = Field(ge=1, le=3)


class CitedInt(_Cited):
    value: StrictInt = Field(ge=0)


class CitedStr(_Cited):
    value: str = Field(min_length=1)


class Tier(_Cited):
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    receives: list[str] = Field(min_length=1)


class SeverityClass(_Model):
    """Classes are tried in file order (most severe first); the first whose criteria hold wins."""

    id: str = Field(min_length=1)
    label_vi: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    assessed_by: Literal["clinician"] | None = None
    match: Literal["any", "all"]
    criteria: list[Criterion]
    required_tier: CitedTier
    source: str | None = None
    article: str = ""
    status: Status | None = None
    note: str = ""

    @model_validator(mode="after")
    def _assessed(self) -> SeverityClass:
        if (self.assessed_by is None) == (not self.criteria):
            raise ValueError("a class has criteria the feed can evaluate, or `assessed_by: clinician`, not both")
        if self.source is not None and self.status is None:
            raise ValueError("a class citing a source gives its status (confirmed|open)")
        return self


class Attribute(_Model):
    attribute: str = Field(min_length=1)
    op: Op
    value: Number | StrictBool


class HomeCareGroup(_Cited):
    id: str = Field(min_length=1)
    text: Text
    attributes: list[Attribute] = []


class HomeCare(_Model):
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    source: str
    article: str = Field(min_length=1)
    classes: list[str] = Field(min_length=1)
    vitals: list[Criterion] = Field(min_length=1)
    any_of: list[HomeCareGroup] = Field(min_length=1)
    observations_per_day: CitedInt


class WarningSet(_Cited):
    """Signs that need emergency handling and a transfer, from valid_from until the next set of the same scope."""

    id: str = Field(min_length=1)
    scope: str = Field(pattern=r"^(national|\d{2})$")  # national, or a province code
    valid_from: dt.date
    match: Literal["any", "all"]
    criteria: list[Criterion]


class Discharge(_Cited):
    id: str = Field(min_length=1)
    valid_from: dt.date | None
    place: Literal["facility", "home"]
    when: Text
    min_days: StrictInt | None = Field(ge=0)
    days_from: Literal["positive_test", "admission"]
    symptom_free_days: StrictInt | None = Field(ge=0)
    tests: Text
    monitor_days_after: StrictInt | None = Field(ge=0)


class StepDown(_Model):
    stable_days: CitedInt
    to_tier: CitedStr


class ClinicalRules(_Model):
    """A complete, validated clinical rule set."""

    id: str
    version: str
    title: str
    title_en: str
    instruments: dict[str, Instrument] = Field(min_length=1)
    undated_sources: dict[str, UndatedSource] = {}
    vitals: dict[Vital, VitalName] = Field(min_length=1)
    tiers: dict[StrictInt, Tier] = Field(min_length=1)
    classes: list[SeverityClass] = Field(min_length=1)
    home_care: HomeCare
    warning_signs: list[WarningSet] = []
    warning_transfer_tier: CitedTier
    discharge: list[Discharge] = []
    step_down: StepDown

    @model_validator(mode="after")
    def _consistent(self) -> ClinicalRules:
        problems: list[str] = []
        both = set(self.instruments) & set(self.undated_sources)
        problems += [f"undated_sources.{k}: also an instrument" for k in sorted(both)]
        for path, cited in cited_values(self):
            if cited.source is None:
                continue
            if cited.source not in self.instruments and cited.source not in self.undated_sources:
                problems.append(f"{path}.source: {cited.source!r} is not in instruments or undated_sources")
            elif cited.source in self.undated_sources and getattr(cited, "status", None) == "confirmed":
                problems.append(f"{path}.status: confirmed on the undated source {cited.source!r} alone")
        ids = [c.id for c in self.classes]
        problems += [f"classes: id {i!r} given twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
        for i, cls in enumerate(self.classes):
            if cls.required_tier.value not in self.tiers:
                problems.append(f"classes.{i}.required_tier: {cls.required_tier.value} is not a tier")
            for j, c in enumerate(cls.criteria):
                if c.vital not in self.vitals:
                    problems.append(f"classes.{i}.criteria.{j}.vital: {c.vital!r} is not in vitals")
        for tier, t in sorted(self.tiers.items()):
            problems += [f"tiers.{tier}.receives: unknown class {r!r}" for r in t.receives if r not in ids]
        problems += [f"home_care.classes: unknown class {c!r}" for c in self.home_care.classes if c not in ids]
        if self.warning_transfer_tier.value not in self.tiers:
            problems.append(f"warning_transfer_tier: {self.warning_transfer_tier.value} is not a tier")
        if problems:
            raise Problems(problems)
        return self

    def citation(self, source: str, article: str) -> dict:
        """The text a value cites, with the value's own article (JSON-ready)."""
        if source in self.instruments:
            return {**self.instruments[source].model_dump(mode="json"), "article": article}
        return {**self.undated_sources[source].model_dump(mode="json"), "article": article, "undated": True}

    def class_document(self, cls: SeverityClass) -> dict:
        """A class with its thresholds, each with its citation (what `covidgis care rules` lists)."""
        return {
            "id": cls.id,
            "label_vi": cls.label_vi,
            "label_en": cls.label_en,
            "match": cls.match,
            "assessed_by": cls.assessed_by,
            "required_tier": cls.required_tier.value,
            "required_tier_citation": self.citation(cls.required_tier.source, cls.required_tier.article),
            "criteria": [
                {
                    "vital": c.vital,
                    "op": c.op,
                    "value": c.value,
                    "unit": self.vitals[c.vital].unit,
                    "status": c.status,
                    "note": c.note,
                    "citation": self.citation(c.source, c.article),
                }
                for c in cls.criteria
            ],
            "status": cls.status,
            "note": cls.note,
        }

    def warning_sets(self, province: str | None = None) -> list[WarningSet]:
        """The national sets and, given a province code, that province's own, in date order."""
        return sorted(
            (w for w in self.warning_signs if w.scope == "national" or w.scope == province), key=lambda w: w.valid_from
        )


def cited_values(model: BaseModel, path: str = "") -> Iterator[tuple[str, _Cited | SeverityClass | HomeCare]]:
    """Every value in the rule set that cites a source, with its key path (for validation and for the tests)."""
    if isinstance(model, _Cited | SeverityClass | HomeCare):
        yield path or "(top level)", model
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else [(None, value)]
        )
        for key, item in items:
            if isinstance(item, BaseModel) and not isinstance(item, Instrument):
                sub = f"{path}.{name}" if path else name
                yield from cited_values(item, sub if key is None else f"{sub}.{key}")


@dataclass
class RulesListing(Summary):
    """A clinical rule set as `covidgis care rules` lists it: classes with thresholds and citations, warning sets."""

    ruleset: str
    version: str
    title_vi: str
    title_en: str
    classes: list[dict] = field(default_factory=list)
    warning_signs: list[dict] = field(default_factory=list)
    warning_transfer_tier: int | None = None


def listing(rules: ClinicalRules) -> RulesListing:
    """The rule set's classes (file order: the order they are tried) and its warning-sign sets, each cited."""
    return RulesListing(
        ruleset=rules.id,
        version=rules.version,
        title_vi=rules.title,
        title_en=rules.title_en,
        classes=[rules.class_document(c) for c in rules.classes],
        warning_signs=[
            {
                "id": w.id,
                "scope": w.scope,
                "valid_from": w.valid_from,
                "match": w.match,
                "status": w.status,
                "citation": rules.citation(w.source, w.article),
                "criteria": [
                    {"vital": c.vital, "op": c.op, "value": c.value, "status": c.status}
                    | {"citation": rules.citation(c.source, c.article)}
                    for c in w.criteria
                ],
            }
            for w in rules.warning_signs
        ],
        warning_transfer_tier=rules.warning_transfer_tier.value,
    )


def available_clinical_rulesets() -> list[str]:
    """Shipped clinical rule sets (the files whose top level has `classes`)."""
    return sorted(p.stem for p in CARE_RULESET_DIR.glob("*.yml") if "\nclasses:" in p.read_text(encoding="utf-8"))


def parse_clinical_rules(path: Path) -> ClinicalRules:
    """Load and validate one YAML file; InvalidCareRules names the file and every bad key."""
    return parse_rule_file(path, ClinicalRules, InvalidCareRules)


@cache
def load_clinical_rules(ref: str = DEFAULT_CLINICAL_RULESET) -> ClinicalRules:
    """A shipped clinical rule set by id (gis/care/rulesets/ID.yml) or a path to a YAML file."""
    available = available_clinical_rulesets()
    return parse_clinical_rules(rule_file(ref, CARE_RULESET_DIR, available, UnknownCareRules(ref, available)))
