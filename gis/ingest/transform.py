"""Row → staging record: pseudonymise the person, parse dates by the feed's explicit formats, map spellings.

Everything else (required, numbers, vocabulary, dates in the future, location, duplicates) is checked in SQL over
the whole batch. A value that cannot be parsed here is passed on as written, and its field is listed in `_bad`.

This is the per-row Python of a batch, so it is written for speed: records() runs one function generated for the
feed and the file's header (no loop over fields, no call per text value, one dict lookup per date or vocabulary
spelling) and yields COPY text lines directly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from gis.db.frames import escape_text
from gis.ingest.errors import UnusableFileError, shown
from gis.ingest.feeds import BOOL_VALUES, Feed, FieldSpec
from gis.ingest.pseudonym import Pseudonymiser

Converter = Callable[[Any], str | None]
_CACHE_LIMIT = 200_000
MAX_VALUE = 32_767  # characters of one value: what a spreadsheet cell holds (Excel's limit)
MAX_KEY = 200  # characters of a key field (B-tree indexed: PostgreSQL refuses index entries over 2,704 bytes)
SHOWN = 200  # characters of a value too long that the reject keeps
# An unpaired UTF-16 surrogate (only JSON's \ud800-\udfff escapes make them): not text, staged as a NUL (below).
SURROGATE = re.compile("[\ud800-\udfff]")


def _text(value: Any) -> str | None:
    if value.__class__ is str:  # the common case (CSV): no other checks
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():  # spreadsheet numbers: 26020.0 is the code 26020
        value = int(value)
    if isinstance(value, (dict, list)):  # a JSON object or array where one value belongs: checked as its JSON text
        return SURROGATE.sub("\0", json.dumps(value, ensure_ascii=False))
    s = str(value).strip()
    return s or None


def _norm(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


def _vocabulary(values: dict[str, list[str]]) -> Converter:
    spellings = {_norm(alias): canonical for canonical, aliases in values.items() for alias in [canonical, *aliases]}

    seen: dict[str, str] = {}  # raw spelling → canonical value (a file uses few spellings)

    def convert(value: Any) -> str | None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        s = _text(value)
        if s is None:
            return None
        hit = seen.get(s)
        if hit is None:
            hit = spellings.get(_norm(s), s)
            if len(seen) < _CACHE_LIMIT:
                seen[s] = hit
        return hit

    return convert


def _float(value: Any) -> str | None:
    s = _text(value)
    return None if s is None else s.replace(",", ".")


def _fast_iso(fmt: str) -> Callable[[str], dt.datetime] | None:
    """ISO formats parse with fromisoformat (fast), after checking the exact shape the format allows."""
    if fmt == "%Y-%m-%d":
        return lambda s: dt.datetime.fromisoformat(s) if len(s) == 10 and s[4] == s[7] == "-" else _fail()
    if fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        sep = fmt[8]
        return lambda s: (
            dt.datetime.fromisoformat(s) if len(s) == 19 and s[10] == sep and s[4] == s[7] == "-" else _fail()
        )
    return None


_DIRECTIVES = {
    "%d": r"(?P<d>\d{1,2})",
    "%m": r"(?P<m>\d{1,2})",
    "%Y": r"(?P<Y>\d{4})",
    "%H": r"(?P<H>\d{1,2})",
    "%M": r"(?P<M>\d{1,2})",
    "%S": r"(?P<S>\d{1,2})",
}


def _numeric(fmt: str) -> Callable[[str], dt.datetime] | None:
    """Formats made only of %d %m %Y %H %M %S and separators parse by one regex (strptime is slow); else None."""
    pattern, rest = "", fmt
    while rest:
        if rest[:2] in _DIRECTIVES:
            pattern, rest = pattern + _DIRECTIVES[rest[:2]], rest[2:]
        elif rest[0] == "%":
            return None
        else:
            pattern, rest = pattern + re.escape(rest[0]), rest[1:]
    if "(?P<Y>" not in pattern or "(?P<m>" not in pattern or "(?P<d>" not in pattern:
        return None
    match = re.compile(pattern + r"\Z").match
    fixed = _fixed_width(fmt)

    def parse(s: str) -> dt.datetime:
        if fixed is not None:  # the zero-padded spelling (nearly every export): slices, no regular expression
            parsed = fixed(s)
            if parsed is not None:
                return parsed
        found = match(s)
        if found is None:
            raise ValueError(s)
        g = found.groupdict()
        return dt.datetime(
            int(g["Y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0), int(g.get("M") or 0), int(g.get("S") or 0)
        )  # ValueError on 31/02 and the like, as strptime

    return parse


def _fixed_width(fmt: str) -> Callable[[str], dt.datetime | None] | None:
    """A parser of the zero-padded spelling of a numeric format (every field at a fixed position), written out as
    one function: None when a string does not have that exact shape (then the regular expression decides)."""
    literals, slices, pos, rest = [], {}, 0, fmt
    while rest:
        if rest[:2] in _DIRECTIVES:
            width = 4 if rest[1] == "Y" else 2
            slices[rest[1]] = f"s[{pos}:{pos + width}]"
            pos, rest = pos + width, rest[2:]
        elif rest[0] == "%":
            return None
        else:
            literals.append(f"s[{pos}] == {rest[0]!r}")
            pos, rest = pos + 1, rest[1:]
    names = [c for c in "YmdHMS" if c in slices]
    source = "\n".join(
        [
            "def parse(s):",
            f"    if len(s) == {pos} and {' and '.join(literals + ['s.isascii()'])}:",
            *[f"        {c} = {slices[c]}" for c in names],
            f"        if ({' + '.join(names)}).isdigit():",
            "            return _datetime(" + ", ".join(f"int({c})" if c in slices else "0" for c in "YmdHMS") + ")",
            "    return None",
        ]
    )
    env = {"_datetime": dt.datetime}
    exec(compile(source, f"<date format {fmt}>", "exec"), env)
    return env["parse"]


def _fail() -> dt.datetime:
    raise ValueError("shape")


def _dates(spec: FieldSpec) -> Converter:
    """Parse with each explicit format in turn (never guessed); output ISO text for PostgreSQL."""
    parsers = [_fast_iso(fmt) or _numeric(fmt) or (lambda s, f=fmt: dt.datetime.strptime(s, f)) for fmt in spec.formats]
    as_date = spec.type == "date"
    cache: dict[str, str] = {}

    def convert(value: Any) -> str | None:
        if isinstance(value, dt.datetime):  # typed spreadsheet cell: no format involved
            return value.date().isoformat() if as_date else value.isoformat(" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        s = _text(value)
        if s is None:
            return None
        hit = cache.get(s)
        if hit is not None:
            return hit
        for parse in parsers:
            try:
                parsed = parse(s)
            except ValueError:
                continue
            out = parsed.date().isoformat() if as_date else parsed.isoformat(" ")
            if len(cache) < _CACHE_LIMIT:
                cache[s] = out
            return out
        raise ValueError(s)

    return convert


def converter(spec: FieldSpec, pseudonymiser: Pseudonymiser) -> Converter:
    """The converter of one field."""
    if spec.type == "person":
        return lambda v: pseudonymiser.key(_text(v))
    if spec.type in ("date", "timestamp"):
        return _dates(spec)
    if spec.type == "bool":
        return _vocabulary(BOOL_VALUES)
    if spec.type == "float":
        return _float
    if spec.values:
        return _vocabulary(spec.values)
    return _text


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
    empty), the row's flaw (reason, field, message; empty when none), then one value per field in feed order; an
    empty value is NULL.

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
        self._state = [True, None]
        self._lines = _compile(feed, plan(feed, header, file_name), pseudonymiser, width, self._state)(rows)

    def __iter__(self) -> Iterator[str]:
        return self._lines  # the generator itself: no extra call per row

    @property
    def keys_increasing(self) -> bool:
        return self._state[0]

    @property
    def last_row(self) -> int | None:
        return self._state[1]


records = Records


COPY_OPTIONS = "FORMAT text, NULL ''"
_BAD = object()  # a value that did not convert: staged as written, its field listed in the bad fields
_MEMO_LIMIT = 200_000  # distinct spellings remembered per field (dates at minute precision, vocabularies)
NO_FLAW = "\t\t"  # the three empty flaw columns of a sound row


def _memo(convert: Converter, memo: dict) -> Callable[[Any], Any]:
    """The slow path of a memoised field: convert, remember (str values only, bounded), return str or _BAD."""

    def slow(value: Any) -> Any:
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
        if any(_text(v) is not None for v in row[width:]):
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
        out = []
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
            out.append(escape_text(value))
        return "\t".join([str(number), bad, flaw, *out])

    return line


def _compile(
    feed: Feed, fields: list[tuple[str, int | None]], pseudonymiser: Pseudonymiser, width: int | None, state: list
):
    """A generator function (rows -> COPY lines) written out for this feed and header: the per-row work is one flat
    function with no loop over fields, no per-value calls for text and one dict lookup for dates and vocabularies.
    Semantics are those of converter(): blank is NULL, a value that does not convert is kept as written (stripped)
    and its field listed as bad. A line is checked whole for what COPY text must escape or cannot hold (and for its
    length), so a value costs nothing more; the rare line that fails goes through _careful."""
    need = max([i for _, i in fields if i is not None], default=-1) + 1
    env: dict[str, Any] = {
        "_text": _text,
        "_BAD": _BAD,
        "_NO_FLAW": NO_FLAW,
        "_key": pseudonymiser.keyer(),
        "_state": state,
        "_careful": _careful(feed, [n for n, _ in fields]),
        "_cells": _cells(width, need) if width is not None else None,
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
    position = {name: k for k, (name, _) in enumerate(fields)}
    key = " ".join(f"f{position[k]}," for k in feed.key)
    for k, (name, index) in enumerate(fields):
        out = f"f{k}"
        names.append(out)
        if index is None:
            body.append(f"        {out} = ''")
            continue
        spec = feed.fields[name]
        body.append(f"        v = row[{index}]")
        if spec.type == "person":
            body += [
                f"        {out} = (_key(v) if v.__class__ is str else _key(_text(v) or '') if v is not None "
                f"else None) or ''"
            ]
        elif spec.type in ("date", "timestamp", "bool") or spec.values:
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
        elif spec.type == "float":
            body.append(
                f"        {out} = v.strip().replace(',', '.') if v.__class__ is str else "
                f"(_text(v) or '').replace(',', '.') if v is not None else ''"
            )
        else:
            body.append(
                f"        {out} = v.strip() if v.__class__ is str else (_text(v) or '') if v is not None else ''"
            )
    columns = 5 + len(fields)
    line = "\\t".join(["{number}", "{b}", "{flaw}"] + ["{" + n + "}" for n in names])
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
