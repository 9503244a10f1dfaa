"""Errors of the travel stage that a user can act on (a bad or unknown travel rule set)."""

from __future__ import annotations

from gis.errors import CovidGisError


class TravelError(CovidGisError):
    """Base of the travel stage's user-facing errors."""


class InvalidTravelRules(TravelError):
    """A travel rule set YAML does not validate; the message names the file and the key path."""


class UnknownTravelRules(TravelError):
    """The travel rule set id is not shipped and is not a readable YAML path."""

    def __init__(self, ref: str, available: list[str]):
        self.ref = ref
        self.available = available
        super().__init__(
            f"unknown travel rule set {ref!r}; shipped travel rule sets: {', '.join(available)} "
            "(or give a path to a .yml file)"
        )
