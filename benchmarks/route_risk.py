"""route-risk: the query and engine settings of issue 10 against the previous ones, and what routes do to features.

    .venv/bin/python benchmarks/route_risk.py [--runs 5] [--duration 10]

Starts a throwaway PostGIS cluster, loads Đồng Nai and computes one day of zones (as benchmarks/serve.py does), then
1. times the route query (EXPLAIN ANALYZE: planning + execution, as the public role, median of --runs) for
   400-position routes at commune (3) and hamlet (4) level — a winding road across the province (~540 km) and a
   random walk in 6 km steps (~2,300 km, the most crossings a route within the limits can have) — four ways: the
   previous query as it ran (JIT on, PostgreSQL's default), the previous query with JIT off, a segment-by-segment
   query (the alternative that was measured and not taken), and the query now (JIT off); then, once, the previous
   query on the kind of route the limits now refuse (400 random positions, ~21,000 km);
2. starts `covidgis serve` with its response cache off and measures the latency of /collections/areas/items?limit=10
   (4 clients, random pages) alone, then while 6 clients send heavy routes without pause, then while their routes
   each take 10 s (a lock on risk.published holds every zone query until the statement timeout: a slow database, or
   what a 10,000-position route was) — with the process bound at its default (2) and at 6 (no bound: pygeoapi's
   thread pool has 6 workers on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import BIN, DAY, free_port, prepare_database, start  # noqa: E402
from gis import sqlfiles  # noqa: E402
from gis.serve.processes import MAX_ROUTE_KM  # noqa: E402

NEW_SQL = sqlfiles.load(ROOT / "gis" / "serve" / "sql" / "processes.sql")["route_pieces"]
# The query before issue 10: the whole route cut by every area it touches, each piece located on the whole route.
OLD_SQL = """
WITH route AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326) AS g),
pieces AS (
    SELECT h.code, h.name, h.level, h.colour, h.label_vi, h.label_en,
           (ST_Dump(ST_Intersection(h.geom, route.g))).geom AS piece, route.g
    FROM pub.zones_history h, route
    WHERE h.day = :day AND h.admin_level = :admin_level AND ST_Intersects(h.geom, route.g)
)
SELECT code, name, level, colour, label_vi, label_en,
       ST_LineLocatePoint(g, ST_StartPoint(piece)) AS start_at,
       ST_LineLocatePoint(g, ST_EndPoint(piece)) AS end_at,
       ST_Length(piece::geography) AS length_m
FROM pieces
WHERE ST_Dimension(piece) = 1
ORDER BY least(ST_LineLocatePoint(g, ST_StartPoint(piece)), ST_LineLocatePoint(g, ST_EndPoint(piece))), code
"""
# Segment by segment: each segment finds its areas through the GiST index, is cut only where it crosses a boundary,
# and is placed by its number; candidates sorted by area so PostGIS prepares each polygon once. Counts a stretch
# travelled twice twice (the whole-line queries count it once), but pays a GEOS call per segment × area pair.
SEGMENT_SQL = """
WITH segment AS (
    SELECT s.path[1] AS n, s.geom AS g
    FROM ST_DumpSegments(ST_SetSRID(ST_GeomFromGeoJSON(:route), 4326)) s
),
candidate AS MATERIALIZED (
    SELECT s.n, s.g, h.code, h.name, h.level, h.colour, h.label_vi, h.label_en, h.geom
    FROM segment s
    JOIN pub.zones_history h ON h.geom && s.g
    WHERE h.day = :day AND h.admin_level = :admin_level
    ORDER BY h.code
)
SELECT c.code, c.name, c.level, c.colour, c.label_vi, c.label_en, ST_Length(p.geom::geography) AS length_m
FROM candidate c
CROSS JOIN LATERAL ST_Dump(CASE WHEN ST_Covers(c.geom, c.g) THEN c.g ELSE ST_Intersection(c.geom, c.g) END) p
WHERE ST_Intersects(c.geom, c.g) AND ST_Dimension(p.geom) = 1
ORDER BY c.n, least(ST_LineLocatePoint(c.g, ST_StartPoint(p.geom)), ST_LineLocatePoint(c.g, ST_EndPoint(p.geom))),
         c.code
