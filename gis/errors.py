"""The errors a user can act on; everything else is a bug and keeps its traceback."""


class CovidGisError(Exception):
    """Base of errors a user can act on."""
