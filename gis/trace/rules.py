"""Trace rule sets: YAML files (gis/trace/rulesets/) validated at load into a frozen, typed `TraceRules`.

Every number a tracing rule uses is a named parameter with its value, `status` (confirmed | open), `source` and
`note`; research notes are in docs/trace-rules-research.md. Loading fails with `InvalidTraceRules` naming the file and
the key path on: an unknown key, a missing required parameter (which ones depends on `covisit`), a wrongly typed value,
a status other than confirmed|open, a venue kind the venues feed (ingest/feeds/venues.yml) does not define, or
`dwell_minutes` without its `other` fallback. The typed accessors (`covisit_minutes`, `public_kinds`, …) then never
fail.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from gis.citations import Instrument
from gis.settings import PROJECT_ROOT
from gis.trace.errors import InvalidTraceRules, UnknownTraceRules

TRACE_RULESET_DIR = Path(__file__).parent / "rulesets"
DEFAULT_TRACE_RULESET = "vn-pccovid-2022"
VENUES_FEED = PROJECT_ROOT / "ingest" / "feeds" / "venues.yml"

Covisit = Literal["checkin_within", "overlap"]
Exposure = Literal["close", "casual"]
WindowEnd = Literal["isolation_or_detection", "detection"]


class _Model(BaseModel):
    """Unknown keys are errors (a typo must not silently drop a rule); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Model):
    """A named value with how sure we are of it and where it comes from."""

    value: Any
    status: Literal["confirmed", "open"]
    source: str
    note: str = ""


class Advice(_Model):
    """Public advice for one exposure type, Vietnamese first."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Cluster(_Model):
    """A venue becomes a cluster when `cases` distinct F0 visited it within `within_minutes` (after Cléa)."""

    cases: StrictInt = Field(ge=1)
    within_minutes: StrictInt = Field(ge=1)


class _Values(_Model):
    """The typed parameter values (strict: `"60"`, `60.5` or `true` is not a number of minutes)."""

    window_before_days: StrictInt = Field(ge=0)
    window_end: WindowEnd
    covisit_minutes: StrictInt = Field(ge=0)
    overlap_close_minutes: StrictInt | None = Field(default=None, ge=1)
    checkin_within_exposure: Exposure
    public_kinds: list[StrictStr]
    dwell_minutes: dict[StrictStr, StrictInt]
    cluster: dict[StrictStr, Cluster]
    lockdown_min_contacts: StrictInt = Field(ge=1)
    lockdown_min_f0_residents: StrictInt = Field(ge=1)


# Parameters every rule set needs, and those only one co-visit rule needs.
_REQUIRED: dict[str, frozenset[str]] = {
    "checkin_within": frozenset(),
    "overlap": frozenset({"overlap_close_minutes"}),
}
_KNOWN = frozenset(_Values.model_fields)
_ALWAYS = frozenset(n for n, f in _Values.model_fields.items() if f.is_required())


@cache
def venue_kinds(feed: Path = VENUES_FEED) -> frozenset[str]:
    """The venue kinds the venues feed defines (`fields.kind.values` keys of ingest/feeds/venues.yml)."""
    data = yaml.safe_load(feed.read_text(encoding="utf-8"))
    return frozenset(data["fields"]["kind"]["values"])


class TraceRules(_Model):
    """A complete, validated trace rule set."""

    id: str
    version: str
    title: str
    title_en: str
    decision: Instrument
    related: list[Instrument] = []
    covisit: Covisit
    parameters: dict[str, Parameter]
    advice: dict[Exposure, Advice]

    _values: _Values = PrivateAttr()

    @model_validator(mode="after")
    def _typed_parameters(self) -> TraceRules:
        problems: list[str] = []
        for name in sorted(set(self.parameters) - _KNOWN):
            problems.append(f"parameters.{name}: unknown parameter (known: {', '.join(sorted(_KNOWN))})")
        for name in sorted((_ALWAYS | _REQUIRED[self.covisit]) - set(self.parameters)):
            why = "" if name in _ALWAYS else f" (needed by covisit: {self.covisit})"
            problems.append(f"parameters.{name}: missing{why}")
        missing_advice = {"close", "casual"} - set(self.advice)
        for kind in sorted(missing_advice):
            problems.append(f"advice.{kind}: missing")
        if problems:
            raise _Problems(problems)
        raw = {k: p.value for k, p in self.parameters.items()}
        try:
            values = _Values.model_validate(raw)
        except ValidationError as e:
            raise _Problems(
                [
                    f"parameters.{_loc(err['loc'][:1])}.value{_loc(err['loc'][1:], lead='.')}: {_msg(err)}"
                    for err in e.errors()
                ]
            ) from None
        kinds = venue_kinds()
        for key, names in (
            ("public_kinds", values.public_kinds),
            ("dwell_minutes", list(values.dwell_minutes)),
            ("cluster", list(values.cluster)),
        ):
            for kind in names:
                if kind not in kinds:
                    problems.append(
                        f"parameters.{key}.value: {kind!r} is not a venue kind of ingest/feeds/venues.yml "
                        f"({', '.join(sorted(kinds))})"
                    )
        if "other" not in values.dwell_minutes:
            problems.append("parameters.dwell_minutes.value: needs the fallback kind 'other'")
        for kind, minutes in values.dwell_minutes.items():
            if minutes < 1:
                problems.append(f"parameters.dwell_minutes.value.{kind}: must be at least 1 minute")
        if problems:
            raise _Problems(problems)
        self._values = values
        return self

    # --- typed accessors (validated at load) ----------------------------------------------------

    @property
    def window_before_days(self) -> int:
        """The infectious window starts this many days before the detection (sample) date."""
        return self._values.window_before_days

    @property
    def window_end(self) -> WindowEnd:
        """`isolation_or_detection`: the day the case entered isolation/treatment, at the latest detection."""
        return self._values.window_end

    @property
    def covisit_minutes(self) -> int:
        """checkin_within: a contact's check-in at the same venue with |t - t_f0| <= this (inclusive)."""
        return self._values.covisit_minutes

    @property
    def overlap_close_minutes(self) -> int | None:
        """overlap: at least this many minutes of overlap is `close`, less is `casual` (None for checkin_within)."""
        return self._values.overlap_close_minutes

    @property
    def checkin_within_exposure(self) -> Exposure:
        """The exposure type of a checkin_within contact."""
        return self._values.checkin_within_exposure

    @property
    def public_kinds(self) -> frozenset[str]:
        """Venue kinds whose locations of interest may be published."""
        return frozenset(self._values.public_kinds)

    @property
    def dwell_minutes(self) -> dict[str, int]:
        """Default visit length per venue kind; key 'other' is the fallback (always present)."""
        return dict(self._values.dwell_minutes)

    def dwell_for(self, kind: str | None) -> int:
        """Default visit length of a venue kind, falling back to 'other'."""
        d = self._values.dwell_minutes
        return d.get(kind or "other", d["other"])

    @property
    def cluster(self) -> dict[str, Cluster]:
        """Cluster thresholds per venue kind (kinds absent here have none)."""
        return dict(self._values.cluster)

    @property
    def lockdown_min_contacts(self) -> int:
        """A hamlet with an exposure venue of at least this many contacts is proposed for a narrow lockdown."""
        return self._values.lockdown_min_contacts

    @property
    def lockdown_min_f0_residents(self) -> int:
        """A hamlet with at least this many F0 residents is proposed for a narrow lockdown."""
        return self._values.lockdown_min_f0_residents

    def open_parameters(self) -> list[str]:
        """Names of the parameters the research could not confirm."""
        return [k for k, p in self.parameters.items() if p.status != "confirmed"]


