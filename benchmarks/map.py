"""Time to first paint of the /map page showing all hamlets of Đồng Nai (1,735 polygons) in headless Chromium.

A throwaway PostgreSQL cluster with Đồng Nai loaded and one day of zones (or --database-url for an existing one with
zones), `covidgis serve` on a free port, then N fresh browser contexts (empty HTTP cache) opening
/map?level=4&basemap=0. First paint = performance.now() when the zones layer has been drawn and two animation frames
have passed (the page records it in window.covidgis.state.firstPaintMs). Goal: ≤ 1.5 s.

    .venv/bin/python benchmarks/map.py [--runs 5] [--level 4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import text

from gis.boundaries.dataset import read_manifest
from gis.boundaries.load import prepare, store
from gis.db.cluster import Cluster
from gis.db.engine import ensure_database, make_engine
from gis.db.migrate import upgrade
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2021, 9, 5)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


QUIET_INDICATORS = (ROOT / "tests" / "fixtures" / "quiet_indicators.sql").read_text(encoding="utf-8")


def prepare_database(url: str) -> None:
    """Migrate, load Đồng Nai and classify one day where a third of the hamlets have cases (several colours)."""
    engine = make_engine(url)
    upgrade(engine)
    ds = read_manifest(ROOT / "boundaries" / "dongnai")
    store(engine, ds, prepare(ds))
    with engine.begin() as conn:
        conn.execute(text(QUIET_INDICATORS), {"d": DAY})  # the tests' quiet day (tests/fixtures)
        conn.execute(
            text("""
            UPDATE stats.indicator SET vaccinated_18plus_1dose = 0,
                   community_cases_7d = ceil(population * (abs(hashtext(area_code)) % 5) * 50 / 100000.0)
            WHERE day = :d AND admin_level = 4 AND abs(hashtext(area_code)) % 3 = 0"""),
            {"d": DAY},
        )
    summary = compute_zones(engine, [DAY], load_ruleset("vn-4800-2021"), RiskSettings())
    print(f"zones: {summary.zones} on {DAY}, {summary.per_colour}", flush=True)
    engine.dispose()


def serve(url: str, var_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "COVIDGIS_PORT": str(port), "COVIDGIS_VAR_DIR": str(var_dir)}
    log = open(var_dir / "serve.log", "w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "covidgis"), "serve"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=2).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("covidgis serve did not start:\n" + (var_dir / "serve.log").read_text())


def measure(base: str, level: int, runs: int) -> list[float]:
    """First-paint times (ms) of `runs` cold loads, each in a new browser context."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for i in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 860})
            page = context.new_page()
            page.goto(f"{base}/map?basemap=0&level={level}")
            page.wait_for_selector("body[data-cg-ready='1']", timeout=30000)
            ms = page.evaluate("window.covidgis.state.firstPaintMs")
            drawn = page.evaluate("Object.keys(window.covidgis.fills()).length")
            print(f"run {i + 1}: first paint {ms / 1000:.3f} s ({drawn} units drawn)", flush=True)
            times.append(ms)
            context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--level", type=int, default=4, choices=[1, 2, 3, 4])
    parser.add_argument("--database-url", help="An existing database with zones (default: a throwaway cluster).")
    args = parser.parse_args()

    top = Path(tempfile.mkdtemp(prefix="covidgis-bench-map-"))
    top.chmod(0o755)
    cluster = None
    try:
        url = args.database_url
        if url is None:
            cluster = Cluster(
                data_dir=top / "data",
                socket_dir=top / "sock",
                port=free_port(),
                server_options="-c fsync=off -c synchronous_commit=off",
            )
            cluster.start()
            url = cluster.url("bench_map")
            ensure_database(url)
            prepare_database(url)
        proc, base = serve(url, top)
        try:
            times = measure(base, args.level, args.runs)
        finally:
            proc.terminate()
            proc.wait(10)
        print(
            f"time to first paint, level {args.level}: first (cold server) {times[0] / 1000:.3f} s, "
            f"median of {len(times)} {statistics.median(times) / 1000:.3f} s, best {min(times) / 1000:.3f} s "
            f"(goal ≤ 1.5 s)"
        )
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
