"""Streaming readers: a file becomes a header and numbered rows, one at a time, never the whole file in memory."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

from gis.ingest.errors import UnusableFileError
from gis.ingest.feeds import Feed

CHUNK = 1 << 16


class Source:
    """A file opened for one feed: its header, its rows numbered as a spreadsheet shows them, and its progress."""

    header: list[str]
    total: int = 0  # units of progress (bytes or rows)

    def rows(self) -> Iterator[tuple[int, list]]:
        raise NotImplementedError

    def done(self) -> int:
        """Progress so far, in the units of total."""
        return 0

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class CsvSource(Source):
    """Delimited text in the feed's encoding; row 1 is the header."""

    def __init__(self, path: Path, feed: Feed):
        self.path = path
        self._bin = open(path, "rb")
        self.total = path.stat().st_size
        self._text = io.TextIOWrapper(self._bin, encoding=feed.encoding, newline="")
        self._reader = csv.reader(self._text, delimiter=feed.delimiter)
        self.header = next(self._reader, None) or []

    def rows(self) -> Iterator[tuple[int, list]]:
        """Numbered rows straight from the C reader (no generator in between): a blank line is an empty row, which
        transform.records skips."""
        return enumerate(self._reader, start=2)

    def done(self) -> int:
        return self._bin.tell()

    def close(self) -> None:
        self._text.close()


class _JsonSource(Source):
    """Objects whose keys are matched like headers: the first object decides which spelling each field uses."""

    def __init__(self, path: Path, feed: Feed):
        self.path = path
        self._bin = open(path, "rb")
        self.total = path.stat().st_size
        self._text = io.TextIOWrapper(self._bin, encoding=feed.encoding)
        self._objects = self._iter_objects()
        first = next(self._objects, None)
        self._first = first
        keys = list(first[1]) if first else []
        found = feed.match_header(keys)
        self.header = keys + [name for name in feed.fields if name not in found]

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple[int, list]]:
        header = self.header
        if self._first is not None:
            yield self._first[0], [self._first[1].get(k) for k in header]
        for number, obj in self._objects:
            yield number, [obj.get(k) for k in header]

    def done(self) -> int:
        return self._bin.tell()

    def close(self) -> None:
        self._text.close()


class NdjsonSource(_JsonSource):
    """One JSON object a line (blank lines skipped); the row number is the line number."""

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        for number, line in enumerate(self._text, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UnusableFileError(f"{self.path.name}: line {number} is not JSON ({exc.msg})") from exc
            if not isinstance(obj, dict):
                raise UnusableFileError(f"{self.path.name}: line {number} is not a JSON object")
            yield number, obj


class JsonArraySource(_JsonSource):
    """A JSON array of objects, decoded incrementally; the row number is the object's position (1 = first)."""

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        decoder = json.JSONDecoder()
        buf, pos, eof, number = "", 0, False, 0
        expect_start = True
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(buf) or (not eof and len(buf) - pos < 2):
                if eof:
                    raise UnusableFileError(f"{self.path.name}: the JSON array is not closed")
                more = self._text.read(CHUNK)
                eof = not more
                buf, pos = buf[pos:] + more, 0
                continue
            if expect_start:
                if buf[pos] != "[":
                    raise UnusableFileError(f"{self.path.name}: expected a JSON array of objects")
                pos, expect_start = pos + 1, False
                continue
            if buf[pos] == "]":
                return
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if eof:
                    raise UnusableFileError(f"{self.path.name}: invalid JSON ({exc.msg})") from exc
                more = self._text.read(CHUNK)
                eof = not more
                buf, pos = buf[pos:] + more, 0
                continue
            if not isinstance(obj, dict):
                raise UnusableFileError(f"{self.path.name}: element {number + 1} of the array is not an object")
            number += 1
            pos = end
            yield number, obj


class XlsxSource(Source):
    """The feed's worksheet (default the first), read row by row; row 1 is the header."""

    def __init__(self, path: Path, feed: Feed):
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        self.path = path
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError) as exc:
            raise UnusableFileError(f"{path.name}: not an Excel workbook (.xlsx) ({exc})") from exc
        if feed.sheet and feed.sheet not in self._book.sheetnames:
            raise UnusableFileError(f"{path.name}: no worksheet {feed.sheet!r} (it has {self._book.sheetnames})")
        sheet = self._book[feed.sheet] if feed.sheet else self._book.worksheets[0]
        self.total = sheet.max_row or 0
        self._rows = sheet.iter_rows(values_only=True)
        first = next(self._rows, None) or ()
        self.header = ["" if h is None else str(h) for h in first]
        self._done = 1

    def rows(self) -> Iterator[tuple[int, list]]:
        for number, row in enumerate(self._rows, start=2):
            self._done = number
            if any(v is not None and v != "" for v in row):
                yield number, list(row)

    def done(self) -> int:
        return self._done

    def close(self) -> None:
        self._book.close()


READERS: dict[str, type[Source]] = {"csv": CsvSource, "ndjson": NdjsonSource, "json": JsonArraySource,
                                    "xlsx": XlsxSource}


def open_source(path: Path, feed: Feed) -> Source:
    """Open path as the feed's format; UnusableFileError when it cannot be read at all."""
    if not path.is_file():
        raise UnusableFileError(f"{path}: no such file")
    try:
        return READERS[feed.format](path, feed)
    except UnicodeDecodeError as exc:
        raise UnusableFileError(f"{path.name}: not {feed.encoding} text (byte {exc.start}); "
                                f"the feed {feed.name!r} declares encoding {feed.encoding}") from exc
    except (OSError, csv.Error) as exc:
        raise UnusableFileError(f"{path.name}: cannot read it ({exc})") from exc
