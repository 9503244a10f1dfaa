"""Errors of the trace stage that a user can act on (a bad or unknown rule set, bad input)."""

from __future__ import annotations

from gis.errors import CovidGisError


class TraceError(CovidGisError):
    """Base of the trace stage's user-facing errors."""


class InvalidTraceRules(TraceError):
    """A trace rule set YAML does not validate; the message names the file and the key path."""


class UnknownTraceRules(TraceError):
    """The trace rule set id is not shipped and is not a readable YAML path."""

    def __init__(self, ref: str, available: list[str]):
        self.ref = ref
        self.available = available
        super().__init__(
            f"unknown trace rule set {ref!r}; shipped trace rule sets: {', '.join(available)} "
            "(or give a path to a .yml file)"
        )
