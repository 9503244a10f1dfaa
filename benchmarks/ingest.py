"""Ingest speed: 1,000,000 `tests` rows through `covidgis ingest` next to the physical limit, `COPY` of the same
typed rows into a table with the same columns and indexes as `events.tests`.

Usage: .venv/bin/python benchmarks/ingest.py [--rows N] [--runs N] [--recompute] [--keep]
Runs against a scratch database `covidgis_bench` on the configured server (DATABASE_URL or the local cluster):
migrated, with Đồng Nai's boundaries loaded, dropped at the end unless --keep. Prints rows/s of both, the ratio
reference/ingest, the ingest process's peak memory (RSS), the seconds of each step of the batch and the load average
before each run.

The reference: after each ingest, the rows it stored (`events.tests`, typed, located, pseudonymised) are written
to a file with psql `\\copy … TO` (not timed), and `psql \\copy … FROM` that file into `bench.tests`, made
`LIKE events.tests INCLUDING ALL` (same columns, defaults, primary key and indexes), emptied first, is timed.

The ingest is timed as `covidgis ingest FILE --feed tests --json --no-recompute`: the recomputation of indicators
and zones that the CLI runs after a batch by default is the stats/risk stage, not ingest (--recompute includes it).
With --runs N both are measured N times, each into emptied tables, and the best run of each is compared.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.boundaries.dataset import read_manifest  # noqa: E402
from gis.boundaries.load import prepare, store  # noqa: E402
from gis.db.engine import ensure_database, make_engine, start_database  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.settings import Settings  # noqa: E402

HEADER = [
    "Mã mẫu",
    "Số CCCD/SĐT",
    "Ngày lấy mẫu",
    "Loại xét nghiệm",
    "Mẫu gộp",
    "Kết quả",
    "Ngày trả kết quả",
    "Mã phòng xét nghiệm",
    "Mã địa bàn",
    "Kinh độ",
    "Vĩ độ",
]
BENCH_DB = "covidgis_bench"


def write_file(path: Path, rows: int, codes: list[str]) -> None:
    """A tests export: day-first dates, Vietnamese spellings, area codes (hamlet or commune), no defects."""
    rng = random.Random(1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            day = 1 + i * 120 // rows
            month, dom = 7 + (day - 1) // 30, 1 + (day - 1) % 30
            when = f"{dom:02d}/{month:02d}/2021 {rng.randrange(7, 18):02d}:{rng.randrange(60):02d}"
            w.writerow(
                [
                    f"B{i:08d}",
                    f"0{rng.randrange(300000000, 999999999)}",
                    when,
                    "RT-PCR" if i % 3 else "Test nhanh",
                    "Không",
                    "Âm tính" if i % 50 else "Dương tính",
                    when,
                    f"LAB-{i % 20}",
                    codes[i % len(codes)],
                    "",
                    "",
                ]
            )


def peak_rss_run(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """Run cmd; (seconds, peak RSS in bytes of that process, stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    out, err = proc.stdout.read(), proc.stderr.read()  # not communicate(): it reaps the child before wait4 can
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    return seconds, usage.ru_maxrss * 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="Measure N times; compare the best of each.")
    parser.add_argument("--recompute", action="store_true", help="Time the recompute after the batch as well.")
    parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")
    args = parser.parse_args()

    settings = Settings()
    start_database(settings).dispose()
    url = make_url(settings.url).set(database=BENCH_DB)
    ensure_database(url.render_as_string(hide_password=False))
    engine = make_engine(url.render_as_string(hide_password=False))
    upgrade(engine)
    with engine.connect() as conn:
        loaded = conn.execute(text("SELECT count(*) FROM admin.area")).scalar()
    if not loaded:
        ds = read_manifest(ROOT / "boundaries" / "dongnai")
        store(engine, ds, prepare(ds))
    with engine.begin() as conn:
        codes = (
            conn.execute(text("SELECT code FROM admin.area WHERE level IN (3, 4) AND valid_to IS NULL ORDER BY code"))
            .scalars()
            .all()
        )

    copies, ingests = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tests_1m.csv"
        write_file(path, args.rows, list(codes))
        size = path.stat().st_size
        libpq = [
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            "-d",
            BENCH_DB,
        ]
        env = {
            **os.environ,
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "COVIDGIS_VAR_DIR": tmp,
            "COVIDGIS_HMAC_SECRET": "benchmark-secret-0123456789",
        }
        ingest = [str(Path(sys.executable).parent / "covidgis"), "ingest", str(path), "--feed", "tests", "--json"]
        if not args.recompute:
            ingest.append("--no-recompute")
        typed = Path(tmp) / "tests_typed.txt"
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS bench"))
            conn.execute(text("DROP TABLE IF EXISTS bench.tests"))
            conn.execute(text("CREATE TABLE bench.tests (LIKE events.tests INCLUDING ALL)"))
        psql = ["psql", *libpq, "-q", "-v", "ON_ERROR_STOP=1", "-c"]
        for run in range(1, args.runs + 1):
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE events.tests, ingest.reject, ingest.audit, ingest.batch"))
                conn.execute(text("CHECKPOINT"))
            load = os.getloadavg()[0]
            ingest_s, rss, out = peak_rss_run(ingest, env)
            ingests.append((ingest_s, load, rss, json.loads(out)))
            peak_rss_run([*psql, f"\\copy events.tests TO '{typed}'"], dict(os.environ))
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE bench.tests"))
                conn.execute(text("CHECKPOINT"))
            load = os.getloadavg()[0]
            copy_s, _, _ = peak_rss_run([*psql, f"\\copy bench.tests FROM '{typed}'"], dict(os.environ))
            copies.append((copy_s, load))
            print(
                f"run {run}: ingest {ingest_s:5.1f} s (load {ingests[-1][1]:.2f}), peak RSS {rss / 2**20:.0f} MB; "
                f"reference COPY {copy_s:5.1f} s (load {load:.2f}); ratio {copy_s / ingest_s:.2f}",
                flush=True,
            )
    copy_s, copy_load = min(copies)
    ingest_s, ingest_load, _, summary = min(ingests, key=lambda r: r[0])
    rss = max(r[2] for r in ingests)
    print(f"file: {args.rows:,} tests rows, {size / 1e6:.0f} MB; best of {args.runs} run(s)")
    print(
        f"reference: COPY typed rows:     {copy_s:6.1f} s  {args.rows / copy_s:>10,.0f} rows/s  (load {copy_load:.2f}; "
        "into a table LIKE events.tests INCLUDING ALL)"
    )
    print(
        f"covidgis ingest --feed tests:   {ingest_s:6.1f} s  {args.rows / ingest_s:>10,.0f} rows/s  "
        f"(load {ingest_load:.2f}{', with recompute' if args.recompute else ''})"
    )
    ratios = sorted(c[0] / i[0] for c, i in zip(copies, ingests))
    print(
        f"ratio reference / ingest:       {copy_s / ingest_s:6.2f}  (goal ≥ 0.8; best of each; within a run: "
        f"median {ratios[len(ratios) // 2]:.2f}, range {ratios[0]:.2f}–{ratios[-1]:.2f})"
    )
    print(f"peak RSS of the ingest process: {rss / 2**20:.0f} MB  (goal ≤ 1024 MB)")
    phases = ", ".join(f"{k} {v:.1f}" for k, v in summary.get("phases", {}).items())
    print(f"steps of the batch (s): {phases}")
    print(f"summary: {json.dumps({k: v for k, v in summary.items() if k != 'phases'}, ensure_ascii=False)}")
    engine.dispose()
    if not args.keep:
        admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE "{BENCH_DB}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
