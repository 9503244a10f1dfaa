"""Errors of the publish stage that a user can act on."""

from __future__ import annotations

from gis.errors import CovidGisError


class PublishError(CovidGisError):
    """The snapshot cannot be published (nothing published yet, an unusable output folder)."""
