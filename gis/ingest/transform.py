"""Row → staging record: the file's header is planned against the feed (which column gives which field), and its
rows become COPY text lines for the staging table (rowcode.py), converted by each field's type (fieldtypes.py).

Everything else (required, numbers, vocabulary, dates in the future, location, duplicates) is checked in SQL over
the whole batch. A value that cannot be converted here is passed on as written, and its field is listed as bad.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gis.ingest.errors import UnusableFileError, shown
from gis.ingest.feeds import Feed
from gis.ingest.pseudonym import Pseudonymiser
from gis.ingest.rowcode import compile_lines


def plan(feed: Feed, header: list[str], file_name: str) -> list[tuple[str, int | None]]:
    """Field → column index, in feed order; UnusableFileError when a required field has no column, or when a field
    has more than one (two columns named alike: which one holds the data is not ours to guess)."""
    columns = feed.match_columns(header)
    twice = [(name, found) for name, found in columns.items() if len(found) > 1]
    if twice:
        name, found = twice[0]
        listed = " and ".join(f"{i + 1} ({shown(header[i])})" for i in found)
        raise UnusableFileError(
            f"{file_name}: columns {listed} both give {feed.label(name)} ({name}) of feed "
            f"{feed.name!r}: keep one of them"
        )
    missing = [f"{feed.label(n)} ({n})" for n, spec in feed.fields.items() if spec.required and n not in columns]
    if missing:
        names = [shown(h, 40) for h in header[:40]] + (["…"] if len(header) > 40 else [])
        raise UnusableFileError(
            f"{file_name}: required column(s) missing for feed {feed.name!r}: "
            f"{', '.join(missing)}. The file has: {', '.join(names)}"
        )
    return [(name, columns[name][0] if name in columns else None) for name in feed.fields]


class Records:
    """Staging records as lines of COPY text (see COPY_OPTIONS): row number, bad fields (an array literal, or
    empty), the row's flaw (reason, field, message; empty when none), the row hash (rowcode.row_hash), then one value
    per field in feed order; an empty value is NULL.

    width: the cells a row must have (the header's, CSV), or None (objects and worksheets: cells are named or
    positioned). keys_increasing: so far every row's natural key (as staged) was greater than the row before's, so
    no two rows share a key and the batch need not look for duplicate keys (exports are often sorted by their id).
    last_row: the number of the last row read whole (the source's error, if any, lies after it)."""

    def __init__(
        self,
        feed: Feed,
        header: list[str],
        rows: Iterator[tuple[int, list]],
        pseudonymiser: Pseudonymiser,
        file_name: str,
        width: int | None = None,
    ):
        self._state: list[Any] = [True, None]  # [keys_increasing, last_row], written by the row function
        self._lines = compile_lines(feed, plan(feed, header, file_name), pseudonymiser, width, self._state)(rows)

    def __iter__(self) -> Iterator[str]:
        return self._lines  # the generator itself: no extra call per row

    @property
    def keys_increasing(self) -> bool:
        return bool(self._state[0])

    @property
    def last_row(self) -> int | None:
        return self._state[1]


records = Records
