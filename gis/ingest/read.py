"""Streaming readers: a file becomes a header and numbered rows, one at a time, never the whole file in memory.

A file that cannot be read as its format says is unusable as a whole (UnusableFileError, one line naming the row);
what is wrong with one row only is for transform.py and the batch's checks to reject.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from gis import jsonlines
from gis.ingest.errors import UnusableFileError, shown
from gis.ingest.feeds import Feed
from gis.ingest.fieldtypes import SURROGATE

CHUNK = 1 << 16
MAX_FIELD = 1 << 24  # characters of one CSV value the reader holds (16 Mi): beyond it, a quote was surely left open
MAX_LINE = jsonlines.MAX_LINE  # characters of one NDJSON line, and of one element of a JSON array being decoded
csv.field_size_limit(MAX_FIELD)  # the csv module's limit is one per process (its default, 128 Ki, is a whole file)
_LONE_CR = re.compile(rb"\r(?!\n)")
_LONE_CR_TEXT = re.compile(r"\r(?!\n)")
_KEPT_CR = "\udc0d"  # stands for a CR that is data while csv reads the line: strict decoding never yields a surrogate
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class Source:
    """A file opened for one feed: its header, its rows numbered as a spreadsheet shows them, and its progress."""

    header: list[str]
    total: int = 0  # units of progress (bytes or rows)
    width: int | None = None  # the cells every row must have (CSV: the header's); None when cells are named

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
    """Delimited text in the feed's encoding; row 1 is the header, and a row is a record: a quoted value holding
    line breaks is one row, as a spreadsheet shows it. Rows end at the file's line breaks (LF or CRLF; CR alone in a
    file without any LF); a CR alone in a file of LF lines is part of its value. Quoting is strict (RFC 4180): a
    quote left open or followed by other characters makes the file unusable, naming the row."""

    def __init__(self, path: Path, feed: Feed):
        self.path = path
        self._bin = open(path, "rb")
        self.total = path.stat().st_size
        self._keep_cr = _lone_cr(self._bin, feed.encoding)
        self._text = io.TextIOWrapper(self._bin, encoding=feed.encoding, newline="\n" if self._keep_cr else "")
        lines = (_LONE_CR_TEXT.sub(_KEPT_CR, line) for line in self._text) if self._keep_cr else self._text
        self._reader = csv.reader(lines, delimiter=feed.delimiter, strict=True)
        try:
            header = next(self._reader, None) or []
        except csv.Error as exc:
            raise UnusableFileError(f"{path.name}: row 1 (the header): {csv_problem(exc, feed.delimiter)}") from exc
        self.header = [h.replace(_KEPT_CR, "\r") for h in header] if self._keep_cr else header
        named = [i for i, h in enumerate(self.header) if h.strip()]
        self.width = named[-1] + 1 if named else len(self.header)  # trailing separators of the header name nothing

    def rows(self) -> Iterator[tuple[int, list]]:
        """Numbered rows straight from the C reader (no generator in between): a blank line is an empty row, which
        transform.records skips. Only a file whose CRs are data goes through a generator that puts them back."""
        rows = enumerate(self._reader, start=2)
        if not self._keep_cr:
            return rows
        return ((n, [v.replace(_KEPT_CR, "\r") for v in row]) for n, row in rows)

    def done(self) -> int:
        return self._bin.tell()

    def close(self) -> None:
        self._text.close()


def _lone_cr(f, encoding: str) -> bool:
    """Whether a CR alone is data in this file: its header line ends with LF (or CRLF), and a CR not followed by
    LF comes later. One pass over the bytes, ~0.1 s for 100 MB; the file is rewound. In a file whose header ends
    with a CR alone, CRs end the rows (old Mac exports). Encodings where CR and LF are not single bytes (UTF-16) are
    not scanned: their CRs end rows, as the csv module reads them."""
    if not "\r\n".encode(encoding).endswith(b"\r\n"):
        return False
    header = f.readline(1 << 16)
    lone = after_cr = False
    if header.endswith(b"\n") and b"\r" not in header[:-2]:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            found = _LONE_CR.search(chunk)
            # a CR ending the chunk is decided by the next one
            lone = (after_cr and not chunk.startswith(b"\n")) or (found is not None and found.end() < len(chunk))
            after_cr = chunk.endswith(b"\r")
            if lone:
                break
    f.seek(0)
    return lone or after_cr


def csv_problem(exc: csv.Error, delimiter: str) -> str:
    """What the csv module's error means, in the words of someone who fixes the file."""
    text = str(exc)
    if "expected after" in text:
        return (
            f"a quoted value is followed by other characters before the next {delimiter!r}: quote the whole "
            'value, or double a quote inside it ("")'
        )
    if "unexpected end of data" in text:
        return "a quote is opened and never closed: the value runs to the end of the file"
    if "field larger than field limit" in text:
        return f"a value is longer than {MAX_FIELD:,} characters: is a quote left open?"
    return f"not readable as CSV ({shown(text)})"


