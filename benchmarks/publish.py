"""Publishing a national snapshot (issue 15, Speed): `publish_snapshot` over a synthetic country of Vietnam's size.

A throwaway PostgreSQL cluster with benchmarks/country.sql's country: 63 provinces, 693 districts, 10,395 communes,
103,950 hamlets, each province a 0.42° × 1.05° cell (~333,000 km² in all; Vietnam's land is ~331,000 km²), one day
of zones (vn-4800-2021 over a spread of indicators). Prints the time of the whole publish and of each part (read,
GeoJSON, CSV, FlatGeobuf per admin level; the PMTiles archive per zoom), the archive's size and tiles, the peak
memory of this process and of the PostgreSQL backends, and the goal (≤ 60 s), next to a reference measured in the
same run: one plain `SELECT code, ST_AsGeoJSON(geom, 6) FROM pub.zones` of every level, read whole.

    .venv/bin/python benchmarks/publish.py [--runs 1] [--data DIR]

With --data DIR the cluster lives in DIR and a second run reuses its country and zones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis import sqlfiles  # noqa: E402
from gis.db.cluster import Cluster, free_port  # noqa: E402
from gis.db.engine import ensure_database, make_engine  # noqa: E402
from gis.db.migrate import upgrade  # noqa: E402
from gis.publish.snapshot import PublishSnapshotSummary, publish_snapshot  # noqa: E402
from gis.risk.ruleset import load_ruleset  # noqa: E402
from gis.risk.settings import RiskSettings  # noqa: E402
from gis.risk.zones import compute_zones  # noqa: E402

SQL = sqlfiles.load(Path(__file__).parent / "country.sql")
DAY = dt.date(2021, 10, 20)
GOAL_S = 60.0
REFERENCE = "SELECT code, ST_AsGeoJSON(geom, 6) AS geojson FROM pub.zones"


def build_country(engine, args) -> None:
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('covidgis_bench.cell_width', :w, true)"), {"w": str(args.cell_width)})
        conn.execute(text("SELECT set_config('covidgis_bench.cell_height', :h, true)"), {"h": str(args.cell_height)})
        load_id = conn.execute(text(SQL["load"])).scalar_one()
        conn.execute(
            text(SQL["areas"]), {"provinces": 63, "districts": 11, "communes": 15, "hamlets": 10, "load_id": load_id}
        )
    with engine.begin() as conn:
        conn.execute(text(SQL["zone_day"]), {"day": DAY})
    summary = compute_zones(engine, [DAY], load_ruleset("vn-4800-2021"), RiskSettings())
    print(f"zones: {summary.zones:,} on {DAY} ({summary.per_colour})", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


class PeakMemory:
    """The peak resident memory of this process and of the cluster's backends (summed), sampled every 50 ms."""

    def __init__(self, postmaster: int):
        self.postmaster = postmaster
        self.python_mb = self.backends_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.python_mb = max(self.python_mb, rss_mb("self"))
            backends = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
            self.backends_mb = max(self.backends_mb, sum(rss_mb(p, private=True) for p in backends))


