"""The scheduler: drop folders, jobs kept in PostgreSQL, and a run that survives a database restart."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from ingest_fixtures import covidgis, ingest_env, ingest_json  # noqa: F401  (fixtures)
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
COVIDGIS = Path(sys.executable).parent / "covidgis"
HEADER = "Mã mẫu,Số CCCD/SĐT,Ngày lấy mẫu,Loại xét nghiệm,Kết quả,Mã địa bàn\n"


def _drop(ingest_env, feed: str, name: str, body: str) -> Path:
    folder = Path(ingest_env["COVIDGIS_VAR_DIR"]) / "drop" / feed
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(body, encoding="utf-8")
    return folder


def _wait(predicate, timeout: float, what: str, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended first:\n{proc.stderr.read()}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _sleeping_backend(engine):
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()"
            )
        ).scalar()


def test_a_run_survives_a_database_restart(engine, pg_cluster, ingest_env):
    rows = "".join(f"XN-R{i:04d},0751902{i:05d},16/07/2021 09:00,RT-PCR,Âm tính,26020-01\n" for i in range(500))
    folder = _drop(ingest_env, "tests", "tests_restart.csv", HEADER + rows)
    env = {**ingest_env, "COVIDGIS_INGEST_TEST_MERGE_DELAY_S": "3", "COVIDGIS_INGEST_RETRY_BACKOFF_S": "1"}
    proc = subprocess.Popen(
        [str(COVIDGIS), "ingest", "watch", "--once"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait(lambda: _sleeping_backend(engine), 60, "the batch to reach its merge", proc)
        pg_cluster.stop()  # mid-transaction: the batch is lost and must be retried
        pg_cluster.start()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "retry 1 of" in err
    results = json.loads(out)["results"]
    assert [(r["feed"], r["accepted"]) for r in results] == [("tests", 500)]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM events.tests WHERE sample_id LIKE 'XN-R%'")).scalar() == 500
        assert (
            conn.execute(text("SELECT count(*) FROM ingest.batch WHERE file_name = 'tests_restart.csv'")).scalar() == 1
        )
    assert [p.name for p in (folder / "done").iterdir()] == [f"{results[0]['batch_id']}-tests_restart.csv"]


def test_the_scheduler_keeps_its_jobs_in_postgres_and_ingests_dropped_files(engine, ingest_env):
    folder = _drop(ingest_env, "venues", "venues_0801.csv", "Mã địa điểm,Tên địa điểm,Mã địa bàn\nQR-W1,Chợ,26020\n")
    _drop(ingest_env, "tests", "broken.csv", "Mã mẫu\nXN-B1\n")
    proc = subprocess.Popen(
        [str(COVIDGIS), "ingest", "watch"],
        cwd=ROOT,
        env=ingest_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        done = _wait(lambda: list((folder / "done").glob("*venues_0801.csv")), 60, "the dropped file", proc)
        with engine.connect() as conn:
            jobs = conn.execute(text("SELECT id FROM ingest.scheduler_job ORDER BY id")).scalars().all()
            venue = conn.execute(text("SELECT area_code FROM events.venues WHERE venue_id = 'QR-W1'")).scalar()
    finally:
        proc.terminate()
        proc.wait(20)
    assert done and venue == "26020"
    feeds = sorted(p.stem for p in (ROOT / "ingest" / "feeds").glob("*.yml"))
    assert {"cases", "checkins", "facilities", "quarantine", "tests", "vaccinations", "venues"} <= set(feeds)
    assert jobs == [f"ingest:{f}" for f in feeds] + ["trace:retention"]  # the daily check-in retention (gis/scheduler)
    failed = Path(ingest_env["COVIDGIS_VAR_DIR"]) / "drop" / "tests" / "failed"
    assert "required column(s) missing" in (failed / "broken.csv.error.txt").read_text()