class _JsonSource(Source):
    """Objects whose keys are matched like headers: the first object decides which spelling each field uses."""

    def __init__(self, path: Path, feed: Feed):
        self.path = path
        self._bin = open(path, "rb")
        self.total = path.stat().st_size
        self._text = io.TextIOWrapper(self._bin, encoding=feed.encoding, newline="\n")
        self._objects = self._iter_objects()
        first = next(self._objects, None)
        self._first = first
        keys = list(first[1]) if first else []
        found = feed.match_header(keys)
        self.header = keys + [name for name in feed.fields if name not in found]

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        raise NotImplementedError

    def _parse(self, text: str, where: str) -> object:
        """JSON text as Python; UnusableFileError naming where when it is not JSON we can read."""
        try:
            return jsonlines.parse(text, where)
        except jsonlines.JsonLinesError as exc:
            raise UnusableFileError(f"{self.path.name}: {exc}") from exc

    def _object(self, obj: object, text: str, where: str) -> dict:
        """A decoded row, which must be an object. A lone surrogate escape in it (not text) becomes a NUL, which the
        row is rejected for (rowcode._careful); only rows whose text has such an escape are looked at."""
        if not isinstance(obj, dict):
            raise UnusableFileError(f"{self.path.name}: {where} is not a JSON object")
        if _SURROGATE_ESCAPE.search(text):
            obj = {SURROGATE.sub("\0", k): SURROGATE.sub("\0", v) if isinstance(v, str) else v for k, v in obj.items()}
        return obj

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
    """One JSON object a line (blank lines skipped); the row number is the line number (lines end at LF: a CR is
    JSON whitespace)."""

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        objects = jsonlines.objects(self._text, MAX_LINE)
        while True:
            try:
                found = next(objects, None)
            except jsonlines.JsonLinesError as exc:
                raise UnusableFileError(f"{self.path.name}: {exc}") from exc
            if found is None:
                return
            number, obj, line = found
            yield number, self._object(obj, line, f"line {number}")


class JsonArraySource(_JsonSource):
    """A JSON array of objects, decoded incrementally; the row number is the object's position (1 = first)."""

    def _iter_objects(self) -> Iterator[tuple[int, dict]]:
        decoder = json.JSONDecoder()
        buf, pos, eof, number = "", 0, False, 0
        expect_start = True
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,\ufeff":
                pos += 1
            if pos >= len(buf) or (not eof and len(buf) - pos < 2):
                if eof:
                    raise UnusableFileError(f"{self.path.name}: the JSON array is not closed")
                buf, pos, eof = self._more(buf, pos, number)
                continue
            if expect_start:
                if buf[pos] != "[":
                    raise UnusableFileError(f"{self.path.name}: expected a JSON array of objects")
                pos, expect_start = pos + 1, False
                continue
            if buf[pos] == "]":
                return
            where = f"element {number + 1} of the array"
            try:
                obj, end = decoder.raw_decode(buf, pos)
            except RecursionError as exc:
                raise UnusableFileError(
                    f"{self.path.name}: {where} nests objects or arrays too deeply; a row is one flat object"
                ) from exc
            except ValueError:  # incomplete in the buffer, or not JSON: _parse says why once all is read
                if not eof:
                    buf, pos, eof = self._more(buf, pos, number)
                    continue
                obj, end = self._parse(buf[pos:], where), len(buf)
            number += 1
            yield number, self._object(obj, buf[pos:end], where)
            pos = end

    def _more(self, buf: str, pos: int, number: int) -> tuple[str, int, bool]:
        """The unread rest of buf and at least as much again from the file (so that a large element is decoded a
        few times, not once per chunk); UnusableFileError when one element outgrows MAX_LINE."""
        rest = buf[pos:]
        if len(rest) > MAX_LINE:
            raise UnusableFileError(
                f"{self.path.name}: element {number + 1} of the array is not JSON, or longer "
                f"than {MAX_LINE:,} characters"
            )
        more = self._text.read(max(CHUNK, len(rest)))
        return rest + more, 0, not more


class XlsxSource(Source):
    """The feed's worksheet (default the first), read row by row; row 1 is the header. Cells are placed by column:
    one under no header is not read."""

    def __init__(self, path: Path, feed: Feed):
        from openpyxl import load_workbook

        self.path = path
        try:
            self._book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # whatever openpyxl meets in a broken or foreign file
            raise UnusableFileError(f"{path.name}: not an Excel workbook (.xlsx) ({shown(exc, 80)})") from exc
        if feed.sheet and feed.sheet not in self._book.sheetnames:
            raise UnusableFileError(f"{path.name}: no worksheet {feed.sheet!r} (it has {self._book.sheetnames})")
        sheet = self._book[feed.sheet] if feed.sheet else self._book.worksheets[0]
        self.total = sheet.max_row or 0
        self._rows = sheet.iter_rows(values_only=True)
        self._done = 1
        first = self._next_row()
        self.header = ["" if h is None else str(h) for h in first or ()]

    def _next_row(self) -> tuple | None:
        """The next row of the sheet; UnusableFileError naming it when the workbook breaks off there."""
        try:
            return next(self._rows, None)
        except Exception as exc:  # a damaged sheet fails inside openpyxl's XML and zip reading
            raise UnusableFileError(
                f"{self.path.name}: row {self._done}: the worksheet cannot be read "
                f"({type(exc).__name__}: {shown(exc, 80)})"
            ) from exc

    def rows(self) -> Iterator[tuple[int, list]]:
        while True:
            self._done += 1
            row = self._next_row()
            if row is None:
                return
            if any(v is not None and v != "" for v in row):
                yield self._done, list(row)

    def done(self) -> int:
        return self._done

    def close(self) -> None:
        self._book.close()


READERS: dict[str, Callable[[Path, Feed], Source]] = {
    "csv": CsvSource,
    "ndjson": NdjsonSource,
    "json": JsonArraySource,
    "xlsx": XlsxSource,
}


def open_source(path: Path, feed: Feed) -> Source:
    """Open path as the feed's format; UnusableFileError when it cannot be read at all."""
    if not path.is_file():
        raise UnusableFileError(f"{path}: no such file")
    try:
        return READERS[feed.format](path, feed)
    except UnicodeDecodeError as exc:
        raise UnusableFileError(
            f"{path.name}: not {feed.encoding} text (byte {exc.start}); "
            f"the feed {feed.name!r} declares encoding {feed.encoding}"
        ) from exc
    except OSError as exc:
        raise UnusableFileError(f"{path.name}: cannot read it ({exc})") from exc
