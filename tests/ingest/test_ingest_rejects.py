"""Every reject reason, with row, field and a clerk-readable message; good rows of the same file land."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

SAMPLES = Path(__file__).resolve().parents[2] / "ingest" / "samples"


@pytest.fixture(scope="module")
def tests_batch(ingest_json):
    return ingest_json(SAMPLES / "tests_defects.csv", "tests")


@pytest.fixture(scope="module")
def cases_batch(ingest_json):
    return ingest_json(SAMPLES / "cases_defects.csv", "cases")


def _rejects(covidgis, batch_id: int) -> dict[int, dict]:
    out = json.loads(covidgis("ingest", "rejects", "--batch", str(batch_id), "--json").stdout)
    return {r["row_number"]: r for r in out["rejects"]}


def test_summary_has_the_fields_and_counts(tests_batch):
    for key in (
        "feed",
        "batch_id",
        "rows",
        "accepted",
        "rejected",
        "duplicates",
        "corrections",
        "seconds",
        "rejected_by_reason",
    ):
        assert key in tests_batch
    assert tests_batch["feed"] == "tests"
    assert tests_batch["rows"] == 15
    assert (tests_batch["accepted"], tests_batch["rejected"], tests_batch["duplicates"]) == (6, 9, 0)
    assert tests_batch["rejected_by_reason"] == {
        "duplicate_key": 1,
        "future_date": 1,
        "missing_required": 2,
        "outside_vocabulary": 1,
        "point_outside_province": 1,
        "unknown_area_code": 1,
        "unparseable_date": 2,
    }


@pytest.mark.parametrize(
    "row, field, reason, words",
    [
        (6, "lon", "point_outside_province", "outside the province"),
        (7, "collected_at", "unparseable_date", '"31/02/2021 10:00" is not a date written dd/mm/yyyy'),
        (8, "collected_at", "unparseable_date", "07/15/2021"),
        (9, "person_id", "missing_required", "Số CCCD/SĐT is empty"),
        (10, "collected_at", "future_date", "in the future"),
        (11, "test_type", "outside_vocabulary", '"PCR nhanh" is not one of rt_pcr, rapid_antigen'),
        (12, "area_code", "unknown_area_code", '"26O20-01" is not the code of a current hamlet or commune'),
        (13, "sample_id", "duplicate_key", "already appears in row 2"),
        (14, "area_code", "missing_required", "no area code and no coordinates"),
    ],
)
def test_each_reject_reason_of_the_tests_sample(covidgis, tests_batch, row, field, reason, words):
    rejects = _rejects(covidgis, tests_batch["batch_id"])
    assert set(rejects) == {6, 7, 8, 9, 10, 11, 12, 13, 14}
    r = rejects[row]
    assert (r["field"], r["reason"]) == (field, reason)
    assert words in r["message"]


@pytest.mark.parametrize(
    "row, field, reason",
    [
        (3, "birth_year", "implausible_birth_year"),
        (4, "birth_year", "not_a_number"),
        (6, "sex", "outside_vocabulary"),
    ],
)
def test_reject_reasons_of_the_cases_sample(covidgis, cases_batch, row, field, reason):
    assert cases_batch["accepted"] == 2
    r = _rejects(covidgis, cases_batch["batch_id"])[row]
    assert (r["field"], r["reason"]) == (field, reason)


def test_good_rows_land_located(engine, tests_batch):
    with engine.connect() as conn:
        rows = {
            r.sample_id: r
            for r in conn.execute(
                text(
                    "SELECT sample_id, area_code, commune_code, located_by, snap_m, batch_id, test_type, result, "
                    "to_char(collected_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI') AS local "
                    "FROM events.tests"
                )
            )
        }
    assert set(rows) == {"XN-0001", "XN-0002", "XN-0003", "XN-0004", "XN-0013", "XN-0014"}
    assert all(r.batch_id == tests_batch["batch_id"] for r in rows.values())
    assert (rows["XN-0001"].area_code, rows["XN-0001"].commune_code, rows["XN-0001"].located_by) == (
        "26020-01",
        "26020",
        "code",
    )
    assert (rows["XN-0002"].area_code, rows["XN-0002"].commune_code) == ("26020", "26020")  # a commune code
    assert (rows["XN-0003"].area_code, rows["XN-0003"].located_by) == ("26020-01", "point")
    assert rows["XN-0014"].area_code == "26020-02"  # decimal commas in the coordinates
    assert (rows["XN-0001"].test_type, rows["XN-0001"].result) == ("rt_pcr", "positive")  # Vietnamese spellings
    assert rows["XN-0002"].test_type == "rapid_antigen"
    assert rows["XN-0001"].local == "2021-07-15 08:30"  # day first, local time


def test_point_in_a_sliver_gap_is_snapped_and_the_sea_is_rejected(engine, covidgis, tests_batch):
    with engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT count(*) FROM admin.area WHERE level = 4 AND valid_to IS NULL "
                "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(106.903701, 10.962902), 4326))"
            )
        ).scalar()
        snapped = conn.execute(
            text("SELECT located_by, snap_m, area_code, commune_code FROM events.tests WHERE sample_id = 'XN-0004'")
        ).one()
    assert inside == 0  # the sample point lies in a gap between hamlets
    assert snapped.located_by == "snapped" and 0 < snapped.snap_m <= 200
    assert snapped.area_code.startswith(snapped.commune_code + "-")
    assert _rejects(covidgis, tests_batch["batch_id"])[6]["reason"] == "point_outside_province"


def test_rejects_keep_the_row_with_the_person_pseudonymised(engine, tests_batch):
    with engine.connect() as conn:
        records = (
            conn.execute(text("SELECT record FROM ingest.reject WHERE batch_id = :b"), {"b": tests_batch["batch_id"]})
            .scalars()
            .all()
        )
    assert records and all("person_id" not in r for r in records)
    keys = [r["person_key"] for r in records if r["person_key"]]
    assert keys and all(len(k) == 64 for k in keys)
    assert not any("075190012" in json.dumps(r) for r in records)


def test_batch_lineage(engine, tests_batch):
    with engine.connect() as conn:
        b = conn.execute(text("SELECT * FROM ingest.batch WHERE id = :b"), {"b": tests_batch["batch_id"]}).one()
    assert (b.feed, b.file_name, b.file_sha256) == ("tests", "tests_defects.csv", tests_batch["sha256"])
    assert (b.rows_read, b.accepted, b.rejected, b.duplicates, b.corrections) == (15, 6, 9, 0, 0)
    assert b.finished_at >= b.started_at


def test_rejects_of_an_unknown_batch_is_a_user_error(covidgis):
    proc = covidgis("ingest", "rejects", "--batch", "999999", check=False)
    assert proc.returncode == 2 and "no batch 999999" in proc.stderr
