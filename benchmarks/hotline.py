"""Open311 POST throughput of the 1022 hotline against a plain INSERT of the same rows, in the same run.

    .venv/bin/python benchmarks/hotline.py [--duration 60] [--threads 8]

Starts a throwaway PostGIS cluster with Đồng Nai loaded and `covidgis serve` over it; N client threads POST
form-encoded requests (random points in the province's hamlets, random services, a phone on every other one) as
fast as answers come back, for --duration seconds; then the same threads run the plain reference: one INSERT
INTO hotline.request per row (no location lookup, no duplicate check, no HTTP). Goal (issue 14, Speed): ≥ 100
requests/s sustained for 60 s with 0 errors and p95 < 200 ms.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.serve import BIN, free_port, prepare_database, start  # noqa: E402
from gis.db.engine import make_engine  # noqa: E402

SERVICES = ["food_support", "medical_help", "violation", "other"]
INSERT = (
    "INSERT INTO hotline.request (token, service_code, description, geom, area_code, commune_code, located_by)"
    " VALUES (%(token)s, %(service)s, 'tham chiếu', ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),"
    " %(area)s, %(commune)s, 'point')"
)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(threads: int, duration: float, work) -> tuple[int, int, list[float]]:
    """Calls of work(i, rng) from every thread until the time is up: (done, errors, latencies in s)."""
    stop = time.monotonic() + duration
    done, errors, latencies, lock = [0], [0], [], threading.Lock()

    def loop(n: int) -> None:
        rng = random.Random(n)
        mine: list[float] = []
        bad = i = 0
        state: dict = {}
        while time.monotonic() < stop:
            t = time.perf_counter()
            ok = work(n * 10_000_000 + i, rng, state)
            mine.append(time.perf_counter() - t)
            bad += not ok
            i += 1
        with lock:
            done[0] += len(mine)
            errors[0] += bad
            latencies.extend(mine)

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0], errors[0], latencies


def report(name: str, duration: float, result: tuple[int, int, list[float]]) -> None:
    done, errors, lat = result
    print(
        f"  {name:<18} {done / duration:8.1f} req/s  {done} done  {errors} errors  "
        f"p50 {percentile(lat, 0.5) * 1000:6.1f} ms  p95 {percentile(lat, 0.95) * 1000:6.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    top = Path(tempfile.mkdtemp(prefix="covidgis-hotline-bench-"))
    top.chmod(0o755)
    cluster, url = prepare_database(top)
    engine = make_engine(url)
    with engine.connect() as conn:
        points = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p), code, parent_code FROM (SELECT ST_PointOnSurface(geom) p, code, parent_code"
                " FROM admin.area WHERE level = 4 AND valid_to IS NULL) x"
            )
        ).all()
    proc = None
    try:
        port = free_port()
        env = {"DATABASE_URL": url, "COVIDGIS_PORT": str(port), "COVIDGIS_VAR_DIR": str(top / "var")}
        proc = start([str(BIN / "covidgis"), "serve"], env, f"http://127.0.0.1:{port}/health", top / "serve.log")
        endpoint = f"http://127.0.0.1:{port}/open311/v2/requests.json"

        def post(i: int, rng: random.Random, state: dict) -> bool:
            session = state.setdefault("session", requests.Session())
            lon, lat, _, _ = rng.choice(points)
            fields = {"service_code": rng.choice(SERVICES), "lat": lat, "long": lon, "description": f"yêu cầu {i}"}
            if i % 2:
                fields["phone"] = f"09{rng.randrange(10**8):08d}"
            try:
                return session.post(endpoint, data=fields, timeout=10).status_code == 201
            except requests.RequestException:
                return False

        def insert(i: int, rng: random.Random, state: dict) -> bool:
            if "conn" not in state:
                state["conn"] = engine.raw_connection()
            lon, lat, area, commune = rng.choice(points)
            conn = state["conn"]
            with conn.cursor() as cur:
                cur.execute(
                    INSERT,
                    {
                        "token": f"ref-{i}",
                        "service": rng.choice(SERVICES),
                        "lon": lon,
                        "lat": lat,
                        "area": area,
                        "commune": commune,
                    },
                )
            conn.commit()
            return True

        print(f"{len(points)} hamlets; {args.threads} client threads, {args.duration:.0f} s each:", flush=True)
        report("Open311 POST", args.duration, run(args.threads, args.duration, post))
        report("plain INSERT (ref)", args.duration, run(args.threads, args.duration, insert))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(15)
        engine.dispose()
        cluster.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
