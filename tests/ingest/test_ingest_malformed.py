"""Malformed files, legal and not, through the real `covidgis ingest`, for several feeds and every format.

Each file either lands (exit 0): every good row stored as written, every bad row rejected with the file, its row
number (as a spreadsheet shows it) and a reason, and a second run changes nothing; or it is unusable (exit 2): one
error naming what and where, nothing written. Never a traceback. Hypothesis writes random files of both kinds.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import subprocess
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_fixtures import COVIDGIS, ROOT, ingest_env  # noqa: F401  (fixtures)
from openpyxl import Workbook
from sqlalchemy import text

FEEDS = ROOT / "ingest" / "feeds"
TESTS = ["Mã mẫu", "Số CCCD/SĐT", "Ngày lấy mẫu", "Loại xét nghiệm", "Kết quả", "Mã phòng xét nghiệm", "Mã địa bàn"]
CASES = ["Mã ca bệnh", "Số CCCD/CMND", "Ngày phát hiện", "Mã ổ dịch", "Mã địa bàn"]
VENUES = ["Mã địa điểm", "Tên địa điểm", "Loại địa điểm", "Mã địa bàn"]
DOSES = ["Mã mũi tiêm", "Số CCCD/CMND", "Mũi số", "Loại vắc xin", "Ngày tiêm", "Mã điểm tiêm", "Mã địa bàn"]
# feed -> (table, key column, a free-text column whose stored value is compared with what was written)
STORED = {
    "tests": ("tests", "sample_id", "lab_id"),
    "cases": ("cases", "case_id", "cluster_id"),
    "venues": ("venues", "venue_id", "name"),
    "vaccinations": ("vaccinations", "dose_id", "site_id"),
    "checkins": ("checkins", "checkin_id", "venue_id"),
}
VARIANTS = {
    "tests_semicolon": {"delimiter": ";", "encoding": "cp1258"},
    "tests_ndjson": {"format": "ndjson", "encoding": "utf-8"},
    "tests_json": {"format": "json", "encoding": "utf-8"},
    "tests_xlsx": {"format": "xlsx"},
}
STORED.update({name: STORED["tests"] for name in VARIANTS})


@pytest.fixture(scope="module")
def feeds_dir(tmp_path_factory) -> Path:
    """The shipped feeds, and the tests feed as other exports write it: ';' in Windows-1258, NDJSON, JSON, XLSX."""
    out = tmp_path_factory.mktemp("feeds")
    for path in FEEDS.glob("*.yml"):
        shutil.copy(path, out)
    tests = yaml.safe_load((FEEDS / "tests.yml").read_text(encoding="utf-8"))
    for name, changes in VARIANTS.items():
        (out / f"{name}.yml").write_text(yaml.safe_dump({**tests, **changes}, allow_unicode=True), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("malformed")


# --- writing files -----------------------------------------------------------------------------------------------


def cell(value: str, delimiter: str = ",") -> str:
    """A CSV value quoted as RFC 4180 asks (when it holds the delimiter, a quote or a line break)."""
    if any(c in value for c in (delimiter, '"', "\r", "\n")):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(header: list[str], rows: list, delimiter: str = ",", eol: str = "\r\n") -> str:
    """Header and rows as CSV; a row given as a str is written as it is (a malformed line)."""
    lines = [r if isinstance(r, str) else delimiter.join(cell(v, delimiter) for v in r) for r in [header, *rows]]
    return eol.join(lines) + eol


def good_row(key: str, lab: str = "LAB-1", **changes: str) -> list[str]:
    """A good row of the tests feed (values by header) with some values changed."""
    values = {
        "Mã mẫu": key,
        "Số CCCD/SĐT": "0912345678",
        "Ngày lấy mẫu": "15/07/2021 08:30",
        "Loại xét nghiệm": "PCR",
        "Kết quả": "Âm tính",
        "Mã phòng xét nghiệm": lab,
        "Mã địa bàn": "26020-01",
        **changes,
    }
    return [values[h] for h in TESTS]


def good_object(key: str, lab: object = "LAB-1", **changes: object) -> dict:
    return {**dict(zip(TESTS, good_row(key, ""))), "Mã phòng xét nghiệm": lab, **changes}


def _with_header(header: list[str]) -> Callable[[str], bytes]:
    """A file of one good row (and a cell more) under header."""
    return lambda p: _u(csv_text(header, [good_row(f"{p}1") + ["x"]]))


def cp1258(value: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: precomposed where the code page has the letter, else a base letter
    and combining marks."""
    out = b""
    for ch in unicodedata.normalize("NFC", value):
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], list(decomposed[1:])
        options = [
            ch,
            *(
                unicodedata.normalize("NFC", base + m) + "".join(marks[:i] + marks[i + 1 :])
                for i, m in enumerate(marks)
            ),
            base + "".join(marks),
        ]
        for option in options:
            try:
                out += option.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise ValueError(ch)
    return out


