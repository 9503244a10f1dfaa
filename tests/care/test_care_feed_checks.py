"""The feeds' cross-row checks (`checks:` in ingest/feeds/*.yml) run by the real `covidgis ingest`: an admit while
admitted elsewhere and impossible observations are rejected with file, row and reason, the good rows land, and the
observations that land are classified after the batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from care_support import ADMISSIONS, FACILITIES, FEEDS, OBSERVATIONS, ROOMS, person_key, write_csv
from conftest import run_cli

from gis.ingest.errors import FeedError
from gis.ingest.feeds import load_feed

SECRET = "care-test-secret-0123456789abcdef"  # care_support.PSEUDONYMISER's


@pytest.fixture(scope="module")
def cli(db_url, tmp_path_factory):
    """`covidgis ARGS… --json` against the module's database, parsed."""
    env = {"COVIDGIS_HMAC_SECRET": SECRET, "COVIDGIS_VAR_DIR": str(tmp_path_factory.mktemp("care-var"))}

    def run(*args: str) -> dict:
        return json.loads(run_cli(*args, "--json", database_url=db_url, env=env).stdout)

    return run


@pytest.fixture(scope="module")
def registry(cli, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("care-feed-checks")
    facilities = [
        ["T1", "Cơ sở điều trị", "A", 1, 4, None, "25993"],
        ["T2", "Cơ sở điều trị", "B", 2, 4, None, "25993"],
    ]
    cli("ingest", str(write_csv(d / "f.csv", FACILITIES, facilities)), "--feed", "facilities", "--no-recompute")
    rooms = [["T1", "R1", "F0", "Chung", 4, 4, 1], ["T2", "R1", "F0", "Chung", 4, 4, 1]]
    cli("ingest", str(write_csv(d / "r.csv", ROOMS, rooms)), "--feed", "rooms", "--no-recompute")
    return d


def test_an_admit_while_admitted_elsewhere_is_rejected_by_covidgis_ingest(cli, registry, engine):
    first = write_csv(
        registry / "admissions-1.csv",
        ADMISSIONS,
        [["A1", "999000000201", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 08:00", None]],
    )
    assert cli("ingest", str(first), "--feed", "admissions", "--no-recompute")["accepted"] == 1
    second = write_csv(
        registry / "admissions-2.csv",
        ADMISSIONS,
        [
            # row 2: 201 is in T1/R1 since 1 Aug (stored by the batch before): rejected
            ["A2", "999000000201", "F0", "Tiếp nhận", "T2", "R1", "05/08/2021 10:00", None],
            # row 3: the same person's move lands and closes the stay at T1
            ["A3", "999000000201", "F0", "Chuyển nơi điều trị", "T2", "R1", "05/08/2021 11:00", None],
            # row 4: a new person lands
            ["A4", "999000000202", "F0", "Tiếp nhận", "T1", "R1", "05/08/2021 12:00", None],
        ],
    )
    summary = cli("ingest", str(second), "--feed", "admissions", "--no-recompute")
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    assert summary["rejected_by_reason"] == {"already_admitted": 1}
    assert "feed_checks" in summary["phases"]
    rejects = cli("ingest", "rejects", "--batch", str(summary["batch_id"]))
    assert rejects["batch"]["file_name"] == "admissions-2.csv"
    [reject] = rejects["rejects"]
    assert (reject["row_number"], reject["field"], reject["reason"]) == (2, "event", "already_admitted")
    assert "already admitted at T1 room R1 since 01/08/2021 08:00" in reject["message"]
    assert reject["record"]["event_id"] == "A2" and reject["record"]["person_key"] == person_key("999000000201")
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT event_id FROM events.admissions ORDER BY event_id").scalars().all()
    assert stored == ["A1", "A3", "A4"]
    occupancy = cli("care", "occupancy", "--date", "2021-08-05")
    assert {f["facility_id"]: f["occupied"] for f in occupancy["facilities"]} == {"T1": 1, "T2": 1}


def test_impossible_observations_are_rejected_and_the_rest_classified(cli, registry):
    path = write_csv(
        registry / "observations.csv",
        OBSERVATIONS,
        [
            ["O1", "999000000202", "06/08/2021 08:00", 97, 18, 80, 37.5, 120, "có", "ho"],
            ["O2", "999000000202", "06/08/2021 09:00", 101, 18, 80, 37.0, 120, "có", None],  # SpO2 > 100
            ["O3", "999000000202", "06/08/2021 10:00", 29, 18, 80, 37.0, 120, "có", None],  # SpO2 < 30
            ["O4", "999000000202", "06/08/2021 11:00", 95, 18, 80, 46.2, 120, "có", None],  # temperature > 45 °C
            ["O5", "999000000202", "06/08/2021 12:00", 95, 18, 80, 29.9, 120, "có", None],  # temperature < 30 °C
            ["O6", "999000000202", "06/08/2021 13:00", 92, 22, 90, 38.4, 120, "có", "khó thở"],  # lands: severe
        ],
    )
    summary = cli("ingest", str(path), "--feed", "observations", "--no-recompute")
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (6, 2, 4)
    rejects = cli("ingest", "rejects", "--batch", str(summary["batch_id"]))["rejects"]
    assert [(r["row_number"], r["field"]) for r in rejects] == [(3, "spo2"), (4, "spo2"), (5, "temp_c"), (6, "temp_c")]
    temperature = [r for r in rejects if r["field"] == "temp_c"]
    assert {r["reason"] for r in temperature} == {"impossible_value"}
    assert "46.2 °C outside 30–45 °C" in temperature[0]["message"]
    assert all(r["message"] for r in rejects)
    transfers = cli("care", "transfers")
    [request] = [r for r in transfers["requests"] if r["from_facility"] == "T1"]
    assert request["required_tier"] == 2 and request["status"] == "open"


def test_a_check_naming_no_file_is_refused_when_the_feed_loads(tmp_path):
    text = (FEEDS / "observations.yml").read_text(encoding="utf-8")
    (tmp_path / "observations.yml").write_text(
        text.replace("gis.care:sql/observations_check.sql", "gis.care:sql/no_such_check.sql"), encoding="utf-8"
    )
    with pytest.raises(FeedError, match="no .sql file 'sql/no_such_check.sql' in gis.care"):
        load_feed("observations", tmp_path)
    (tmp_path / "observations.yml").write_text(
        text.replace("gis.care:sql/observations_check.sql", "gis.nowhere:sql/x.sql"), encoding="utf-8"
    )
    with pytest.raises(FeedError, match="no package 'gis.nowhere'"):
        load_feed("observations", tmp_path)
