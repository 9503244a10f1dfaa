"""Row → staging record: pseudonymise the person, parse dates by the feed's explicit formats, map spellings.

Everything else (required, numbers, vocabulary, dates in the future, location, duplicates) is checked in SQL over
the whole batch. A value that cannot be parsed here is passed on as written, and its field is listed in `_bad`.

This is the per-row Python of a batch, so it is written for speed: records() runs one function generated for the
feed and the file's header (no loop over fields, no call per text value, one dict lookup per date or vocabulary
spelling) and yields COPY text lines directly.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
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
        return dt.datetime(int(g["Y"]), int(g["m"]), int(g["d"]), int(g.get("H") or 0), int(g.get("M") or 0),
                           int(g.get("S") or 0))  # ValueError on 31/02 and the like, as strptime
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
    source = "\n".join([
        "def parse(s):",
        f"    if len(s) == {pos} and {' and '.join(literals + ['s.isascii()'])}:",
        *[f"        {c} = {slices[c]}" for c in names],
        f"        if ({' + '.join(names)}).isdigit():",
        "            return _datetime(" + ", ".join(f"int({c})" if c in slices else "0" for c in "YmdHMS") + ")",
        "    return None"])
    env = {"_datetime": dt.datetime}
    exec(compile(source, f"<date format {fmt}>", "exec"), env)
    return env["parse"]


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


class Records:
    """Staging records as lines of COPY text (FORMAT csv, DELIMITER tab, QUOTE \\x01, see COPY_OPTIONS): row number,
    bad fields (an array literal, or empty), then one value per field in feed order; an empty value is NULL.

    keys_increasing: so far every row's natural key (as staged) was greater than the row before's, so no two rows
    share a key and the batch need not look for duplicate keys (exports are often sorted by their id)."""

    def __init__(self, feed: Feed, header: list[str], rows: Iterator[tuple[int, list]], pseudonymiser: Pseudonymiser,
                 file_name: str):
        self._state = [True]
        self._lines = _compile(feed, plan(feed, header, file_name), pseudonymiser, self._state)(rows)

    def __iter__(self) -> Iterator[str]:
        return self._lines  # the generator itself: no extra call per row

    @property
    def keys_increasing(self) -> bool:
        return self._state[0]


records = Records


COPY_OPTIONS = "FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01', NULL ''"
_BAD = object()  # a value that did not convert: staged as written, its field listed in the bad fields
_MEMO_LIMIT = 200_000  # distinct spellings remembered per field (dates at minute precision, vocabularies)


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


def _fallback_line(values: list) -> str:
    """One record with tabs, line breaks or \\x01 in a value: quoted the way COPY_OPTIONS reads it (rare)."""
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", quotechar="\x01", lineterminator="").writerow(values)
    return buf.getvalue()


def _compile(feed: Feed, fields: list[tuple[str, int | None]], pseudonymiser: Pseudonymiser, state: list[bool]):
    """A generator function (rows -> COPY lines) written out for this feed and header: the per-row work is one flat
    function with no loop over fields, no per-value calls for text and one dict lookup for dates and vocabularies.
    Semantics are those of converter(): blank is NULL, a value that does not convert is kept as written (stripped)
    and its field listed as bad."""
    env: dict[str, Any] = {"_text": _text, "_BAD": _BAD, "_fallback_line": _fallback_line,
                           "_key": pseudonymiser.keyer(), "_state": state}
    width = max([i for _, i in fields if i is not None], default=-1) + 1
    body = [f"    pad = [None] * {width}",
            "    increasing, last = _state[0], ()",
            "    for number, row in rows:",
            "        if not row:",  # a blank line of a CSV file
            "            continue",
            f"        if len(row) < {width}:",
            "            row = list(row) + pad[len(row):]",
            "        bad = None"]
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
            body += [f"        {out} = (_key(v) if v.__class__ is str else _key(_text(v) or '') if v is not None "
                     f"else None) or ''"]
        elif spec.type in ("date", "timestamp", "bool") or spec.values:
            memo: dict = {}
            env[f"m{k}"] = memo.get
            env[f"s{k}"] = _memo(converter(spec, pseudonymiser), memo)
            body += ["        if v.__class__ is str:",
                     f"            {out} = m{k}(v)",
                     f"            if {out} is None:",
                     f"                {out} = s{k}(v)",
                     "        else:",
                     f"            {out} = '' if v is None else s{k}(v)",
                     f"        if {out} is _BAD:",
                     f"            {out} = _text(v) or ''",
                     f"            bad = bad + {',' + name!r} if bad else {name!r}"]
        elif spec.type == "float":
            body.append(f"        {out} = v.strip().replace(',', '.') if v.__class__ is str else "
                        f"(_text(v) or '').replace(',', '.') if v is not None else ''")
        else:
            body.append(f"        {out} = v.strip() if v.__class__ is str else (_text(v) or '') if v is not None "
                        f"else ''")
    columns = 2 + len(fields)
    line = "\\t".join(["{number}", "{b}"] + ["{" + n + "}" for n in names])
    body += [f"        key = ({key})",  # as staged: what the duplicate check of the batch compares
             "        if increasing:",
             "            if key <= last:",
             "                increasing = _state[0] = False",
             "            last = key",
             "        b = '{' + bad + '}' if bad else ''",
             f"        line = f'{line}'",
             f"        if line.count('\\t') != {columns - 1} or '\\n' in line or '\\r' in line or '\\x01' in line:",
             f"            line = _fallback_line([number, b, {', '.join(names)}])",
             "        yield line"]
    source = "def lines(rows):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<ingest records of feed {feed.name}>", "exec"), env)
    return env["lines"]
