"""`covidgis trace run|contacts|mark` through the real command: JSON, a spreadsheet-safe CSV, one-line errors."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import run_cli
from sqlalchemy import create_engine
from trace_support import add_case, add_checkins, add_venue, local


@pytest.fixture(scope="module")
def seeded(empty_db_url):
    engine = create_engine(empty_db_url)
    add_venue(engine, "V1", "market")
    add_case(engine, "F0-1", "p-f0", "2021-07-20")
    add_checkins(
        engine,
        [
            ("p-f0", "V1", local("2021-07-19", "10:00")),
            ('=HYPERLINK("http://x")', "V1", local("2021-07-19", "10:30")),  # a key that looks like a formula
            ("p-2", "V1", local("2021-07-19", "00:30")),  # out of the hour
        ],
    )
    engine.dispose()
    return empty_db_url


def cli(db_url, tmp_path, *args, check=True):
    return run_cli(*args, database_url=db_url, check=check, env={"COVIDGIS_VAR_DIR": str(tmp_path)})


def test_run_contacts_csv_and_mark(seeded, tmp_path):
    out = json.loads(cli(seeded, tmp_path, "trace", "run", "--date", "2021-07-20", "--json").stdout)
    assert {k: out[k] for k in ("cases", "visits", "venues", "contacts", "locations")} == {
        "cases": 1,
        "visits": 1,
        "venues": 1,
        "contacts": 1,
        "locations": 1,
    }
    assert out["seconds"] >= 0 and out["ruleset"] == "vn-pccovid-2022"
    rows = json.loads(cli(seeded, tmp_path, "trace", "contacts", "--case", "F0-1", "--json").stdout)
    assert [r["checked_in_at"] for r in rows] == ["2021-07-19T10:30:00+07:00"]
    target = tmp_path / "contacts.csv"
    cli(seeded, tmp_path, "trace", "contacts", "--case", "F0-1", "--csv", str(target))
    with open(target, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == [
        "checkin_id",
        "venue_id",
        "checked_in_at",
        "person_key",
        "case_id",
        "overlap_minutes",
        "risk",
        "ruleset_id",
    ]
    (row,) = table[1:]
    assert row[3] == '\'=HYPERLINK("http://x")' and row[2] == "2021-07-19T10:30:00+07:00"
    assert row[1] == "V1" and row[4] == "F0-1" and row[6] == "casual" and row[7] == "vn-pccovid-2022" and row[5] == ""
    marked = json.loads(
        cli(
            seeded, tmp_path, "trace", "mark", "--person", '=HYPERLINK("http://x")', "--by", "Trạm y tế", "--json"
        ).stdout
    )
    assert marked["person_key"] == '=HYPERLINK("http://x")' and marked["notified_at"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["trace", "run", "--case", "NOPE"], "unknown case 'NOPE'"),
        (["trace", "run", "--date", "2021-07-20", "--case", "F0-1"], "give --date or --case, not both"),
        (["trace", "run", "--ruleset", "no-such-rules"], "unknown trace rule set 'no-such-rules'"),
        (["trace", "contacts", "--case", "NOPE"], "unknown case 'NOPE'"),
        (["trace", "mark", "--person", "p-nobody"], "is no contact"),
    ],
)
def test_user_errors_are_one_line_exit_2(seeded, tmp_path, args, message):
    proc = cli(seeded, tmp_path, *args, check=False)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in proc.stderr
