"""Zone computation at country scale: a synthetic country (~700 districts, ~10,400 communes, ~104,000 hamlets)
with 14 days of 2021-peak events, on a throwaway PostgreSQL cluster. Prints seconds for:
  1. full recompute of one day (indicators + zones, every area and level);
  2. recompute after a 10,000-row case batch (the areas and days it touched).

    .venv/bin/python benchmarks/zones.py [--tests-per-day 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import socket
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from gis import sqlfiles
from gis.db.cluster import Cluster
from gis.db.engine import ensure_database, make_engine
from gis.db.migrate import upgrade
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones
from gis.stats.indicators import compute_indicators
from gis.stats.settings import StatsSettings

SQL = sqlfiles.load(Path(__file__).parent / "country.sql")
LAST_DAY = dt.date(2021, 8, 31)
DAYS = 14


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(label: str, fn, *args, **kw):
    started = time.perf_counter()
    result = fn(*args, **kw)
    print(f"{label:<58} {time.perf_counter() - started:8.2f} s", flush=True)
    return result


def build_country(engine, args) -> int:
    with engine.begin() as conn:
        load_id = conn.execute(text(SQL["load"])).scalar_one()
        conn.execute(text(SQL["areas"]), {"provinces": 63, "districts": 11, "communes": 15, "hamlets": 10,
                                          "load_id": load_id})
    with engine.begin() as conn:
        counts = dict(conn.execute(text("SELECT level, count(*) FROM admin.area GROUP BY level")).all())
        print("areas per level:", counts)
        conn.execute(text(SQL["hamlet_index"]), {"load_id": load_id})
        params = {"days": DAYS, "last_day": LAST_DAY, "hamlets": counts[4]}
        for name, per_day in (("cases", args.cases_per_day), ("tests", args.tests_per_day),
                              ("vaccinations", args.doses_per_day), ("quarantine", args.f1_per_day)):
            timed(f"generate {per_day * DAYS:,} {name}", conn.execute, text(SQL[name]), {**params, "per_day": per_day})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        timed("ANALYZE", conn.exec_driver_sql, "ANALYZE")
    return load_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases-per-day", type=int, default=15_000)
    parser.add_argument("--tests-per-day", type=int, default=1_000_000)
    parser.add_argument("--doses-per-day", type=int, default=1_000_000)
    parser.add_argument("--f1-per-day", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="Keep the cluster's directory afterwards.")
    args = parser.parse_args()

    top = Path(tempfile.mkdtemp(prefix="covidgis-bench-"))
    top.chmod(0o755)
    cluster = Cluster(data_dir=top / "data", socket_dir=top / "sock", port=free_port(),
                      server_options="-c fsync=off -c synchronous_commit=off -c shared_buffers=2GB "
                                     "-c work_mem=256MB -c max_wal_size=8GB")
    try:
        cluster.start()
        url = cluster.url("bench")
        ensure_database(url)
        engine = make_engine(url)
        upgrade(engine)
        timed("build the synthetic country and its events", build_country, engine, args)
        ruleset, risk, stats = load_ruleset(), RiskSettings(), StatsSettings()
        timed("neighbours (once per boundary load)", compute_zones, engine, [], ruleset, risk)
        # the day before, so the measured day has a previous level (the 4800 capacity rule reads it)
        compute_indicators(engine, [LAST_DAY - dt.timedelta(days=1)], stats)
        compute_zones(engine, [LAST_DAY - dt.timedelta(days=1)], ruleset, risk)
        started = time.perf_counter()
        ind = compute_indicators(engine, [LAST_DAY], stats)
        zones = compute_zones(engine, [LAST_DAY], ruleset, risk)
        total = time.perf_counter() - started
        print(f"{'FULL RECOMPUTE of one day, all areas and levels':<58} {total:8.2f} s  "
              f"(indicators {ind['seconds']:.2f} s for {ind['rows']:,} units, zones {zones.seconds:.2f} s)  goal ≤ 5 s")
    finally:
        cluster.stop()
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
