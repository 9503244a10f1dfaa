"""The one generated Python of ingest: per feed and header, the function that turns numbered rows into COPY text lines.

A row costs one call of a flat function written out for the feed and the file's header (no loop over fields, no call
per text value, one dict lookup per date or vocabulary spelling), which is ~35 % faster than a loop calling one
converter per field (measured on 300,000 rows of the tests feed: 2.7 s against 3.9 s). It is a second
implementation of fieldtypes.converter(): tests/ingest/test_ingest_rowcode.py holds the two together on random rows
(Hypothesis), and nothing else in the package generates or runs source.

A line (see COPY_OPTIONS): row number, bad fields (an array literal, or empty), the row's flaw (reason, field,
message; empty when none), the row hash, then one value per field in feed order; an empty value is NULL.

The row hash is what the merge stores as `row_hash` and compares to tell a correction from a duplicate:
`md5(ROW(<staged values in feed order>)::text)`, the digest batches stored before it was made here. It is computed
in Python (record_text mirrors PostgreSQL's record_out for text values) because the server spends ~2-5 s per million
rows on it while it is the merge's bottleneck, and Python runs on the other core while COPY reads;
tests/ingest/test_ingest_rowcode.py holds record_text to the server's `ROW(...)::text` on random values.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from typing import Any

from gis.db.frames import escape_text
from gis.ingest.feeds import Feed
from gis.ingest.fieldtypes import FIELD_TYPES, Converter, converter, text
from gis.ingest.pseudonym import Pseudonymiser

MAX_VALUE = 32_767  # characters of one value: what a spreadsheet cell holds (Excel's limit)
MAX_KEY = 200  # characters of a key field (B-tree indexed: PostgreSQL refuses index entries over 2,704 bytes)
SHOWN = 200  # characters of a value too long that the reject keeps
Lines = Callable[[Iterator[tuple[int, list]]], Iterator[str]]

COPY_OPTIONS = "FORMAT text, NULL ''"
_BAD = object()  # a value that did not convert: staged as written, its field listed in the bad fields
_MEMO_LIMIT = 200_000  # distinct spellings remembered per field (dates at minute precision, vocabularies)
NO_FLAW = "\t\t"  # the three empty flaw columns of a sound row
# What makes record_out quote a value: a quote, backslash, parenthesis, comma or ASCII white space (C isspace()).
_RECORD_SPECIAL = re.compile(r'[ \t\n\r\v\f"\\(),]').search
_RECORD_MEMO_LIMIT = 400_000  # record forms of memoised fields' values remembered per file


def record_value(value: str) -> str:
    """A staged value as PostgreSQL's record_out writes it inside `ROW(...)::text`: NULL (staged '') as nothing,
    a value holding a quote, backslash, parenthesis, comma or white space in quotes with quotes and backslashes
    doubled, any other value as it is. (A non-NULL empty value, which record_out would quote, is never staged.)"""
    if not value or _RECORD_SPECIAL(value) is None:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '""') + '"'


def record_text(values: list[str]) -> str:
    """`ROW(values)::text` of staged text values ('' is NULL)."""
    return "(" + ",".join(map(record_value, values)) + ")"


def row_hash(values: list[str]) -> str:
    """`md5(ROW(values)::text)`: the row hash of staged values."""
    return hashlib.md5(record_text(values).encode(), usedforsecurity=False).hexdigest()


class _RecordForms(dict):
    """Staged value → its record form, for fields whose values repeat (dates, vocabularies): one dict lookup a
    value; at most _RECORD_MEMO_LIMIT are remembered."""

    def __missing__(self, value: str) -> str:
        out = record_value(value)
        if len(self) < _RECORD_MEMO_LIMIT:
            self[value] = out
        return out


def _memo(convert: Converter, memo: dict[Any, Any]) -> Callable[[Any], Any]:
    """The slow path of a memoised field: convert, remember (str values only, bounded), return str or _BAD."""

    def slow(value: Any) -> Any:
        out: Any
        try:
            out = convert(value) or ""
        except ValueError:
            out = _BAD
        if value.__class__ is str and len(memo) < _MEMO_LIMIT:
            memo[value] = out
        return out

    return slow


def _flaw(reason: str, field: str | None, message: str) -> str:
    """The flaw columns of a row that no per-field check can see (validate.sql reports them as they are)."""
    return f"{reason}\t{field or ''}\t{escape_text(message)}"


def _cells(width: int, need: int) -> Callable[[list], tuple[str, list]]:
    """For a row whose cell count differs from the header's: its flaw (none when the extra cells are empty, as
    trailing separators leave them) and the row padded to the cells the fields read."""

    def check(row: list) -> tuple[str, list]:
        n = len(row)
        if n < width:
            return (
                _flaw(
                    "missing_values",
                    None,
                    f"the row has {n} values but the header has {width} columns: "
                    "it ends early (a value or separator is missing)",
                ),
                list(row) + [None] * (need - n) if n < need else row,
            )
        if any(text(v) is not None for v in row[width:]):
            return (
                _flaw(
                    "extra_values",
                    None,
                    f"the row has {n} values but the header has {width} columns: a "
                    "value too many, or a separator inside a value that is not quoted",
                ),
                row,
            )
        return NO_FLAW, row

    return check


def _short_fields(feed: Feed) -> list[str]:
    """The fields held to MAX_KEY: the natural key and the key a row is located through (both B-tree indexed)."""
    via = feed.locate.via.key if feed.locate and feed.locate.via else None
    return list(dict.fromkeys([*feed.key, *([via] if via else [])]))


def _careful(feed: Feed, names: list[str]) -> Callable[..., str]:
    """The COPY line of a rare record (a value with a tab, line break, backslash or NUL, or very long): values
    escaped for COPY text, and the row flawed (if it is not already) when a value holds a NUL, which no text can
    hold (it is staged as U+FFFD so that the reject shows where), or is longer than MAX_VALUE (MAX_KEY for the
    key), which is staged cut to SHOWN characters."""
    labels = [feed.label(n) for n in names]
    limits = [MAX_KEY if n in _short_fields(feed) else MAX_VALUE for n in names]

    def line(number: int, bad: str, flaw: str, values: list[str]) -> str:
        out, staged = [], []
        for name, label, limit, value in zip(names, labels, limits, values):
            if "\0" in value:
                value = value.replace("\0", "\ufffd")
                if flaw == NO_FLAW:
                    flaw = _flaw(
                        "invalid_character",
                        name,
                        f"{label}: holds a character no text can hold (a NUL "
                        "byte, or in JSON a lone \\ud800-\\udfff escape); remove it",
                    )
            if len(value) > limit:
                if flaw == NO_FLAW:
                    flaw = _flaw(
                        "value_too_long", name, f"{label}: {len(value):,} characters; at most {limit:,} are accepted"
                    )
                value = value[:SHOWN] + "…"
            staged.append(value)
            out.append(escape_text(value))
        return "\t".join([str(number), bad, flaw, row_hash(staged), *out])

    return line


def compile_lines(
    feed: Feed, fields: list[tuple[str, int | None]], pseudonymiser: Pseudonymiser, width: int | None, state: list
) -> Lines:
    """A generator function (rows -> COPY lines) written out for this feed and header: the per-row work is one flat
    function with no loop over fields, no per-value calls for text and one dict lookup for dates and vocabularies.
    Semantics are those of fieldtypes.converter(): blank is NULL, a value that does not convert is kept as written
    (stripped) and its field listed as bad. A line is checked whole for what COPY text must escape or cannot hold
    (and for its length), so a value costs nothing more; the rare line that fails goes through _careful."""
    need = max([i for _, i in fields if i is not None], default=-1) + 1
    env: dict[str, Any] = {
        "_text": text,
        "_BAD": _BAD,
        "_NO_FLAW": NO_FLAW,
        "_key": pseudonymiser.keyer(),
        "_state": state,
        "_careful": _careful(feed, [n for n, _ in fields]),
        "_cells": _cells(width, need) if width is not None else None,
        "_md5": hashlib.md5,
        "_row_hash": row_hash,
        "_sp": _RECORD_SPECIAL,
        "_rq": _RecordForms(),
    }
    body = [
        "    for number, row in rows:",
        "        if not row:",  # a blank line of a CSV file
        "            continue",
        "        flaw = _NO_FLAW",
    ]
    if width is not None:
        body += [f"        if len(row) != {width}:", "            flaw, row = _cells(row)"]
    else:
        body += [f"        if len(row) < {need}:", "            row = list(row) + pad[len(row):]"]
    body.append("        bad = None")
    names = []
    forms = []  # each value's record form in the row hash, as an f-string part
    free = []  # values of any text (text and number paths): the hash's fast path holds when none needs quoting
    position = {name: k for k, (name, _) in enumerate(fields)}
    key = " ".join(f"f{position[k]}," for k in feed.key)
    for k, (name, index) in enumerate(fields):
        out = f"f{k}"
        names.append(out)
        if index is None:
            body.append(f"        {out} = ''")
            forms.append("")  # NULL
            continue
        spec = feed.fields[name]
        path = "memo" if spec.values else FIELD_TYPES[spec.type].row  # a vocabulary is memoised whatever the type
        if path == "person":  # a key is hexadecimal digits: never quoted
            forms.append("{" + out + "}")
        elif path == "memo":  # few distinct values: their record forms are remembered
            forms.append("{_rq[" + out + "]}")
        else:
            forms.append("{" + out + "}")
            free.append(out)
        body.append(f"        v = row[{index}]")
        if path == "person":
            body += [
                f"        {out} = (_key(v) if v.__class__ is str else _key(_text(v) or '') if v is not None "
                f"else None) or ''"
            ]
        elif path == "memo":
            memo: dict = {}
            env[f"m{k}"] = memo.get
            env[f"s{k}"] = _memo(converter(spec, pseudonymiser), memo)
            body += [
                "        if v.__class__ is str:",
                f"            {out} = m{k}(v)",
                f"            if {out} is None:",
                f"                {out} = s{k}(v)",
                "        else:",
                f"            {out} = '' if v is None else s{k}(v)",
                f"        if {out} is _BAD:",
                f"            {out} = _text(v) or ''",
                f"            bad = bad + {',' + name!r} if bad else {name!r}",
            ]
        elif path == "float":
            body.append(
                f"        {out} = v.strip().replace(',', '.') if v.__class__ is str else "
                f"(_text(v) or '').replace(',', '.') if v is not None else ''"
            )
        else:
            body.append(
                f"        {out} = v.strip() if v.__class__ is str else (_text(v) or '') if v is not None else ''"
            )
    columns = 6 + len(fields)
    line = "\\t".join(["{number}", "{b}", "{flaw}", "{h}"] + ["{" + n + "}" for n in names])
    record = "(" + ",".join(forms) + ")"
    fast = f"_md5(f'{record}'.encode(), usedforsecurity=False).hexdigest()"
    if free:
        body += [
            f"        if _sp({' + '.join(free)}) is None:",
            f"            h = {fast}",
            "        else:",
            f"            h = _row_hash([{', '.join(names)}])",
        ]
    else:
        body.append(f"        h = {fast}")
    keys = " or ".join(f"len(f{position[k]}) > {MAX_KEY}" for k in _short_fields(feed))
    body += [
        f"        key = ({key})",  # as staged: what the duplicate check of the batch compares
        "        if increasing:",
        "            if key <= last:",
        "                increasing = _state[0] = False",
        "            last = key",
        "        b = '{' + bad + '}' if bad else ''",
        f"        line = f'{line}'",
        (
            f"        if (line.count('\\t') != {columns - 1} or '\\\\' in line or '\\n' in line or '\\r' in line "
            f"or '\\0' in line or len(line) > {MAX_VALUE} or {keys}):"
        ),
        f"            line = _careful(number, b, flaw, [{', '.join(names)}])",
        "        yield line",
    ]
    source = "\n".join(
        [
            "def lines(rows):",
            f"    pad = [None] * {need}",
            "    increasing, last = _state[0], ()",
            "    number = None",
            "    try:",
            *["    " + b for b in body],
            "    finally:",
            "        _state[1] = number  # the last row read whole",
            "",
        ]
    )
    exec(compile(source, f"<ingest records of feed {feed.name}>", "exec"), env)
    return env["lines"]
