"""Feed field types, one place each: how a value converts in Python, which SQL checks its staged text gets, and how
the merge casts it to the stored type. `FIELD_TYPES` maps a type's name (a feed's `type:`) to its `FieldType`;
adding a type is one entry here (and, only if no existing row path fits it, one path in rowcode.py).

Conversions run per value, before the server: text is stripped, dates are parsed by the feed's explicit formats and
staged as ISO text, spellings are mapped to canonical values, a person becomes its key. A value that cannot convert
raises ValueError: it is staged as written and its field is listed as bad (the check then names it).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from psycopg2 import sql

if TYPE_CHECKING:
    from gis.ingest.feeds import FieldSpec
    from gis.ingest.pseudonym import Pseudonymiser

Converter = Callable[[Any], str | None]
Check = tuple[str, str, dict[str, sql.Composable]]  # (statement of validate.sql, reason, parts beyond the base)
RowPath = Literal["text", "float", "person", "memo"]  # how the generated row function converts it (rowcode.py)

BOOL_VALUES = {
    "true": ["true", "t", "1", "yes", "y", "có", "co", "x"],
    "false": ["false", "f", "0", "no", "n", "không", "khong"],
}
INTEGER = r"^[+-]?[0-9]+$"
DECIMAL = r"^[+-]?([0-9]{1,12}([.][0-9]*)?|[.][0-9]+)$"
INT4 = (-2147483648, 2147483647)
_CACHE_LIMIT = 200_000  # distinct spellings remembered per field
# An unpaired UTF-16 surrogate (only JSON's \ud800-\udfff escapes make them): not text, staged as a NUL (transform).
SURROGATE = re.compile("[\ud800-\udfff]")
_FORMAT_HINTS = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%y": "yy", "%H": "hh", "%M": "mm", "%S": "ss"}


# --- conversions -----------------------------------------------------------------------------------------------
def text(value: Any) -> str | None:
    """A value as staged text: stripped, None when blank; spreadsheet numbers and JSON values as they read."""
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


def vocabulary(values: dict[str, list[str]]) -> Converter:
    """Spellings (by NFC, case and spacing) → their canonical value; anything else is kept for the check to refuse."""
    spellings = {_norm(alias): canonical for canonical, aliases in values.items() for alias in [canonical, *aliases]}
    seen: dict[str, str] = {}  # raw spelling → canonical value (a file uses few spellings)

    def convert(value: Any) -> str | None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        s = text(value)
        if s is None:
            return None
        hit = seen.get(s)
        if hit is None:
            hit = spellings.get(_norm(s), s)
            if len(seen) < _CACHE_LIMIT:
                seen[s] = hit
        return hit

    return convert


def decimal(value: Any) -> str | None:
    """A decimal number as staged: a decimal comma becomes a point."""
    s = text(value)
    return None if s is None else s.replace(",", ".")


def _fail() -> dt.datetime:
    raise ValueError("shape")


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
        parsed = fixed(s)  # the zero-padded spelling (nearly every export): slices, no regular expression
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


def _fixed_width(fmt: str) -> Callable[[str], dt.datetime | None]:
    """A parser of the zero-padded spelling of a numeric format (every field at a fixed position): None when a
    string does not have that exact shape (then the regular expression decides). Separators and fields are cut out
    by itemgetter (one C call each), so a spelling not yet memoised costs about what the generated code did."""
    literal_at: list[int] = []
    literal: list[str] = []
    spans: dict[str, slice] = {}
    pos, rest = 0, fmt
    while rest:  # only the directives of _DIRECTIVES reach here (_numeric checked)
        if rest[:2] in _DIRECTIVES:
            width = 4 if rest[1] == "Y" else 2
            spans[rest[1]] = slice(pos, pos + width)
            pos, rest = pos + width, rest[2:]
        else:
            literal_at.append(pos)
            literal.append(rest[0])
            pos, rest = pos + 1, rest[1:]
    length, names = pos, [c for c in "YmdHMS" if c in spans]
    separators = itemgetter(*literal_at) if literal_at else (lambda s: ())
    expected = tuple(literal) if len(literal) != 1 else literal[0]  # itemgetter of one key gives the item itself
    fields = itemgetter(*[spans[c] for c in names])  # Y, m and d are always there (_numeric checked)

    def parse(s: str) -> dt.datetime | None:
        if len(s) != length or not s.isascii() or separators(s) != expected:
            return None
        parts = fields(s)
        if not "".join(parts).isdigit():
            return None
        value = dict(zip(names, map(int, parts)))
        return dt.datetime(value["Y"], value["m"], value["d"], value.get("H", 0), value.get("M", 0), value.get("S", 0))

    return parse


def dates(spec: FieldSpec, as_date: bool) -> Converter:
    """Parse with each explicit format in turn (never guessed); output ISO text for PostgreSQL (the date only, when
    as_date)."""
    parsers = [_fast_iso(fmt) or _numeric(fmt) or _strptime(fmt) for fmt in spec.formats]
    cache: dict[str, str] = {}

    def convert(value: Any) -> str | None:
        if isinstance(value, dt.datetime):  # typed spreadsheet cell: no format involved
            return value.date().isoformat() if as_date else value.isoformat(" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        s = text(value)
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


def _strptime(fmt: str) -> Callable[[str], dt.datetime]:
    return lambda s: dt.datetime.strptime(s, fmt)


# --- SQL checks --------------------------------------------------------------------------------------------------
def _hint(formats: list[str]) -> str:
    """A date format as a clerk reads it: %d/%m/%Y → dd/mm/yyyy."""

    def one(fmt: str) -> str:
        for code, word in _FORMAT_HINTS.items():
            fmt = fmt.replace(code, word)
        return fmt.replace("T", " ")

    return " or ".join(one(f) for f in formats)


@dataclass(frozen=True)
class CheckContext:
    """What checks need beyond the field: the feed's time zone and the slack of timestamps (device clocks)."""

    timezone: str
    slack_minutes: int