def xlsx(rows: list[list]) -> bytes:
    book, out = Workbook(), io.BytesIO()
    for row in rows:
        book.active.append(row)
    book.save(out)
    return out.getvalue()


def damaged_xlsx(rows: list[list]) -> bytes:
    """A workbook whose worksheet XML breaks off in the middle."""
    good, out = zipfile.ZipFile(io.BytesIO(xlsx(rows))), io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in good.infolist():
            data = good.read(item.filename)
            damaged.writestr(item, data[: len(data) // 2] + b"<<<" if item.filename.endswith("sheet1.xml") else data)
    return out.getvalue()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- cases ----------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """A file, its feed and what must become of it: the keys that land (with the text column as stored, or None
    not to compare it) and the rejects by row number (reason, or (reason, field)); or, when unusable, words of the
    error."""

    feed: str
    name: str
    content: Callable[[str], bytes]  # key prefix -> the file's bytes
    landed: Callable[[str], dict] = lambda p: {}
    rejected: dict = field(default_factory=dict)
    unusable: list[str] | None = None


def _u(text_: str) -> bytes:
    return text_.encode("utf-8")


CASES_ = [
    # legal CSV: line breaks, CRs and backslashes inside values; row numbers count records, not lines
    Case(
        "tests",
        "tests.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1", "LAB\nline two"),
                    good_row(f"{p}2", "a\r\nb"),
                    good_row(f"{p}3", "c\\\nd"),
                    good_row(f"{p}4", "e", **{"Ngày lấy mẫu": "31/02/2021 08:00"}),
                    good_row(f"{p}5", "f\n\n\ng"),
                    good_row(f"{p}6", "x", **{"Kết quả": "Dương tính?"}),
                ],
            )
        ),
        landed=lambda p: {f"{p}1": "LAB\nline two", f"{p}2": "a\r\nb", f"{p}3": "c\\\nd", f"{p}5": "f\n\n\ng"},
        rejected={5: ("unparseable_date", "collected_at"), 7: ("outside_vocabulary", "result")},
    ),
    Case(
        "tests",
        "lone_cr_lf.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1", '"x"'),
                    good_row(f"{p}3", "b\rc"),
                    good_row(f"{p}4", "", **{"Loại xét nghiệm": "PCR?"}),
                ],
                eol="\n",
            )
            + ",".join(good_row(f"{p}2", "LAB\rX"))
            + "\n"
        ),  # a CR alone, unquoted, in a file of LF lines
        landed=lambda p: {f"{p}1": '"x"', f"{p}2": "LAB\rX", f"{p}3": "b\rc"},
        rejected={4: "outside_vocabulary"},
    ),
    Case(
        "tests",
        "lone_cr_crlf.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1"),
                    ",".join(good_row(f"{p}2", "A\rB\rC")),
                    good_row(f"{p}3", "", **{"Mã địa bàn": "26O20"}),
                ],
            )
        ),
        landed=lambda p: {f"{p}1": "LAB-1", f"{p}2": "A\rB\rC"},
        rejected={4: "unknown_area_code"},
    ),
    Case(
        "tests",
        "mac.csv",
        lambda p: _u(
            csv_text(
                TESTS, [good_row(f"{p}1"), good_row(f"{p}2", "q\nr"), good_row(f"{p}3", **{"Mã mẫu": ""})], eol="\r"
            )
        ),
        landed=lambda p: {f"{p}1": "LAB-1", f"{p}2": "q\nr"},
        rejected={4: ("missing_required", "sample_id")},
    ),
    Case(
        "tests",
        "escapes.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}{i}", lab)
                    for i, lab in enumerate(
                        ["\\N", "\\.", "C:\\lab\\t1", "\\", "a\tb", "\\x41\\u0041", "\x01\x02\x1b[31m", '"', "ạ\u0301"]
                    )
                ],
            )
        ),
        landed=lambda p: {
            f"{p}{i}": lab
            for i, lab in enumerate(
                ["\\N", "\\.", "C:\\lab\\t1", "\\", "a\tb", "\\x41\\u0041", "\x01\x02\x1b[31m", '"', "ạ\u0301"]
            )
        },
    ),
    Case(
        "tests",
        "blank_lines.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [good_row(f"{p}1"), "", "", good_row(f"{p}2", **{"Ngày lấy mẫu": "2021-13-01"}), "", good_row(f"{p}3")],
            )
        ),
        landed=lambda p: {f"{p}1": "LAB-1", f"{p}3": "LAB-1"},
        rejected={5: "unparseable_date"},
    ),
    Case(
        "tests",
        "cells.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1") + ["extra"],
                    good_row(f"{p}2")[:-1],
                    good_row(f"{p}3") + [""],
                    good_row(f"{p}4") + ["", "  "],
                    good_row(f"{p}5"),
                    good_row(f"{p}6")[:3],
                    ",".join(good_row(f"{p}7")) + "," + ",x",
                ],
            )
        ),
        landed=lambda p: {f"{p}3": "LAB-1", f"{p}4": "LAB-1", f"{p}5": "LAB-1"},
        rejected={2: "extra_values", 3: "missing_values", 7: "missing_values", 8: "extra_values"},
    ),
    Case(
        "tests",
        "header_trailing_separator.csv",
        lambda p: _u(
            csv_text(TESTS + [""], [good_row(f"{p}1"), good_row(f"{p}2") + [""], good_row(f"{p}3") + ["note"]])
        ),
        landed=lambda p: {f"{p}1": "LAB-1", f"{p}2": "LAB-1"},
        rejected={4: "extra_values"},
    ),
    Case(
        "tests",
        "nul.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [good_row(f"{p}1", "LA\x00B"), good_row(f"{p}2\x00"), good_row(f"{p}3", "\x00"), good_row(f"{p}4")],
            )
        ),
        landed=lambda p: {f"{p}4": "LAB-1"},
        rejected={
            2: ("invalid_character", "lab_id"),
            3: ("invalid_character", "sample_id"),
            4: ("invalid_character", "lab_id"),
        },
    ),
    Case(
        "tests",
        "long.csv",
        lambda p: _u(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1", "L" * 200_000),
                    good_row(f"{p}2" + "K" * 300),
                    good_row(f"{p}3", "ệ" * 32_767),
                    good_row(f"{p}4", "multi\nline " * 20_000),
                    good_row(f"{p}5"),
                ],
            )
        ),
        landed=lambda p: {f"{p}3": "ệ" * 32_767, f"{p}5": "LAB-1"},
        rejected={2: ("value_too_long", "lab_id"), 3: ("value_too_long", "sample_id"), 5: ("value_too_long", "lab_id")},
    ),
    Case(
        "tests",
        "unused_columns_twice.csv",
        lambda p: _u(csv_text(TESTS + ["Ghi chú", "Ghi chú", ""], [good_row(f"{p}1") + ["a", "b", ""]])),
        landed=lambda p: {f"{p}1": "LAB-1"},
    ),
    Case(
        "tests_semicolon",
        "cp1258.csv",
        lambda p: cp1258(
            csv_text(
                TESTS,
                [
                    good_row(f"{p}1", "Phòng xét nghiệm Biên Hòa; tầng 2", **{"Kết quả": "Dương tính"}),
                    good_row(f"{p}2", 'Lab, "A"\nnew line'),
                    good_row(f"{p}3", **{"Kết quả": "Dương"}),
                ],
                delimiter=";",
            )
        ),
        landed=lambda p: {f"{p}1": "Phòng xét nghiệm Biên Hòa; tầng 2", f"{p}2": 'Lab, "A"\nnew line'},
        rejected={4: "outside_vocabulary"},
    ),
    Case(
        "cases",
        "cases.csv",
        lambda p: _u(
            "\ufeff"
            + csv_text(
                CASES,
                [
                    [f"{p}1", "999012345001", "20/07/2021", "ổ dịch\nKCN Amata", "26020-01"],
                    [f"{p}2", "999012345002", "20/07/2021", "O-2", "26020-01", "extra"],
                    [f"{p}3", "999012345003", "20/07/2021", "O\\3", "26020-01"],
                ],
                eol="\n",
            )
        ),
        landed=lambda p: {f"{p}1": "ổ dịch\nKCN Amata", f"{p}3": "O\\3"},
        rejected={3: "extra_values"},
    ),
    Case(
        "venues",
        "venues.csv",
        lambda p: _u(
            csv_text(
                VENUES,
                [
                    [f"{p}1", 'Quán\r\n"Bà Ba"', "Quán ăn", "26020-01"],
                    [f"{p}2", "Chợ", "Chợ"],
                    [f"{p}3", "x" * 40_000, "Chợ", "26020-01"],
                    [f"{p}4", "Chợ\tmới", "Chợ", "26020-01"],
                ],
            )
        ),
        landed=lambda p: {f"{p}1": 'Quán\r\n"Bà Ba"', f"{p}4": "Chợ\tmới"},
        rejected={3: "missing_values", 4: ("value_too_long", "name")},
    ),
    # NDJSON and JSON: escapes, NUL and lone surrogates, nested values, a BOM, CR between tokens
    Case(
        "tests_ndjson",
        "tests.ndjson",
        lambda p: _u(
            "\ufeff"
            + "\n".join(
                [
                    json.dumps(good_object(f"{p}1", "a\nb\r\nc\\d\te")),
                    json.dumps(good_object(f"{p}2", "LA\u0000B")),
                    json.dumps(good_object(f"{p}3", "\ud800"), ensure_ascii=True),
                    json.dumps(good_object(f"{p}4", "😀 ạ"), ensure_ascii=True),
                    "",
                    json.dumps(good_object(f"{p}6", {"nested": ["value"]})),
                    json.dumps(good_object(f"{p}7", **{"Loại xét nghiệm": ["PCR"]})),
                    json.dumps(good_object(f"{p}8", "x" * 40_000)),
                    json.dumps(good_object(f"{p}9", 12.0)).replace(", ", ",\r "),
                    json.dumps(good_object(f"{p}10", None, **{"Mã mẫu": f"{p}10", "Kết quả": True})),
                ]
            )
            + "\r\n"
        ),
        landed=lambda p: {f"{p}1": "a\nb\r\nc\\d\te", f"{p}4": "😀 ạ", f"{p}6": '{"nested": ["value"]}', f"{p}9": "12"},
        rejected={
            2: ("invalid_character", "lab_id"),
            3: ("invalid_character", "lab_id"),
            7: ("outside_vocabulary", "test_type"),
            8: ("value_too_long", "lab_id"),
            10: ("outside_vocabulary", "result"),
        },
    ),
    Case(
        "tests_json",
        "tests.json",
        lambda p: _u(
            "\ufeff[\r\n"
            + ",\n".join(
                [
                    json.dumps(good_object(f"{p}1", "a\nb")),
                    json.dumps(good_object(f"{p}2", "\udfff"), ensure_ascii=True),
                    json.dumps(good_object(f"{p}3", "y" * 300_000)),
                    json.dumps(good_object(f"{p}4", "\\N")),
                ]
            )
            + "]"
        ),
        landed=lambda p: {f"{p}1": "a\nb", f"{p}4": "\\N"},
        rejected={2: "invalid_character", 3: "value_too_long"},
    ),
    # XLSX (a cell holds at most 32,767 characters): line breaks, a key too long, an empty row, a value in a
    # column with no header
    Case(
        "tests_xlsx",
        "tests.xlsx",
        lambda p: xlsx(
            [
                TESTS,
                good_row(f"{p}1", "a\nb\r\nc"),
                [None] * 7,
                good_row(f"{p}3" + "K" * 300),
                good_row(f"{p}4", "\\N\\.") + [None, "stray"],
                good_row(f"{p}5", **{"Ngày lấy mẫu": "15-07-2021"}),
            ]
        ),
        landed=lambda p: {f"{p}1": "a\nb\r\nc", f"{p}4": "\\N\\."},
        rejected={4: ("value_too_long", "sample_id"), 6: "unparseable_date"},
    ),
    Case(
        "vaccinations",
        "doses.xlsx",
        lambda p: xlsx(
            [
                DOSES,
                [f"{p}1", "999012345678", 1, "AZ", "21/07/2021", "Điểm tiêm\nsố 1", "26020"],
                [f"{p}2", "999012345678", 9, "AZ", "21/07/2021", None, "26020"],
            ]
        ),
        landed=lambda p: {f"{p}1": "Điểm tiêm\nsố 1"},
        rejected={3: "out_of_range"},
    ),
    # unusable: two columns for one field, broken quoting, broken encoding, broken structure
    *[
        Case(
            "tests",
            f"header_twice_{i}.csv",
            _with_header(header),
            unusable=words,
        )
        for i, (header, words) in enumerate(
            [
                (TESTS + ["Mã mẫu"], ["columns 1 ('Mã mẫu') and 8 ('Mã mẫu')", "sample_id"]),
                (TESTS + ["MÃ  MẪU "], ["columns 1 ('Mã mẫu') and 8 ('MÃ MẪU ')", "sample_id"]),  # spaces collapse
                (TESTS + [unicodedata.normalize("NFD", "Kết quả")], ["columns 5", "and 8", "result"]),
                (TESTS + ["Mã ấp/xã"], ["columns 7 ('Mã địa bàn') and 8 ('Mã ấp/xã')", "area_code"]),
                (TESTS + ["sample_id"], ["columns 1 ('Mã mẫu') and 8 ('sample_id')"]),
            ]
        )
    ],
    Case(
        "tests",
        "stray_quote.csv",
        lambda p: _u(
            csv_text(TESTS, [good_row(f"{p}1"), good_row(f"{p}2", "q\nr")])
            + ",".join(good_row(f"{p}3", '"LAB" 2'))
            + "\r\n"
        ),
        unusable=["row 4:", "quoted value is followed by other characters"],
    ),
    Case(
        "tests",
        "open_quote.csv",
        lambda p: _u(
            csv_text(TESTS, [good_row(f"{p}1")])
            + ",".join(good_row(f"{p}2", '"LAB'))
            + "\r\n"
            + ",".join(good_row(f"{p}3"))
            + "\r\n"
        ),
        unusable=["row 3:", "never closed"],
    ),
    Case(
        "tests",
        "bad_utf8.csv",
        lambda p: _u(csv_text(TESTS, [good_row(f"{p}{i}", "x" * 50) for i in range(3000)])) + b"\xff\xfe,\r\n",
        unusable=["not utf-8-sig text after row", "re-export the file"],
    ),
    Case(
        "tests",
        "huge_field.csv",
        lambda p: _u(csv_text(TESTS, [good_row(f"{p}1")]) + f'{p}2,"' + "z" * ((1 << 24) + 100)),
        unusable=["row 3:", "longer than 16,777,216 characters"],
    ),
    Case(
        "tests_semicolon",
        "commas.csv",
        lambda p: cp1258(csv_text(TESTS, [good_row(f"{p}1")])),
        unusable=["required column(s) missing", "Mã mẫu"],
    ),
    Case(
        "tests",
        "header_quote.csv",
        lambda p: _u('Mã mẫu,"Số CCCD/SĐT\r\n' + ",".join(good_row(f"{p}1"))),
        unusable=["row 1 (the header)"],
    ),
    Case(
        "tests_ndjson",
        "deep.ndjson",
        lambda p: _u(json.dumps(good_object(f"{p}1")) + "\n" + nested(100_000)),
        unusable=["line 2 nests objects or arrays too deeply"],
    ),
    Case(
        "tests_ndjson",
        "deep_value.ndjson",
        lambda p: _u(
            json.dumps(good_object(f"{p}1"))
            + "\n"
            + json.dumps(good_object(f"{p}2"))[:-1]
            + ', "x": '
            + nested(1_000)
            + "}\n"
        ),
        unusable=["line 2 nests objects or arrays too deeply"],
    ),
    Case(
        "checkins",
        "deep_first.ndjson",
        lambda p: _u('{"id": ' + nested(5_000) + "}\n"),
        unusable=["line 1 nests objects or arrays too deeply"],
    ),
    Case(
        "tests_ndjson",
        "digits.ndjson",
        lambda p: _u(json.dumps(good_object(f"{p}1"))[:-1] + ', "n": ' + "9" * 5_000 + "}\n"),
        unusable=["line 1 is not JSON we read"],
    ),
    Case(
        "tests_ndjson",
        "aliases.ndjson",
        lambda p: _u(json.dumps({**good_object(f"{p}1"), "sample_id": "x"})),
        unusable=["columns 1 ('Mã mẫu') and 8 ('sample_id')"],
    ),
    Case(
        "tests_ndjson",
        "truncated.ndjson",
        lambda p: _u(json.dumps(good_object(f"{p}1")) + '\n{"Mã mẫu": "x'),
        unusable=["line 2 is not JSON"],
    ),
    Case(
        "tests_json",
        "deep.json",
        lambda p: _u("[" + json.dumps(good_object(f"{p}1")) + ", " + nested(50_000) + "]"),
        unusable=["element 2 of the array nests objects or arrays too deeply"],
    ),
    Case(
        "tests_json",
        "not_objects.json",
        lambda p: _u("[" + json.dumps(good_object(f"{p}1")) + ", 7]"),
        unusable=["element 2 of the array is not a JSON object"],
    ),
    Case(
        "tests_xlsx",
        "twice.xlsx",
        lambda p: xlsx([TESTS + ["Mã mẫu"], good_row(f"{p}1") + ["x"]]),
        unusable=["columns 1 ('Mã mẫu') and 8 ('Mã mẫu')"],
    ),
    Case(
        "tests_xlsx",
        "damaged.xlsx",
        lambda p: damaged_xlsx([TESTS] + [good_row(f"{p}{i}") for i in range(3000)]),
        unusable=["the worksheet cannot be read"],
    ),
    Case("vaccinations", "not_a_workbook.xlsx", lambda p: _u(csv_text(DOSES, [])), unusable=["not an Excel workbook"]),
]


