"""Errors of the risk engine that a user can act on (bad rule set, missing or invalid input)."""

from __future__ import annotations

from gis.errors import CovidGisError


class RiskError(CovidGisError):
    """Base of the risk engine's user-facing errors."""


class UnknownRuleset(RiskError):
    """The rule set id is not shipped and is not a readable YAML path."""

    def __init__(self, ref: str, available: list[str]):
        self.ref = ref
        self.available = available
        super().__init__(
            f"unknown rule set {ref!r}; shipped rule sets: {', '.join(available)} (or give a path to a .yml file)"
        )


class InvalidRuleset(RiskError):
    """A rule set YAML does not validate or refers to something it does not define."""


class _IndicatorError(RiskError):
    """A problem with one named indicator; the message names the field (and says why)."""

    problem = "bad"

    def __init__(self, field: str, detail: str = ""):
        self.field = field
        self.detail = detail
        msg = f"{self.problem} indicator {field!r}"
        super().__init__(f"{msg}: {detail}" if detail else msg)


class MissingIndicator(_IndicatorError):
    """A needed indicator is null or absent and the rule set has no 'not available' answer for it."""

    problem = "missing"


class InvalidIndicator(_IndicatorError):
    """An indicator value cannot be read as a number (or a date, for `date`)."""

    problem = "invalid"


class UnsupportedLevel(RiskError):
    """The rule set has no assessment for the requested administrative level."""
