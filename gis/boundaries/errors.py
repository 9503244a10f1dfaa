"""Errors raised by the pure boundary functions; each message names the unit and what to fix."""

from gis.errors import CovidGisError


class BoundaryError(CovidGisError):
    """Base of boundary, hamlet and population errors."""


class HamletPointError(BoundaryError):
    """A hamlet point cannot become a polygon: outside or absent commune, or a duplicate location."""


class PopulationError(BoundaryError):
    """Population cannot be distributed: a parent total is missing or the raster is unusable."""
