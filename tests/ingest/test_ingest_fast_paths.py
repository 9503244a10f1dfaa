"""The fast paths of a batch give what the plain ones would: HMAC, dates, COPY quoting, increasing keys, blank lines."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

from gis.ingest.feeds import load_feed
from gis.ingest.fieldtypes import _numeric
from gis.ingest.pseudonym import Pseudonymiser, normalise
from gis.ingest.read import open_source
from gis.ingest.transform import records

FEEDS = Path(__file__).resolve().parents[2] / "ingest" / "feeds"
HEADER = "Mã mẫu,Số CCCD/SĐT,Ngày lấy mẫu,Loại xét nghiệm,Kết quả,Mã phòng xét nghiệm,Mã địa bàn\n"


@pytest.mark.parametrize("secret", [b"k" * 16, b"0123456789abcdef" * 2, b"x" * 64, b"long secret " * 20])
def test_precomputed_hmac_is_hmac_sha256(secret):
    p = Pseudonymiser(secret)
    for raw in ["0912345678", "+84 912 345 678", "075190099001", "b12345678", "84912345678", "Số 12/3"]:
        assert p.key(raw) == hmac.new(secret, normalise(raw).encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%Y%m%d"])
def test_fixed_width_dates_parse_as_strptime(fmt):
    parse = _numeric(fmt)
    assert parse is not None
    got: dt.datetime | str
    want: dt.datetime | str
    for s in [
        "15/07/2021 08:30",
        "15/07/2021",
        "1/7/2021",
        "31/02/2021 10:00",
        "07/15/2021",
        "29/02/2024",
        "29/02/2023",
        "15/07/2021 08:30:59",
        "20210715",
        "15/07/2021 8:30",
        "00/07/2021",
        "15-07-2021",
        "15/07/2021 24:00",
    ]:
        try:
            got = parse(s)
        except ValueError:
            got = "error"
        try:
            want = dt.datetime.strptime(s, fmt)
        except ValueError:
            want = "error"
        assert got == want, (fmt, s)


# With separators between the fields: strptime reads "2000201" by %Y%m%d as 2000-02-01, a guess the regular
# expression refuses (its zero-padded spelling is checked above).
_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%Y.%m.%d %H", "%d/%m/%Y %H::%S", "%m-%d-%Y"]


@given(
    moment=st.datetimes(min_value=dt.datetime(1000, 1, 1)),
    fmt=st.sampled_from(_FORMATS),
    noise=st.text(alphabet="0123456789/: .-x", max_size=20),
)
def test_numeric_dates_parse_as_strptime_on_random_input(moment, fmt, noise):
    """Every spelling a format writes, and random near-dates, parse as strptime parses them (or fail as it does)."""
    parse = _numeric(fmt)
    assert parse is not None
    for s in [moment.strftime(fmt), noise, moment.strftime(fmt).replace("0", "", 1)]:
        try:
            want: dt.datetime | str = dt.datetime.strptime(s, fmt)
        except ValueError:
            want = "error"
        try:
            got: dt.datetime | str = parse(s)
        except ValueError:
            got = "error"
        assert got == want, (fmt, s)


def _lines(tmp_path: Path, body: str) -> tuple[list[str], bool]:
    path = tmp_path / "tests.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    feed = load_feed("tests", FEEDS)
    with open_source(path, feed) as source:
        out = records(feed, source.header, source.rows(), Pseudonymiser(b"k" * 32), path.name)
        return list(out), out.keys_increasing


def test_blank_lines_are_skipped_and_keys_tracked(tmp_path):
    lines, increasing = _lines(
        tmp_path, "A1,0912345678,15/07/2021,PCR,Âm tính,,26020-01\n\nA2,0912345678,15/07/2021,PCR,Âm tính,,26020-01\n"
    )
    assert [line.split("\t")[0] for line in lines] == ["2", "4"] and increasing
    _, increasing = _lines(
        tmp_path, "A2,0912345678,15/07/2021,PCR,Âm tính,,26020-01\nA1,0912345678,15/07/2021,PCR,Âm tính,,26020-01\n"
    )
    assert not increasing


def test_values_with_tabs_line_breaks_and_quote_bytes_land_as_written(engine, ingest_json, tmp_path):
    lab = 'Lab "A",\ttab\nline\x01x'
    path = tmp_path / "tests_odd.csv"
    path.write_text(
        HEADER
        + 'XN-Q1,0912345678,15/07/2021 08:30,PCR,Âm tính,"'
        + lab.replace('"', '""')
        + '",26020-01\n'
        + "XN-Q2,0912345679,15/07/2021 08:31,PCR,Âm tính,plain,26020-01\n",
        encoding="utf-8",
    )
    summary = ingest_json(path, "tests")
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (2, 2, 0)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(text("SELECT sample_id, lab_id FROM events.tests WHERE sample_id LIKE 'XN-Q%'")).all()
        )
    assert stored == {"XN-Q1": lab, "XN-Q2": "plain"}


def test_a_key_repeated_far_apart_is_still_a_duplicate(engine, covidgis, ingest_json, tmp_path):
    rows = [f"XN-D{i:05d},09{i:08d},15/07/2021 08:30,PCR,Âm tính,,26020-01" for i in range(3000)]
    rows.append("XN-D00007,0900000999,15/07/2021 09:30,PCR,Dương tính,,26020-01")  # keys stop increasing
    path = tmp_path / "tests_dup.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    summary = ingest_json(path, "tests")
    assert (summary["accepted"], summary["rejected"], summary["rejected_by_reason"]) == (3000, 1, {"duplicate_key": 1})
