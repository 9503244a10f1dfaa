"""Errors of the welfare stage that a user can act on: a bad or unknown programme, a refused delivery."""

from __future__ import annotations

from gis.errors import CovidGisError


class WelfareError(CovidGisError):
    """Base of the welfare stage's user-facing errors."""


class InvalidProgramme(WelfareError):
    """A programme YAML does not validate; the message names the file and the key path."""


class UnknownProgramme(WelfareError):
    """The programme id is not shipped and is not a readable YAML path."""

    def __init__(self, ref: str, available: list[str]):
        self.ref = ref
        self.available = available
        super().__init__(
            f"unknown programme {ref!r}; shipped programmes: {', '.join(available)} (or give a path to a .yml file)"
        )


class DeliveryRefused(WelfareError):
    """A delivery that is not recorded (nothing written); `reason` is a stable code, the message says why."""

    reason = "refused"


class UnknownHousehold(DeliveryRefused):
    reason = "unknown_household"


class ProgrammeNotOpen(DeliveryRefused):
    reason = "programme_not_open"


class OutsideScope(DeliveryRefused):
    """The household is not in the officer's commune or district."""

    reason = "outside_scope"


class InvalidDelivery(DeliveryRefused):
    reason = "invalid_delivery"


class DuplicateDelivery(DeliveryRefused):
    """A delivery inside the dedup scope of an earlier one; `earlier` is that delivery (JSON-ready)."""

    reason = "duplicate"

    def __init__(self, message: str, earlier: dict):
        self.earlier = earlier
        super().__init__(message)