def rss_mb(pid: str, private: bool = False) -> float:
    """Resident memory in MB; `private`: without the shared memory a backend maps (shared_buffers)."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    if "VmRSS" not in fields:  # a process exiting
        return 0.0
    kb = int(fields["VmRSS"].split()[0]) - (int(fields.get("RssShmem", "0 kB").split()[0]) if private else 0)
    return kb / 1024


def print_parts(summary: PublishSnapshotSummary) -> None:
    parts = summary.parts
    levels = sorted({int(k.split()[0][len("zones-l") :]) for k in parts if k.startswith("zones-l")})
    print(f"\n{'part':<34}{'seconds':>10}")
    for level in levels:
        for what in ("read", "geojson", "csv", "flatgeobuf"):
            print(f"{f'level {level} {what}':<34}{parts[f'zones-l{level} {what}']:>10.2f}")
    print(f"{'search.json':<34}{parts['search']:>10.2f}")
    for key in sorted((k for k in parts if k.startswith("pmtiles z")), key=lambda k: int(k[len("pmtiles z") :])):
        print(f"{key.replace('pmtiles', 'PMTiles'):<34}{parts[key]:>10.2f}")
    print(f"{'PMTiles, all zooms':<34}{parts['pmtiles']:>10.2f}")


@contextmanager
def national_country(
    data: Path | None, prefix: str, port: int | None = None, cell: argparse.Namespace | None = None
) -> Iterator[tuple[Path, Engine]]:
    """A throwaway cluster (or the one kept in `data`) holding the national country and its day of zones, built on
    first use; yields its folder and an engine, and stops it (and deletes a throwaway folder) afterwards."""
    top = data or Path(tempfile.mkdtemp(prefix=prefix))
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    cluster = Cluster(
        data_dir=top / "data",
        socket_dir=top / "sock",
        port=port or free_port(55432),
        server_options="-c fsync=off -c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB",
    )
    try:
        cluster.start()
        url = cluster.url("bench")
        ensure_database(url)
        engine = make_engine(url)
        upgrade(engine)
        with engine.connect() as conn:
            built = conn.execute(text("SELECT count(*) FROM pub.zones")).scalar()
        if not built:
            started = time.perf_counter()
            build_country(engine, cell or argparse.Namespace(cell_width=0.42, cell_height=1.05))
            print(f"built the country and its day of zones in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            yield top, engine
        finally:
            engine.dispose()
    finally:
        cluster.stop()
        if not data:
            shutil.rmtree(top, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1, help="Publish this many times into fresh folders (median).")
    parser.add_argument("--cell-width", type=float, default=0.42, help="A province's cell, degrees of longitude.")
    parser.add_argument("--cell-height", type=float, default=1.05, help="A province's cell, degrees of latitude.")
    parser.add_argument("--port", type=int, help="Port of the benchmark's cluster (default: a free one).")
    parser.add_argument("--data", type=Path, help="Keep the cluster in this folder and reuse it on the next run.")
    args = parser.parse_args()

    with national_country(args.data, "covidgis-bench-publish-", args.port, args) as (top, engine):
        with engine.connect() as conn:
            counts: dict[int, int] = dict(
                conn.execute(text("SELECT admin_level, count(*) FROM pub.zones GROUP BY 1 ORDER BY 1")).all()
            )
            km2 = conn.execute(text("SELECT sum(area_m2) / 1e6 FROM admin.area WHERE level = 1")).scalar_one()
        print(f"public zones per admin level: {counts}; land {km2:,.0f} km²", flush=True)

        with engine.connect() as conn:  # the reference: every level's geometry as GeoJSON text, read whole
            started = time.perf_counter()
            rows = conn.exec_driver_sql(REFERENCE).all()
            reference_s = time.perf_counter() - started
        reference_mb = sum(len(r.geojson) for r in rows) / 1e6
        del rows

        postmaster = int((top / "data" / "postmaster.pid").read_text().split()[0])
        runs = []
        for i in range(args.runs):
            out = top / f"publish-{i}"
            shutil.rmtree(out, ignore_errors=True)
            with PeakMemory(postmaster) as memory:
                started = time.perf_counter()
                summary = publish_snapshot(engine, out, keep=1)
                seconds = time.perf_counter() - started
            runs.append((seconds, summary, memory))
            print(f"publish run {i + 1}: {seconds:.2f} s", flush=True)
        best = sorted(range(len(runs)), key=lambda i: runs[i][0])[(len(runs) - 1) // 2]  # the (lower) median run
        seconds, summary, memory = runs[best]
        print_parts(summary)
        latest = json.loads((top / f"publish-{best}" / "latest.json").read_text(encoding="utf-8"))
        archive = next(e for e in latest["files"] if e["kind"] == "pmtiles")
        print(
            f"\nPMTiles: {archive['size'] / 1e6:.1f} MB, {archive['tiles']:,} tiles, zooms {archive['zooms']}; "
            f"snapshot {summary.files} files, {summary.bytes / 1e6:.1f} MB"
        )
        print(
            f"peak memory during publish: this process {memory.python_mb:,.0f} MB resident "
            f"(lifetime max {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB), "
            f"PostgreSQL backends {memory.backends_mb:,.0f} MB (private, summed)"
        )
        print(
            f"reference: one plain `{REFERENCE}` (every level, {sum(counts.values()):,} rows, "
            f"{reference_mb:,.0f} MB of GeoJSON) read whole: {reference_s:.2f} s"
        )
        median = f" (median of {len(runs)})" if len(runs) > 1 else ""
        verdict = "MET" if seconds <= GOAL_S else "MISSED"
        spread = f"; runs {', '.join(f'{r[0]:.1f}' for r in runs)} s" if len(runs) > 1 else ""
        print(
            f"PUBLISH a national snapshot: {seconds:.2f} s{median}{spread} = {seconds / reference_s:.1f}× the "
            f"reference; goal ≤ {GOAL_S:.0f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
