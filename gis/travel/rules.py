"""Travel rule sets: YAML files (gis/travel/rulesets/) validated at load into a frozen, typed `TravelRules`.

Every measure of a level and every traveller's requirement names its source (a key of `instruments`, each a
gis.citations.Instrument), the article, `status` (confirmed | open) and a note. Loading fails with
`InvalidTravelRules` naming the file and the key path on: an unknown key, a missing field, a status other than
confirmed|open, a source that is not an instrument, a level that does not give every measure, or a measure id not
in `measures`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from gis.citations import Instrument
from gis.rulefiles import Problems, parse_rule_file, rule_file
from gis.travel.errors import InvalidTravelRules, UnknownTravelRules

TRAVEL_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_TRAVEL_RULESET = "vn-128-2021"

Status = Literal["confirmed", "open"]


class _Model(BaseModel):
    """Unknown keys are errors (a typo must not silently drop a measure); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A value in Vietnamese first, English second."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class MeasureName(_Model):
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class _Cited(_Model):
    value: Text
    source: str
    article: str = Field(min_length=1)
    status: Status
    note: str = ""


class Measure(_Cited):
    """One measure at one level."""


class Requirement(_Cited):
    """What a traveller needs when a route leaves (or enters) an area of one of `levels`."""

    id: str = Field(min_length=1)
    when: Literal["leaving", "entering"]
    levels: list[StrictInt] = Field(min_length=1)
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    test_within_hours: StrictInt | None = Field(default=None, ge=1)


class TravelRules(_Model):
    """A complete, validated travel rule set."""

    id: str
    version: str
    title: str
    title_en: str
    risk_rulesets: list[str] = Field(min_length=1)
    instruments: dict[str, Instrument] = Field(min_length=1)
    measures: dict[str, MeasureName] = Field(min_length=1)
    levels: dict[StrictInt, dict[str, Measure]] = Field(min_length=1)
    requirements: list[Requirement] = []

    @model_validator(mode="after")
    def _consistent(self) -> TravelRules:
        problems: list[str] = []
        known = set(self.measures)
        for level, measures in sorted(self.levels.items()):
            for name in sorted(set(measures) - known):
                problems.append(f"levels.{level}.{name}: unknown measure (known: {', '.join(sorted(known))})")
            for name in sorted(known - set(measures)):
                problems.append(f"levels.{level}.{name}: missing")
            for name, measure in sorted(measures.items()):
                if measure.source not in self.instruments:
                    problems.append(f"levels.{level}.{name}.source: {measure.source!r} is not in instruments")
        for i, req in enumerate(self.requirements):
            if req.source not in self.instruments:
                problems.append(f"requirements.{i}.source: {req.source!r} is not in instruments")
            for level in req.levels:
                if level not in self.levels:
                    problems.append(f"requirements.{i}.levels: {level} is not a level of this rule set")
        ids = [r.id for r in self.requirements]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"requirements: id {dup!r} given twice")
        if problems:
            raise Problems(problems)
        return self

    def citation(self, source: str, article: str) -> dict:
        """The instrument a measure cites, with the measure's own article (JSON-ready)."""
        return {**self.instruments[source].model_dump(mode="json"), "article": article}

    def measures_of(self, level: int) -> list[dict]:
        """The measures of a level in the order of `measures`, each with its citation; [] for an unknown level."""
        given = self.levels.get(level)
        if given is None:
            return []
        return [
            {
                "id": name,
                "title_vi": title.title_vi,
                "title_en": title.title_en,
                "value": given[name].value.model_dump(),
                "citation": self.citation(given[name].source, given[name].article),
                "status": given[name].status,
                "note": given[name].note,
            }
            for name, title in self.measures.items()
        ]

    def requirement_document(self, req: Requirement) -> dict:
        return {
            "id": req.id,
            "when": req.when,
            "levels": list(req.levels),
            "title_vi": req.title_vi,
            "title_en": req.title_en,
            "value": req.value.model_dump(),
            "test_within_hours": req.test_within_hours,
            "citation": self.citation(req.source, req.article),
            "status": req.status,
            "note": req.note,
        }

    def summary(self) -> dict:
        return {"id": self.id, "version": self.version, "title_vi": self.title, "title_en": self.title_en}


def available_travel_rulesets() -> list[str]:
    return sorted(p.stem for p in TRAVEL_RULESET_DIR.glob("*.yml"))


def parse_travel_rules(path: Path) -> TravelRules:
    """Load and validate one YAML file; InvalidTravelRules names the file and every bad key."""
    return parse_rule_file(path, TravelRules, InvalidTravelRules)


@cache
def load_travel_rules(ref: str = DEFAULT_TRAVEL_RULESET) -> TravelRules:
    """A shipped travel rule set by id (gis/travel/rulesets/ID.yml) or a path to a YAML file."""
    available = available_travel_rulesets()
    return parse_travel_rules(rule_file(ref, TRAVEL_RULESET_DIR, available, UnknownTravelRules(ref, available)))
