"""Row → staging record: pseudonymise the person, parse dates by the feed's explicit formats, map spellings.

Everything else (required, numbers, vocabulary, dates in the future, location, duplicates) is checked in SQL over
the whole batch. A value that cannot be parsed here is passed on as written, and its field is listed in `_bad`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from gis.ingest.errors import UnusableFileError
from gis.ingest.feeds import BOOL_VALUES, Feed, FieldSpec
from gis.ingest.pseudonym import Pseudonymiser

Converter = Callable[[Any], str | None]
_CACHE_LIMIT = 200_000


def _text(value: Any) -> str | None:
    if value.__class__ is str:  # the common case (CSV): no other checks
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():  # spreadsheet numbers: 26020.0 is the code 26020
        value = int(value)
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
        return lambda s: (dt.datetime.fromisoformat(s) if len(s) == 19 and s[10] == sep and s[4] == s[7] == "-"
                          else _fail())
    return None


_DIRECTIVES = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"(?P<Y>\d{4})",
               "%H": r"(?P<H>\d{1,2})", "%M": r"(?P<M>\d{1,2})", "%S": r"(?P<S>\d{1,2})"}


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

    def parse(s: str) -> dt.datetime:
        found = match(s)
        if found is None:
            raise ValueError(s)
        g = found.groupdict()
        return dt.datetime(int(g["Y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0), int(g.get("M") or 0),
                           int(g.get("S") or 0))  # ValueError on 31/02 and the like, as strptime
    return parse


def _fail() -> dt.datetime:
    raise ValueError("shape")


def _dates(spec: FieldSpec) -> Converter:
    """Parse with each explicit format in turn (never guessed); output ISO text for PostgreSQL."""
    parsers = [_fast_iso(fmt) or _numeric(fmt) or (lambda s, f=fmt: dt.datetime.strptime(s, f))
               for fmt in spec.formats]
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
    """Field → column index, in feed order; UnusableFileError when a required field has no column."""
    found = feed.match_header(header)
    missing = [f"{feed.label(n)} ({n})" for n, spec in feed.fields.items() if spec.required and n not in found]
    if missing:
        raise UnusableFileError(f"{file_name}: required column(s) missing for feed {feed.name!r}: "
                                f"{', '.join(missing)}. The file has: {', '.join(map(str, header))}")
    return [(name, found.get(name)) for name in feed.fields]


def records(feed: Feed, header: list[str], rows: Iterator[tuple[int, list]], pseudonymiser: Pseudonymiser,
            file_name: str) -> Iterator[list]:
    """Staging records: [row number, bad fields (array literal or None), one value per field in feed order]."""
    steps = [(name, index, converter(feed.fields[name], pseudonymiser))
             for name, index in plan(feed, header, file_name)]
    for number, row in rows:
        width = len(row)
        bad = None
        out: list = [number, None]
        for name, index, convert in steps:
            value = row[index] if index is not None and index < width else None
            if value is None or value == "":
                out.append(None)
                continue
            try:
                out.append(convert(value))
            except ValueError:
                bad = f"{bad},{name}" if bad else name
                out.append(_text(value))
        if bad:
            out[1] = "{" + bad + "}"
        yield out
