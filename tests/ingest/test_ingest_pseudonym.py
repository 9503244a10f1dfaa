"""Pseudonymisation: one key per person across feeds and spellings; the raw identifier is nowhere in the database."""

from __future__ import annotations

import hashlib
import hmac
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from openpyxl import Workbook
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.engine import make_url

from gis.ingest.pseudonym import Pseudonymiser, load_secret, normalise
from gis.settings import Settings

PHONE_DIGITS = "912345678"
ID_CARD = "075190099001"
PG_DUMP = Path("/usr/lib/postgresql/15/bin/pg_dump")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("0912345678", "0912345678"),
        (" 075 190 099 001 ", "075190099001"),
        ("b12345678", "B12345678"),
    ],
)
def test_normalise_gives_one_spelling(raw, expected):
    assert normalise(raw) == expected


def test_keys_are_keyed_and_stable():
    a, b = Pseudonymiser(b"k" * 32), Pseudonymiser(b"z" * 32)
    assert a.key("+84 912 345 678") == a.key("0912345678") != b.key("0912345678")
    assert len(a.key("0912345678") or "") == 64 and a.key("  ") is None and a.key(None) is None


_SEPARATORS = " \t\n.-()/"
_digits = st.text(alphabet="0123456789", min_size=1, max_size=14)
_spelled = st.lists(st.one_of(_digits, st.sampled_from(list(_SEPARATORS))), min_size=1, max_size=8).map("".join)


@given(
    secret=st.binary(min_size=16, max_size=200),  # shorter and longer than SHA-256's 64-byte block (hashed first)
    raw=st.one_of(st.text(max_size=40), _spelled, _digits.map(lambda d: "+84" + d), _digits.map(lambda d: "84" + d)),
)
def test_key_is_the_standard_librarys_hmac_sha256_of_the_normalised_value(secret, raw):
    """The precomputed pad states are HMAC-SHA256 exactly: on any secret and any text, the key is what
    hmac.new(secret, normalise(raw.strip()), sha256) gives (None when nothing is left)."""
    value = normalise(raw.strip())
    expected = hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest() if value else None
    pseudonymiser = Pseudonymiser(secret)
    assert pseudonymiser.key(raw) == expected
    assert pseudonymiser.keyer()(raw) == expected


@given(number=st.from_regex(r"\A[35789][0-9]{8}\Z"), prefix=st.sampled_from(["+84", "0084", "84", "0"]))
def test_every_prefix_of_a_mobile_number_is_one_spelling(number, prefix):
    spaced = " ".join([prefix, number[:3], number[3:6], number[6:]])
    assert normalise(prefix + number) == normalise(spaced) == normalise(f"({prefix}) {number}") == "0" + number


@given(raw=st.text(max_size=40))
def test_normalise_removes_separators_and_upper_cases(raw):
    """No separator is left, letters are upper case, and normalising again changes nothing (one spelling)."""
    value = normalise(raw)
    assert not any(c in value for c in _SEPARATORS)
    assert value == value.upper() and normalise(value) == value


def test_secret_is_generated_once_with_mode_0600(tmp_path):
    settings = Settings(var_dir=tmp_path, hmac_secret=None)
    first = load_secret(settings)
    path = tmp_path / "hmac.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(settings) == first and len(first) >= 32
    assert (
        load_secret(Settings(var_dir=tmp_path, hmac_secret=SecretStr("from-settings-0123456789")))
        == b"from-settings-0123456789"
    )


def _files(tmp_path: Path) -> dict[str, Path]:
    """One person in five feeds, written five ways: phone with +84, 84, 0, spaces; ID card with and without."""
    files = {}
    files["venues"] = tmp_path / "venues.csv"
    files["venues"].write_text(
        "Mã địa điểm,Tên địa điểm,Loại địa điểm,Mã địa bàn,Kinh độ,Vĩ độ\n"
        "QR-LINK,Chợ Long Bình (synthetic),Chợ,26020-01,,\n",
        encoding="utf-8",
    )
    files["tests"] = tmp_path / "tests.csv"
    files["tests"].write_text(
        "Mã mẫu,Số CCCD/SĐT,Ngày lấy mẫu,Loại xét nghiệm,Kết quả,Mã địa bàn\n"
        f"XN-L1,+84 {PHONE_DIGITS[:2]} {PHONE_DIGITS[2:5]} {PHONE_DIGITS[5:]},"
        "15/07/2021 08:00,RT-PCR,Dương tính,26020-01\n"
        f"XN-L2,{ID_CARD[:3]} {ID_CARD[3:6]} {ID_CARD[6:]},15/07/2021 08:05,RT-PCR,"
        "Dương tính,26020-01\n",
        encoding="utf-8",
    )
    files["quarantine"] = tmp_path / "quarantine.csv"
    files["quarantine"].write_text(
        f"Mã cách ly,Số CCCD/SĐT,Ngày bắt đầu,Lý do,Mã địa bàn\nCL-L1,0{PHONE_DIGITS},10/07/2021,F1,26020-01\n",
        encoding="utf-8",
    )
    files["checkins"] = tmp_path / "checkins.ndjson"
    files["checkins"].write_text(
        f'{{"id": "CK-L1", "phone": "84{PHONE_DIGITS}", "venue": "QR-LINK", "time": "2021-07-12T09:30:00"}}\n',
        encoding="utf-8",
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã mũi tiêm", "Số CCCD/CMND", "Năm sinh", "Mũi số", "Loại vắc xin", "Ngày tiêm", "Mã địa bàn"])
    sheet.append(["MT-L1", ID_CARD, 1990, 1, "AstraZeneca", "01/07/2021", "26020-01"])
    files["vaccinations"] = tmp_path / "vaccinations.xlsx"
    book.save(files["vaccinations"])
    return files


@pytest.fixture(scope="module")
def linked(ingest_json, tmp_path_factory):
    files = _files(tmp_path_factory.mktemp("link"))
    return {feed: ingest_json(path, feed) for feed, path in files.items()}


def test_one_person_links_across_feeds(engine, linked):
    assert all(s["accepted"] == s["rows"] for s in linked.values()), linked
    with engine.connect() as conn:
        phone = conn.execute(
            text(
                "SELECT (SELECT person_key FROM events.tests WHERE sample_id = 'XN-L1'),"
                "       (SELECT person_key FROM events.quarantine_stays WHERE stay_id = 'CL-L1'),"
                "       (SELECT person_key FROM events.checkins WHERE checkin_id = 'CK-L1')"
            )
        ).one()
        card = conn.execute(
            text(
                "SELECT (SELECT person_key FROM events.tests WHERE sample_id = 'XN-L2'),"
                "       (SELECT person_key FROM events.vaccinations WHERE dose_id = 'MT-L1')"
            )
        ).one()
        checkin = conn.execute(text("SELECT area_code, commune_code, located_by FROM events.checkins")).one()
    assert len(set(phone)) == 1 and phone[0] is not None
    assert len(set(card)) == 1 and card[0] != phone[0]
    assert tuple(checkin) == ("26020-01", "26020", "via")  # a check-in takes its venue's area


def test_the_raw_identifiers_are_nowhere_in_a_dump(db_url, linked, tmp_path):
    url = make_url(db_url)
    dump = subprocess.run(
        [
            str(PG_DUMP),
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port),
            "-U",
            url.username or "postgres",
            "--data-only",
            url.database or "",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "XN-L1" in dump and "CK-L1" in dump  # the dump does hold the rows
    digits = dump.replace(" ", "")
    for raw in (PHONE_DIGITS, ID_CARD, ID_CARD[1:]):
        assert raw not in digits
    assert "test-secret" not in dump
