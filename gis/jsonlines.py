"""JSON lines (one JSON object a line) read one way, wherever they come from: an NDJSON feed file (ingest) or the
standard input of `covidgis risk classify`. A line that cannot be read stops the reading with one message in plain
words that names it (JsonLinesError): not JSON, nested too deeply, a number too long to read, not an object, or
longer than the limit. Lines are numbered as an editor shows them (blank lines are skipped but counted); lines end
at LF, so a CR is JSON whitespace.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any, Protocol

MAX_LINE = 1 << 24  # characters of one line (16 Mi): a line is read whole, so this bounds what one line can hold


class JsonLinesError(ValueError):
    """Why a line or a JSON text cannot be read; the message begins with where it is ("line 7 …")."""


class Lines(Protocol):
    def readline(self, size: int = -1, /) -> str: ...


def parse(text: str, where: str) -> Any:
    """JSON text as Python; JsonLinesError naming where when it is not JSON we read."""
    try:
        return json.loads(text)
    except RecursionError as exc:  # ~1,000 levels of nesting
        raise JsonLinesError(f"{where} nests objects or arrays too deeply; a row is one flat object") from exc
    except json.JSONDecodeError as exc:
        raise JsonLinesError(f"{where} is not JSON ({exc.msg})") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits; the message says so, and is short
        raise JsonLinesError(f"{where} is not JSON we read ({str(exc)[:80]})") from exc


def objects(lines: Lines, max_line: int = MAX_LINE) -> Iterator[tuple[int, dict[str, Any], str]]:
    """(line number, object, line as read) for each line that is not blank; JsonLinesError at the first that is not
    one JSON object of at most max_line characters. A UTF-8 byte order mark before the first line is skipped."""
    for number in itertools.count(1):
        line = lines.readline(max_line)
        if not line:
            return
        if len(line) == max_line and not line.endswith("\n"):
            raise JsonLinesError(f"line {number} is longer than {max_line:,} characters")
        if number == 1:
            line = line.removeprefix("\ufeff")
        if not line.strip():
            continue
        obj = parse(line, f"line {number}")
        if not isinstance(obj, dict):
            raise JsonLinesError(f"line {number} is not a JSON object")
        yield number, obj, line