class _Problems(ValueError):
    """Several located problems, raised from a validator and reported one per line-part."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _loc(loc: tuple[int | str, ...], lead: str = "") -> str:
    return (lead + ".".join(str(x) for x in loc)) if loc else ""


def _msg(err: Any) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing"
    return f"{err['msg']} (got {err.get('input')!r})"


def _describe_errors(e: ValidationError) -> list[str]:
    out: list[str] = []
    for err in e.errors():
        ctx = err.get("ctx") or {}
        inner = ctx.get("error")
        if isinstance(inner, _Problems):
            out.extend(inner.problems)
        else:
            out.append(f"{_loc(err['loc']) or '(top level)'}: {_msg(err)}")
    return out


# --- loading -----------------------------------------------------------------------------------------


def trace_rule_ids() -> list[str]:
    """Ids of the shipped trace rule sets (file stem = id)."""
    return sorted(p.stem for p in TRACE_RULESET_DIR.glob("*.yml"))


def _resolve(ref: str) -> Path:
    if ref.endswith((".yml", ".yaml")) or "/" in ref:
        path = Path(ref)
    else:
        path = TRACE_RULESET_DIR / f"{ref}.yml"
    if not path.is_file():
        raise UnknownTraceRules(ref, trace_rule_ids())
    return path


def load_trace_rules(id_or_path: str | Path = DEFAULT_TRACE_RULESET) -> TraceRules:
    """Load a shipped trace rule set by id, or any trace rule set YAML by path."""
    path = _resolve(str(id_or_path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InvalidTraceRules(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise InvalidTraceRules(f"{path}: a trace rule set must be a YAML mapping")
    try:
        return TraceRules.model_validate(data)
    except ValidationError as e:
        raise InvalidTraceRules(f"{path}: " + "; ".join(_describe_errors(e))) from None


def describe(rules: TraceRules) -> dict[str, Any]:
    """A JSON-ready description of a rule set (for `covidgis trace rulesets --json`)."""
    return {
        "id": rules.id,
        "version": rules.version,
        "title": rules.title,
        "title_en": rules.title_en,
        "covisit": rules.covisit,
        "decision": rules.decision.model_dump(mode="json"),
        "related": [r.model_dump(mode="json") for r in rules.related],
        "parameters": {k: p.model_dump(mode="json") for k, p in rules.parameters.items()},
        "open": rules.open_parameters(),
        "advice": {k: a.model_dump(mode="json") for k, a in rules.advice.items()},
    }
