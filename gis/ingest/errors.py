"""Errors of the ingest stage a user can act on: each names the feed or file and what to fix."""

from gis.errors import CovidGisError


class IngestError(CovidGisError):
    """Base of ingest errors."""


class FeedError(IngestError):
    """A feed definition is unknown or invalid (ingest/feeds/<name>.yml)."""


class UnusableFileError(IngestError):
    """The file as a whole cannot be ingested (unreadable, wrong format or encoding, a required column missing)."""


def shown(value: object, limit: int = 60) -> str:
    """Text from a file as a message shows it: quoted with control characters escaped (repr), cut to limit
    characters, so that a header or value can neither flood nor garble the one line a user reads."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")
