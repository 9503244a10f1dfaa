"""The generated row function (rowcode.py) against the plain per-field converters (fieldtypes.converter) on random
rows of every feed: the same staged values, the same bad fields, the same flaws, the same key order (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis.ingest.feeds import Feed, FieldSpec, feed_names, load_feed
from gis.ingest.fieldtypes import BOOL_VALUES, converter, text
from gis.ingest.pseudonym import Pseudonymiser
from gis.ingest.rowcode import MAX_KEY, MAX_VALUE, SHOWN, _short_fields, record_text
from gis.ingest.transform import records

FEEDS = Path(__file__).resolve().parents[2] / "ingest" / "feeds"
SECRET = b"rowcode-property-secret-0123456789"
# Characters COPY text escapes or cannot hold, and spacing the converters strip, mixed into random text.
_ODD = st.sampled_from(["\t", "\n", "\r", "\\", "\0", " ", ",", "Đ", "ấ", "\ufffd"])
_text = st.lists(st.one_of(st.characters(codec="utf-8", exclude_characters="\0"), _ODD), max_size=12).map("".join)
_moment = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2030, 12, 31))
_other = st.one_of(st.none(), _text, st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.booleans())


def _spelled(spellings: list[str]) -> st.SearchStrategy[str]:
    """A known spelling, as a clerk may type it: other case, spaces around and inside."""
    return st.tuples(st.sampled_from(spellings), st.booleans(), st.sampled_from(["", " ", "  "])).map(
        lambda t: t[2] + (t[0].upper() if t[1] else t[0]) + t[2]
    )


def _value(spec: FieldSpec) -> st.SearchStrategy[object]:
    """What a cell of this field may hold: mostly its own kind of value, sometimes anything."""
    if spec.type in ("date", "timestamp"):
        own: st.SearchStrategy[object] = st.one_of(
            st.tuples(_moment, st.sampled_from(spec.formats)).map(lambda t: t[0].strftime(t[1])),
            _moment,
            _moment.map(lambda m: m.date()),
            st.sampled_from(["1/7/2021", "31/02/2021", "15/07/2021 8:30", "2021-07-15T08:30:00", "15/07/2021 24:00"]),
        )
    elif spec.type == "bool":
        own = st.one_of(_spelled([s for spellings in BOOL_VALUES.values() for s in spellings]), st.booleans())
    elif spec.values:
        own = _spelled([s for canonical, aliases in spec.values.items() for s in [canonical, *aliases]])
    elif spec.type == "float":
        own = st.floats(-200, 200).map(lambda f: f"{f:.5f}".replace(".", ","))
    elif spec.type in ("int", "birth_year"):
        own = st.integers(1800, 2100).map(str)
    elif spec.type == "person":
        own = st.from_regex(r"\A(\+84 ?|0)[35789][0-9]{2}[ .]?[0-9]{3}[ .]?[0-9]{3}\Z")
    else:
        own = st.from_regex(r"\A[A-Z]{1,3}-?[0-9]{1,6}\Z")
    return st.one_of(own, own, _other)


def _expected(feed: Feed, rows: list[list[object]], p: Pseudonymiser) -> tuple[list[tuple], bool]:
    """Each non-blank row as the plain converters stage it: (number, bad fields, flaw reason, values)."""
    converters = {name: converter(spec, p) for name, spec in feed.fields.items()}
    short = set(_short_fields(feed))
    out, keys = [], []
    for number, row in enumerate(rows, start=2):
        if not row:
            continue
        bad, values, reason = [], [], ""
        for name, value in zip(feed.fields, row):
            try:
                staged = "" if value is None else converters[name](value) or ""
            except ValueError:
                staged = text(value) or ""
                bad.append(name)
            values.append(staged)
        for name, staged in zip(feed.fields, values):  # the careful path, in field order: the first flaw wins
            if "\0" in staged and not reason:
                reason = "invalid_character"
            if len(staged) > (MAX_KEY if name in short else MAX_VALUE) and not reason:
                reason = "value_too_long"
        keys.append(tuple(values[list(feed.fields).index(k)] for k in feed.key))
        shown = [
            v.replace("\0", "\ufffd")
            if len(v) <= (MAX_KEY if n in short else MAX_VALUE)
            else v.replace("\0", "\ufffd")[:SHOWN] + "…"
            for n, v in zip(feed.fields, values)
        ]
        out.append((number, bad, reason, shown))
    increasing = all(a < b for a, b in zip(keys, keys[1:]))
    return out, increasing


def _unescape(value: str) -> str:
    """COPY text back to the value (the inverse of gis.db.frames.escape_text)."""
    out, chars = [], iter(value)
    for c in chars:
        if c == "\\":
            c = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[next(chars)]
        out.append(c)
    return "".join(out)


def _parsed(line: str, width: int) -> tuple:
    number, bad, reason, _field, _message, digest, *values = line.split("\t")
    assert len(values) == width
    staged = [_unescape(v) for v in values]
    assert digest == hashlib.md5(record_text(staged).encode()).hexdigest()  # the row hash of what is staged
    return int(number), bad.strip("{}").split(",") if bad else [], reason, staged


@pytest.mark.parametrize("name", feed_names(FEEDS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_rows_stage_what_the_converters_give(name, data):
    feed = load_feed(name, FEEDS)
    row = st.tuples(*[_value(spec) for spec in feed.fields.values()]).map(list)
    rows = data.draw(st.lists(st.one_of(row, row, row, st.just([])), max_size=8))
    p = Pseudonymiser(SECRET)
    staged = records(feed, list(feed.fields), iter(enumerate(rows, start=2)), p, "random.xlsx")
    lines = [_parsed(line, len(feed.fields)) for line in staged]
    expected, increasing = _expected(feed, rows, p)
    assert lines == expected
    assert staged.keys_increasing == increasing
    assert staged.last_row == (len(rows) + 1 if rows else None)


# Staged values: NULL (''), or text without NUL (COPY text cannot hold it) that is never empty.
_staged = st.one_of(
    st.just(""),
    st.text(st.characters(codec="utf-8", exclude_characters="\0"), min_size=1),
    _ODD.filter(lambda c: c != "\0"),
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_staged, min_size=1, max_size=6))
def test_record_text_is_what_the_server_writes(engine, values):
    """The row hash is md5(ROW(<staged values>)::text), the digest stored rows carry: record_text must write the
    record as PostgreSQL's record_out does (quoting, doubling, NULLs), or a re-sent file would become corrections."""
    row = ", ".join(["%s::text"] * len(values))
    with engine.connect() as conn:
        server = conn.exec_driver_sql(f"SELECT ROW({row})::text", tuple(v or None for v in values)).scalar()
    assert record_text(values) == server
