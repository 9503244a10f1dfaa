"""Idempotent re-runs, corrections with audit, all-or-nothing batches (unusable files, kill -9 mid-merge)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "ingest" / "samples"
COVIDGIS = Path(sys.executable).parent / "covidgis"
TABLES = ["ingest.batch", "ingest.reject", "ingest.audit", "events.tests", "events.facilities", "events.checkins"]
FACILITIES_HEADER = (
    "Mã cơ sở,Loại cơ sở,Tên cơ sở,Tầng điều trị,Số giường,Giường hồi sức,Số phòng,Đang sử dụng,Mã địa bàn\n"
)


def snapshot(engine) -> dict[str, object]:
    """Row counts and a content digest of every ingest table."""
    with engine.connect() as conn:
        return {
            t: conn.execute(
                text(f"SELECT count(*), md5(coalesce(string_agg(x::text, '' ORDER BY x::text), '')) FROM {t} x")
            ).one()
            for t in TABLES
        }


def test_re_ingesting_the_same_file_changes_nothing(engine, ingest_json):
    first = ingest_json(SAMPLES / "tests_defects.csv", "tests")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT sample_id, row_hash, batch_id FROM events.tests ORDER BY 1")).all()
    again = ingest_json(SAMPLES / "tests_defects.csv", "tests")
    with engine.connect() as conn:
        after = conn.execute(text("SELECT sample_id, row_hash, batch_id FROM events.tests ORDER BY 1")).all()
    assert after == before  # same rows, same content, still the first batch's
    assert (again["accepted"], again["corrections"], again["duplicates"]) == (0, 0, first["accepted"])
    assert again["rejected"] == first["rejected"]
    assert again["sha256"] == first["sha256"] and again["batch_id"] != first["batch_id"]


def test_a_later_row_with_new_content_is_a_correction_with_audit(engine, ingest_json, tmp_path):
    v1 = tmp_path / "facilities_0801.csv"
    v1.write_text(
        FACILITIES_HEADER + "CS-T1,Cơ sở điều trị,Bệnh viện dã chiến số 1,1,300,,,120,26020-01\n"
        "CS-CL,Khu cách ly tập trung,Khu cách ly số 1,,,,200,50,26050\n",
        encoding="utf-8",
    )
    v2 = tmp_path / "facilities_0802.csv"
    v2.write_text(
        FACILITIES_HEADER + "CS-T1,Cơ sở điều trị,Bệnh viện dã chiến số 1,1,300,,,180,26020-01\n"
        "CS-CL,Khu cách ly tập trung,Khu cách ly số 1,,,,200,50,26050\n",
        encoding="utf-8",
    )
    first = ingest_json(v1, "facilities")
    second = ingest_json(v2, "facilities")
    assert (first["accepted"], first["corrections"]) == (2, 0)
    assert (second["accepted"], second["corrections"], second["duplicates"]) == (0, 1, 1)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT occupied, batch_id FROM events.facilities WHERE facility_id = 'CS-T1'")).one()
        audit = conn.execute(text("SELECT batch_id, feed, key, previous FROM ingest.audit")).all()
        unchanged = conn.execute(text("SELECT batch_id FROM events.facilities WHERE facility_id = 'CS-CL'")).scalar()
    assert (row.occupied, row.batch_id) == (180, second["batch_id"])
    assert unchanged == first["batch_id"]
    assert len(audit) == 1
    assert (audit[0].batch_id, audit[0].feed, audit[0].key) == (
        second["batch_id"],
        "facilities",
        {"facility_id": "CS-T1"},
    )
    assert audit[0].previous["occupied"] == 120 and audit[0].previous["batch_id"] == first["batch_id"]
    again = ingest_json(v2, "facilities")  # the corrected file again: nothing more to correct
    assert (again["corrections"], again["duplicates"]) == (0, 2)


def _bad_encoding(tmp_path: Path) -> Path:
    """Good UTF-8 rows, then a Windows-1258 (Vietnamese ANSI) row deep in the file."""
    good = (SAMPLES / "tests_defects.csv").read_text(encoding="utf-8-sig").splitlines()
    rows = [good[0]] + [
        f"XN-E{i:05d},0751900{i:05d},15/07/2021 08:30,RT-PCR,,Âm tính,,,26020-01,," for i in range(20000)
    ]
    path = tmp_path / "tests_ansi.csv"
    path.write_bytes(
        ("\n".join(rows) + "\n").encode("utf-8")
        + "XN-X,1,15/07/2021,RT-PCR,,Âm tính,,,".encode("cp1258")
        + b"\xd0\xe2\n"
    )
    return path


@pytest.mark.parametrize(
    "case", ["unknown feed", "missing column", "no such file", "bad encoding", "not xlsx", "bad ndjson line"]
)
def test_an_unusable_file_exits_2_and_writes_nothing(engine, covidgis, tmp_path, case):
    args = {
        "unknown feed": (str(SAMPLES / "tests_defects.csv"), "nope"),
        "missing column": (str(SAMPLES / "tests_missing_column.csv"), "tests"),
        "no such file": (str(tmp_path / "absent.csv"), "tests"),
        "bad encoding": (None, "tests"),
        "not xlsx": (None, "vaccinations"),
        "bad ndjson line": (None, "checkins"),
    }[case]
    path, feed = args
    if case == "bad encoding":
        path = str(_bad_encoding(tmp_path))
    elif case == "not xlsx":
        path = str(tmp_path / "doses.xlsx")
        Path(path).write_text("Mã mũi tiêm,Số CCCD/CMND\n", encoding="utf-8")
    elif case == "bad ndjson line":
        path = str(tmp_path / "checkins.ndjson")
        Path(path).write_text(
            '{"id": "CK1", "phone": "0912345678", "venue": "QR-1", "time": "2021-07-01T08:00:00"}\n'
            '{"id": "CK2", "phone": \n',
            encoding="utf-8",
        )
    before = snapshot(engine)
    proc = covidgis("ingest", path, "--feed", feed, "--json", check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "error:" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot(engine) == before


def test_kill_9_during_the_merge_leaves_the_tables_as_before(engine, db_url, ingest_env, tmp_path):
    rows = ["Mã mẫu,Số CCCD/SĐT,Ngày lấy mẫu,Loại xét nghiệm,Kết quả,Mã địa bàn"] + [
        f"XN-K{i:05d},0751901{i:05d},16/07/2021 09:00,RT-PCR,Âm tính,26020-01" for i in range(5000)
    ]
    path = tmp_path / "tests_kill.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = snapshot(engine)
    env = {**ingest_env, "COVIDGIS_INGEST_TEST_MERGE_DELAY_S": "120"}
    proc = subprocess.Popen(
        [str(COVIDGIS), "ingest", str(path), "--feed", "tests", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        sleeping = _wait_for_sleep(engine, proc)
        with engine.connect() as conn:  # merged but not committed: invisible to everyone else
            assert conn.execute(text("SELECT count(*) FROM events.tests WHERE sample_id LIKE 'XN-K%'")).scalar() == 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with engine.connect() as conn:  # the orphaned backend would sleep on; end it as a crash would
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": sleeping})
        conn.commit()
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(engine) == before


def _wait_for_sleep(engine, proc, timeout: float = 60) -> int:
    """The backend pid of the ingest once it sleeps inside its batch transaction (after the merge)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
                )
            ).scalar()
        if pid:
            return pid
        if proc.poll() is not None:
            raise AssertionError(f"ingest ended before the merge: {proc.stderr.read().decode()}")
        time.sleep(0.2)
    raise AssertionError("the ingest never reached the merge")