def _vocabulary_check(values: list[str]) -> Check:
    return (
        "vocabulary",
        "outside_vocabulary",
        {"values": sql.Literal(values), "allowed": sql.Literal(", ".join(values))},
    )


def _text_checks(spec: FieldSpec, ctx: CheckContext) -> list[Check]:
    return [_vocabulary_check(list(spec.values))] if spec.values else []


def _date_checks(future: str) -> Callable[[FieldSpec, CheckContext], list[Check]]:
    """Parsed, and (unless allowed) not in the future by the check `future` of validate.sql."""

    def checks(spec: FieldSpec, ctx: CheckContext) -> list[Check]:
        out: list[Check] = [("unparseable_date", "unparseable_date", {"hint": sql.Literal(_hint(spec.formats))})]
        if not spec.allow_future:
            parts = {"tz": sql.Literal(ctx.timezone), "slack": sql.Literal(ctx.slack_minutes)}
            out.append((future, "future_date", parts))
        return out

    return checks


def _number_check(decimal: bool) -> Check:
    return (
        "number",
        "not_a_number",
        {
            "pattern": sql.Literal(DECIMAL if decimal else INTEGER),
            "kind": sql.Literal("a decimal number" if decimal else "a whole number"),
        },
    )


def _int_checks(spec: FieldSpec, ctx: CheckContext) -> list[Check]:
    low = INT4[0] if spec.min is None else spec.min
    high = INT4[1] if spec.max is None else spec.max
    if spec.min is not None and spec.max is not None:
        shown = f"{low:g} to {high:g}"
    elif spec.min is not None:
        shown = f"at least {low:g}"
    else:
        shown = f"at most {high:g}"
    limits = {"pattern": sql.Literal(INTEGER), "min": sql.Literal(low), "max": sql.Literal(high)}
    return [_number_check(False), ("range", "out_of_range", {**limits, "range": sql.Literal(shown)})]


# --- casts -------------------------------------------------------------------------------------------------------
def _as(type_name: str) -> Callable[[sql.Composable, str], sql.Composable]:
    return lambda col, timezone: sql.SQL("{}::" + type_name).format(col)


def _as_text(col: sql.Composable, timezone: str) -> sql.Composable:
    return col


def _as_timestamptz(col: sql.Composable, timezone: str) -> sql.Composable:
    """A local timestamp of the file, in the feed's time zone, as the instant it was."""
    return sql.SQL("({}::timestamp AT TIME ZONE {})").format(col, sql.Literal(timezone))


# --- the registry ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldType:
    """Everything a batch does with one type of field."""

    converter: Callable[[FieldSpec, Pseudonymiser], Converter]  # value → staged text (ValueError: bad)
    row: RowPath  # the generated row function's path for the type (rowcode.py)
    checks: Callable[[FieldSpec, CheckContext], list[Check]] = field(default=_text_checks)  # after `missing`
    cast: Callable[[sql.Composable, str], sql.Composable] = field(default=_as_text)  # (staged column, time zone)
    formats: bool = False  # values are parsed by the field's explicit `formats`, which it must then list
    column: str | None = None  # the column the field is stored under (default: its name); at most one per feed


def _person(spec: FieldSpec, pseudonymiser: Pseudonymiser) -> Converter:
    return lambda v: pseudonymiser.key(text(v))


def _text(spec: FieldSpec, pseudonymiser: Pseudonymiser) -> Converter:
    return vocabulary(spec.values) if spec.values else text


FIELD_TYPES: dict[str, FieldType] = {
    "text": FieldType(_text, "text"),
    "int": FieldType(lambda spec, p: text, "text", _int_checks, _as("integer")),
    "float": FieldType(lambda spec, p: decimal, "float", lambda spec, ctx: [_number_check(True)], _as("float8")),
    "bool": FieldType(
        lambda spec, p: vocabulary(BOOL_VALUES),
        "memo",
        lambda spec, ctx: [_vocabulary_check(list(BOOL_VALUES))],
        _as("boolean"),
    ),
    "date": FieldType(lambda spec, p: dates(spec, True), "memo", _date_checks("future_date"), _as("date"), True),
    "timestamp": FieldType(
        lambda spec, p: dates(spec, False), "memo", _date_checks("future_timestamp"), _as_timestamptz, True
    ),
    "birth_year": FieldType(
        lambda spec, p: text,
        "text",
        lambda spec, ctx: [
            _number_check(False),
            ("birth_year", "implausible_birth_year", {"pattern": sql.Literal(INTEGER)}),
        ],
        _as("integer"),
    ),
    "person": FieldType(_person, "person", column="person_key"),  # stored pseudonymised, under another name
}


def converter(spec: FieldSpec, pseudonymiser: Pseudonymiser) -> Converter:
    """The converter of one field: its type's."""
    return FIELD_TYPES[spec.type].converter(spec, pseudonymiser)
