"""Errors of the care stage that a user can act on (a bad or unknown rule set, an unknown facility)."""

from __future__ import annotations

from gis.errors import CovidGisError


class CareError(CovidGisError):
    """Base of the care stage's user-facing errors."""


class InvalidCareRules(CareError):
    """A clinical rule set YAML does not validate; the message names the file and the key path."""


class UnknownCareRules(CareError):
    """The clinical rule set id is not shipped and is not a readable YAML path."""

    def __init__(self, ref: str, available: list[str]):
        self.ref = ref
        self.available = available
        super().__init__(
            f"unknown clinical rule set {ref!r}; shipped clinical rule sets: {', '.join(available)} "
            "(or give a path to a .yml file)"
        )