"""
WEST, EAST, SOUTH, NORTH = 106.76, 107.57, 10.58, 11.58  # Đồng Nai's bounding box


def road(n: int = 400) -> list[list[float]]:
    """A winding road from the south-west of the province to the north-east."""
    (x0, y0), (x1, y1) = (106.78, 10.62), (107.50, 11.50)
    dx, dy = x1 - x0, y1 - y0
    norm = math.hypot(dx, dy)
    return [
        [
            x0 + dx * t - dy / norm * 0.03 * math.sin(80 * math.pi * t),
            y0 + dy * t + dx / norm * 0.03 * math.sin(80 * math.pi * t),
        ]
        for t in (i / (n - 1) for i in range(n))
    ]


def walk(n: int = 400, seed: int = 1) -> list[list[float]]:
    """A random walk in 0.054° (~6 km) steps, kept inside the province."""
    rnd, x, y, coords = random.Random(seed), 107.1, 11.0, []
    for _ in range(n):
        coords.append([x, y])
        angle = rnd.uniform(0, 2 * math.pi)
        x = min(max(x + 0.054 * math.cos(angle), WEST), EAST)
        y = min(max(y + 0.054 * math.sin(angle), SOUTH), NORTH)
    return coords


def scattered(n: int = 400, seed: int = 1) -> list[list[float]]:
    rnd = random.Random(seed)
    return [[rnd.uniform(WEST, EAST), rnd.uniform(SOUTH, NORTH)] for _ in range(n)]


def explain_ms(conn, sql: str, params: dict) -> float:
    """Planning + execution time of one run, from EXPLAIN ANALYZE."""
    plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + sql), params).scalar_one()[0]
    return plan["Planning Time"] + plan["Execution Time"]


def per_colour(conn, sql: str, params: dict) -> dict[str, int]:
    totals: dict[str, float] = {}
    for row in conn.execute(text(sql), params).mappings():
        totals[row["colour"]] = totals.get(row["colour"], 0.0) + row["length_m"]
    return {colour: round(m) for colour, m in totals.items()}


def compare_queries(public_url: str, runs: int) -> None:
    as_before = create_engine(public_url)
    jit_off = create_engine(public_url, connect_args={"options": "-c jit=off"})  # as gis/serve/processes.py connects
    print(f"\nroute query, ms (EXPLAIN ANALYZE, planning + execution), median of {runs}, as covidgis_public:")
    print(f"{'route':<38} {'level':>5} {'before':>9} {'JIT off':>9} {'segments':>9} {'now':>9} {'speed-up':>9}")
    with as_before.connect() as before, jit_off.connect() as off:
        for name, coords in [("road, 400 positions", road()), ("random walk, 400 positions", walk())]:
            route = json.dumps({"type": "LineString", "coordinates": coords})
            km = off.execute(text("SELECT ST_Length(ST_GeomFromGeoJSON(:r)::geography) / 1000"), {"r": route}).scalar()
            for level in (3, 4):
                params = {"route": route, "day": DAY, "admin_level": level}
                times: dict[str, list[float]] = {key: [] for key in ("before", "old-off", "segments", "now")}
                for _ in range(runs):  # interleaved, so a busy moment of the machine hits all four alike
                    times["before"].append(explain_ms(before, OLD_SQL, params))
                    times["old-off"].append(explain_ms(off, OLD_SQL, params))
                    times["segments"].append(explain_ms(off, SEGMENT_SQL, params))
                    times["now"].append(explain_ms(off, NEW_SQL, params))
                ms = {key: statistics.median(values) for key, values in times.items()}
                assert per_colour(off, NEW_SQL, params) == per_colour(off, OLD_SQL, params)
                print(
                    f"{f'{name} ({km:,.0f} km)':<38} {level:>5} {ms['before']:>9.1f} {ms['old-off']:>9.1f} "
                    f"{ms['segments']:>9.1f} {ms['now']:>9.1f} {ms['before'] / ms['now']:>8.1f}×",
                    flush=True,
                )
        route = json.dumps({"type": "LineString", "coordinates": scattered()})
        km = off.execute(text("SELECT ST_Length(ST_GeomFromGeoJSON(:r)::geography) / 1000"), {"r": route}).scalar()
        for level in (3, 4):
            refused_ms = explain_ms(before, OLD_SQL, {"route": route, "day": DAY, "admin_level": level})
            print(
                f"{f'400 random positions ({km:,.0f} km)':<38} {level:>5} {refused_ms:>9.1f} {'':>9} {'':>9} "
                f"{'refused':>9}   (over {MAX_ROUTE_KM:,} km: a 400 before any query)",
                flush=True,
            )
    as_before.dispose()
    jit_off.dispose()


def hammer(url: str, stop: threading.Event, statuses: Counter) -> None:
    """Send heavy routes until stopped; told busy (503), wait 0.2 s, as a client that reads the answer would."""
    body: dict[str, Any] = {"inputs": {"route": {"type": "LineString", "coordinates": walk(seed=7)}, "admin_level": 4}}
    while not stop.is_set():
        status = requests.post(url, json=body, timeout=120).status_code
        statuses[status] += 1
        if status == 503:
            time.sleep(0.2)


def features_latency(base: str, duration: float, clients: int) -> list[float]:
    """Seconds per /collections/areas/items?limit=10 request (a random page of the 1,917 areas)."""
    latencies: list[float] = []
    deadline = time.monotonic() + duration

    def client() -> None:
        rnd = random.Random()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            resp = requests.get(
                f"{base}/collections/areas/items",
                params={"f": "json", "limit": "10", "offset": str(rnd.randrange(1_900))},
                timeout=120,
            )
            resp.raise_for_status()
            latencies.append(time.perf_counter() - started)  # list.append is atomic

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


def summary(latencies: list[float]) -> str:
    ms = sorted(x * 1000 for x in latencies)
    return (
        f"{len(ms):>5} requests  median {statistics.median(ms):7.1f} ms  p95 {ms[int(len(ms) * 0.95)]:7.1f} ms  "
        f"max {ms[-1]:7.1f} ms"
    )


def with_routes(base: str, duration: float) -> tuple[list[float], Counter]:
    """Features latency while 6 clients send routes."""
    stop, statuses = threading.Event(), Counter[int]()
    routes = [
        threading.Thread(target=hammer, args=(f"{base}/processes/route-risk/execution", stop, statuses))
        for _ in range(6)
    ]
    for t in routes:
        t.start()
    time.sleep(1)
    latencies = features_latency(base, duration, 4)
    stop.set()
    for t in routes:
        t.join()
    return latencies, statuses


def measure_server(url: str, top: Path, duration: float) -> None:
    print(f"\n/collections/areas/items?limit=10, 4 clients, {duration:g} s each, response cache off:")
    owner = create_engine(url)
    for bound in ("2", "6"):
        port = free_port()
        env = {
            "DATABASE_URL": url,
            "COVIDGIS_PORT": str(port),
            "COVIDGIS_VAR_DIR": str(top / "var"),
            "COVIDGIS_SERVE_RESPONSE_CACHE_MB": "0",
            "COVIDGIS_SERVE_PROCESS_CONCURRENCY": bound,
        }
        base = f"http://127.0.0.1:{port}"
        proc = start([str(BIN / "covidgis"), "serve"], env, f"{base}/health", top / f"serve-{bound}.log")
        try:
            features_latency(base, 2, 4)  # warm-up
            if bound == "2":
                print(f"  {'alone':<52} {summary(features_latency(base, duration, 4))}", flush=True)
            latencies, statuses = with_routes(base, duration)
            print(
                f"  {f'6 clients sending routes, bound {bound}':<52} {summary(latencies)}   routes answered: "
                f"{dict(sorted(statuses.items()))}",
                flush=True,
            )
            # Slow routes (what a 10,000-position route was, or a slow database): every route query waits on a lock
            # until the statement timeout cancels it, holding its worker thread as long.
            with owner.connect() as conn:
                conn.execute(text("LOCK TABLE risk.published IN ACCESS EXCLUSIVE MODE"))
                latencies, statuses = with_routes(base, duration)
                conn.rollback()
            print(
                f"  {f'6 clients sending routes that run 10 s, bound {bound}':<52} {summary(latencies)}   "
                f"routes answered: {dict(sorted(statuses.items()))}",
                flush=True,
            )
        finally:
            proc.terminate()
            proc.wait(15)
    owner.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10)
    args = parser.parse_args()
    top = Path(tempfile.mkdtemp(prefix="covidgis-bench-"))
    top.chmod(0o755)
    cluster, url = prepare_database(top)
    try:
        compare_queries(make_url(url).set(username="covidgis_public").render_as_string(hide_password=False), args.runs)
        measure_server(url, top, args.duration)
    finally:
        cluster.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