# --- running the CLI -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(ingest_env, feeds_dir):
    """`covidgis ingest FILE --feed NAME --json --no-recompute` with the test feeds; the process, never a traceback."""
    env = {**ingest_env, "COVIDGIS_INGEST_FEEDS_DIR": str(feeds_dir)}

    def run(path: Path, feed: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(COVIDGIS), "ingest", str(path), "--feed", feed, "--json", "--no-recompute"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            check=False,
        )
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert proc.returncode in (0, 2), proc.stderr[-3000:]
        return proc

    return run


def stored(engine, feed: str, prefix: str) -> dict[str, tuple]:
    """key -> (text column, batch_id) of the feed's rows whose key starts with prefix."""
    table, key, column = STORED[feed]
    with engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT {key}, {column}, batch_id FROM events.{table} WHERE starts_with({key}, :prefix)"),
            {"prefix": prefix},
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def rejects(engine, batch_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT row_number, field, reason, message, file_name FROM ingest.reject "
                "WHERE batch_id = :b ORDER BY row_number"
            ),
            {"b": batch_id},
        ).all()


def batches_of(engine, file_name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM ingest.batch WHERE file_name = :f"), {"f": file_name}).scalar()


def _nfc(value):
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


_prefixes = itertools.count(1)


def check_lands(engine, ingest, path: Path, feed: str, prefix: str, landed: dict, rejected: dict) -> None:
    """The file lands: exactly the expected keys stored with their text, exactly the expected rows rejected
    (with file, reason and field), and a second run changes nothing."""
    proc = ingest(path, feed)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    rows = stored(engine, feed, prefix)
    assert set(rows) == set(landed), (sorted(rows), sorted(landed))
    for key, want in landed.items():
        assert _nfc(rows[key][0]) == _nfc(want), key
    found = rejects(engine, summary["batch_id"])
    assert {r.row_number for r in found} == set(rejected)
    for number, want in rejected.items():
        reason, fld = want if isinstance(want, tuple) else (want, None)
        mine = [r for r in found if r.row_number == number]
        assert reason in {r.reason for r in mine}, (number, mine)
        assert fld is None or fld in {r.field for r in mine if r.reason == reason}, (number, mine)
    assert all(r.file_name == path.name and r.message and len(r.message) < 400 for r in found)
    assert summary["rows"] == summary["accepted"] + summary["rejected"] + summary["duplicates"] + summary["corrections"]
    assert summary["rejected"] == len(rejected)
    again = ingest(path, feed)
    assert again.returncode == 0, again.stderr[-2000:]
    second = json.loads(again.stdout)
    assert (second["accepted"], second["corrections"], second["rejected"]) == (0, 0, summary["rejected"])
    assert second["duplicates"] == summary["accepted"] + summary["corrections"] + summary["duplicates"]
    assert stored(engine, feed, prefix) == rows


def check_unusable(engine, ingest, path: Path, feed: str, prefix: str, words: list[str]) -> None:
    """The file is unusable: exit 2, one error (wrapped at most by the terminal width) naming the problem, and
    nothing written."""
    proc = ingest(path, feed)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert proc.stdout == ""
    error = proc.stderr[proc.stderr.index("error:") :]
    assert len(error) < 1000 and error.count("error:") == 1
    flat = " ".join(error.split())
    for word in words:
        assert word in flat, (word, flat)
    assert stored(engine, feed, prefix) == {}
    assert batches_of(engine, path.name) == 0


@pytest.mark.parametrize("case", CASES_, ids=lambda c: f"{c.feed}-{c.name}")
def test_each_malformed_file_lands_or_is_unusable(engine, ingest, files, case):
    prefix = f"M{next(_prefixes)}-"
    path = files / case.name
    path.write_bytes(case.content(prefix))
    if case.unusable is not None:
        check_unusable(engine, ingest, path, case.feed, prefix, case.unusable)
    else:
        check_lands(engine, ingest, path, case.feed, prefix, case.landed(prefix), case.rejected)


# --- random files ------------------------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [
        "a",
        "Ạ",
        "ệ",
        " ",
        ",",
        ";",
        '"',
        "\n",
        "\r",
        "\r\n",
        "\t",
        "\\",
        "\\N",
        "\\.",
        "\x00",
        "\x01",
        "\x1b",
        "😀",
        "\u0301",
        "\ufeff",
        "[/]",
    ]
)
_VALUE = st.lists(_ALPHABET, max_size=12).map("".join) | st.just("v" * 40_000)
_SHAPE = st.sampled_from(["good"] * 6 + ["extra", "short", "bad_date", "blank_before"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    rows=st.lists(st.tuples(_VALUE, _SHAPE), min_size=1, max_size=12),
    eol=st.sampled_from(["\n", "\r\n"]),
    quote_cr=st.booleans(),
)
def test_random_legal_csv_every_row_lands_or_is_rejected_with_its_number(engine, ingest, files, rows, eol, quote_cr):
    """Any values, any line ends, quoted as RFC 4180 asks (or, quote_cr False, leaving a CR alone unquoted as
    naive writers do): each row lands with its value as written (stripped) or is rejected under its number."""
    prefix = f"R{next(_prefixes)}-"
    lines, landed, rejected, number = [csv_text(TESTS, [], eol=eol)[: -len(eol)]], {}, {}, 1
    for i, (lab, shape) in enumerate(rows):
        if shape == "blank_before":
            lines.append("")
            number += 1
        number += 1
        key = f"{prefix}{i}"
        row = good_row(key, lab, **({"Ngày lấy mẫu": "32/07/2021"} if shape == "bad_date" else {}))
        row = row + ["x"] if shape == "extra" else row[:-1] if shape == "short" else row
        lines.append(",".join(_naive(v) if not quote_cr else cell(v) for v in row))
        stripped = lab.strip()
        if shape in ("extra", "short", "bad_date"):
            rejected[number] = {"extra": "extra_values", "short": "missing_values", "bad_date": "unparseable_date"}[
                shape
            ]
        elif "\x00" in stripped:
            rejected[number] = "invalid_character"
        elif len(stripped) > 32_767:
            rejected[number] = "value_too_long"
        else:
            landed[key] = stripped or None
    path = files / f"random_{prefix[:-1]}.csv"
    path.write_bytes((eol.join(lines) + eol).encode("utf-8"))
    check_lands(engine, ingest, path, "tests", prefix, landed, rejected)


def _naive(value: str) -> str:
    """Quoted only for the delimiter, a quote or a line feed: a CR alone is left in the open."""
    return cell(value) if any(c in value for c in (",", '"', "\n")) else value


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    body=st.binary(max_size=400)
    | st.lists(
        st.sampled_from(
            [
                b"a",
                b",",
                b'"',
                b"\r",
                b"\n",
                b"\x00",
                b"\\",
                b"\xff",
                b"\xc3\xa1",
                b"\xef\xbb\xbf",
                b"15/07/2021 08:30",
                b"PCR",
                b"\xc3\x82m t\xc3\xadnh",
                b"26020-01",
                b"0912345678",
            ]
        ),
        max_size=80,
    ).map(b"".join)
)
def test_random_bytes_never_a_traceback(engine, ingest, files, body):
    """Whatever follows a good header: exit 0 with every row counted and each reject numbered within the file, or
    exit 2 with one error and nothing written."""
    path = files / f"bytes_{next(_prefixes)}.csv"
    path.write_bytes(csv_text(TESTS, []).encode("utf-8") + body)
    proc = ingest(path, "tests")
    if proc.returncode == 2:
        assert proc.stdout == "" and proc.stderr.count("error:") == 1
        assert batches_of(engine, path.name) == 0
        return
    summary = json.loads(proc.stdout)
    assert summary["rows"] == summary["accepted"] + summary["rejected"] + summary["duplicates"] + summary["corrections"]
    numbers = [r.row_number for r in rejects(engine, summary["batch_id"])]
    assert len(set(numbers)) == summary["rejected"]
    assert all(2 <= n <= body.count(b"\n") + body.count(b"\r") + 2 for n in numbers)


def test_markup_in_a_file_name_or_value_is_printed_as_text(ingest_env, feeds_dir, files):
    """The plain (not --json) summary and the rejects table show text from the file as text: '[/]' is no markup."""
    path = files / "[red]tests[bold].csv"
    path.write_bytes(_u(csv_text(TESTS, [good_row(f"K{next(_prefixes)}-1", **{"Loại xét nghiệm": "[/]PCR[red]"})])))
    env = {**ingest_env, "COVIDGIS_INGEST_FEEDS_DIR": str(feeds_dir)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(COVIDGIS), *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False)

    loaded = run("ingest", str(path), "--feed", "tests", "--no-recompute")
    assert loaded.returncode == 0 and "Traceback" not in loaded.stderr, loaded.stderr[-2000:]
    assert "[red]tests[bold].csv" in loaded.stdout
    batch = json.loads(run("ingest", str(path), "--feed", "tests", "--json", "--no-recompute").stdout)["batch_id"]
    listed = run("ingest", "rejects", "--batch", str(batch))
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr[-2000:]
    assert "[/]PCR[red]" in " ".join(listed.stdout.split())
