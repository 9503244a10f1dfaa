"""Named SQL statements from .sql files: `-- name: x` starts statement x (the way tipg keeps its SQL)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


@cache
def load(path: Path) -> dict[str, str]:
    """Statements of a .sql file by name, in file order."""
    text = path.read_text(encoding="utf-8")
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}
