"""The one shape of a job's result: a dataclass with `to_json()`, logged by the job and printed by the CLI."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any


class Summary:
    """Base of every job summary (ingest batch, indicators, zones, boundaries load, recompute, backup…).

    Subclasses are `@dataclass`es; `to_json()` gives their fields as JSON-ready values (dates as ISO text, paths as
    text, nested summaries as objects) so the CLI's `--json` and the logs print every summary the same way.
    """

    def to_json(self) -> dict[str, Any]:
        if not dataclasses.is_dataclass(self):
            raise TypeError(f"{type(self).__name__} must be a dataclass")
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.repr}


def _plain(value: Any) -> Any:
    if isinstance(value, Summary):
        return value.to_json()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
