"""Soak `covidgis serve` with a mixed public / restricted / bad-input load and print its memory every minute.

    .venv/bin/python benchmarks/soak.py [--minutes 10] [--clients 8] [--seed 1] [--days 30]

Starts a throwaway PostGIS cluster, loads Đồng Nai with `--days` days of zones (as benchmarks/serve.py does for
one: with 30, `zones-history` holds ~57,000 features and a 10,000-feature page is ~10 MB of JSON), makes an
analyst key, starts `covidgis serve`, then runs `--clients` threads for `--minutes`, each drawing requests at random
from a mix that defeats the response cache: items with random bbox / limit / offset / property filters, zone
history by date, now and then a big page of zone history at a random offset (as QGIS pages), MVT tiles at random
z/x/y, the map's JSON API, zone-at-point at random points, restricted layers with the key, and bad input (long ids,
garbage filters and dates, NULs, unknown collections, nested JSON bodies).
Every minute it prints the server's RSS (process and children) and the responses by status class. Goal: RSS flat
after warm-up, ≤ 500 MB; no 5xx. A 503 with Retry-After (a process busy: more than
COVIDGIS_SERVE_PROCESS_CONCURRENCY at once; a query over the statement timeout) is the server's back-pressure by
design and is counted apart ("503 retry"). Server settings come from the environment (e.g.
`COVIDGIS_SERVE_RESPONSE_CACHE_MB=0`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout: benchmarks.serve is beside us

from benchmarks.serve import BASELINE_SQL, BIN, DAY, free_port, prepare_database, rss_mb, start, tile_xy  # noqa: E402
from gis.db.engine import make_engine  # noqa: E402
from gis.risk.ruleset import load_ruleset  # noqa: E402
from gis.risk.settings import RiskSettings  # noqa: E402
from gis.risk.zones import compute_zones  # noqa: E402

WEST, SOUTH, EAST, NORTH = 106.75, 10.55, 107.55, 11.55  # Đồng Nai, roughly
GOAL_MB = 500
HISTORY_FEATURES = 1917  # Đồng Nai's areas: features per day of zone history


def more_days(url: str, days: int) -> None:
    """Zones for the `days - 1` days before DAY too (prepare_database computes DAY), from the same baseline."""
    engine = make_engine(url)
    earlier = [DAY - dt.timedelta(days=n) for n in range(1, days)]
    with engine.begin() as conn:
        for day in earlier:
            conn.execute(text(BASELINE_SQL), {"d": day})
    compute_zones(engine, earlier, load_ruleset("vn-4800-2021"), RiskSettings())
    engine.dispose()


def random_bbox(rng: random.Random) -> str:
    w = rng.uniform(0.005, 0.3)
    x, y = rng.uniform(WEST, EAST - w), rng.uniform(SOUTH, NORTH - w)
    return f"{x:.5f},{y:.5f},{x + w:.5f},{y + w:.5f}"


def public(rng: random.Random, base: str, days: int) -> tuple[str, str, dict | None]:
    kind = rng.randrange(8)
    if kind == 0:
        return "GET", f"{base}/collections/zones/items?f=json&bbox={random_bbox(rng)}&limit={rng.randint(1, 500)}", None
    if kind == 1:
        return (
            "GET",
            (
                f"{base}/collections/areas/items?f=json&level={rng.randint(1, 4)}"
                f"&limit={rng.randint(1, 200)}&offset={rng.randint(0, 1500)}"
            ),
            None,
        )
    if kind == 2:
        day = DAY - dt.timedelta(days=rng.randrange(days))
        return "GET", f"{base}/collections/zones-history/items?f=json&datetime={day}&limit={rng.randint(1, 100)}", None
    if kind == 3:
        z = rng.randint(8, 14)
        x, y = tile_xy(rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH), z)
        return "GET", f"{base}/collections/zones/tiles/WebMercatorQuad/{z}/{y}/{x}?f=mvt", None
    if kind == 4:
        path = rng.choice(
            [
                "/map/api/meta",
                "/map/api/zones?level=4",
                "/map/api/zones?level=3",
                "/map/api/search?q=" + rng.choice(["bien hoa", "Tân", "long", "xã", "ấp 1"]),
                "/map/api/zone/" + rng.choice(["25996", "25996-01", "26002", "75", "731"]),
            ]
        )
        return "GET", base + path, None
    if kind == 5:
        body = {"inputs": {"lon": rng.uniform(WEST, EAST), "lat": rng.uniform(SOUTH, NORTH), "date": str(DAY)}}
        return "POST", f"{base}/processes/zone-at-point/execution", body
    if kind == 6:
        return "GET", f"{base}/collections/zones/items?f=html&limit={rng.randint(1, 50)}", None
    if rng.random() < 0.1:  # now and then what QGIS asks for: a big page of polygons
        limit = rng.choice([2000, 10000])
        offset = rng.randrange(max(1, days * HISTORY_FEATURES - limit))
        return "GET", f"{base}/collections/zones-history/items?f=json&limit={limit}&offset={offset}", None
    return "GET", f"{base}/collections/facilities-public/items?f=json&limit={rng.randint(1, 100)}", None


def restricted(rng: random.Random, base: str) -> tuple[str, str, dict | None]:
    collection = rng.choice(["cases", "quarantine-facilities", "indicators", "ingest-rejects"])
    return "GET", f"{base}/collections/{collection}/items?f=json&limit={rng.randint(1, 200)}", None


def bad(rng: random.Random, base: str) -> tuple[str, str, dict | None]:
    long = "A" * rng.choice([100, 2_000, 20_000, 60_000])
    kind = rng.randrange(8)
    if kind == 0:
        return "GET", f"{base}/collections/areas/items/{long}", None
    if kind == 1:
        return "GET", f"{base}/collections/zones/items?filter={long}", None
    if kind == 2:
        return "GET", f"{base}/collections/zones-history/items?datetime={'9' * rng.randint(10, 5000)}", None
    if kind == 3:
        return "GET", f"{base}/collections/areas/items?f={long[: rng.randint(1, 5000)]}", None
    if kind == 4:
        return "GET", f"{base}/collections/{rng.choice(['nope', 'cases%00', '..%2F..'])}/items", None
    if kind == 5:
        return "GET", f"{base}/collections/zones/items?admin_level=x&code=%00", None
    if kind == 6:
        depth = rng.choice([10, 1_000, 5_000])
        return "POST", f"{base}/processes/zone-at-point/execution", {"raw": "[" * depth + "]" * depth}
    return "GET", f"{base}/jobs/{long}", None


def client(
    base: str, token: str, days: int, seed: int, stop: threading.Event, counts: Counter, lock: threading.Lock
) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    auth = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        draw = rng.random()
        headers = auth if 0.6 <= draw < 0.8 else {}
        method, url, body = (
            public(rng, base, days) if draw < 0.6 else restricted(rng, base) if draw < 0.8 else bad(rng, base)
        )
        try:
            if method == "POST":
                assert body is not None, url  # every POST the makers draw has a body
                data = body["raw"] if "raw" in body else json.dumps(body)
                resp = session.post(
                    url, data=data, headers={**headers, "Content-Type": "application/json"}, timeout=120
                )
            else:
                resp = session.get(url, headers=headers, timeout=120)
            key = f"{resp.status_code // 100}xx"
            if resp.status_code >= 500:
                told = resp.status_code == 503 and "retry-after" in resp.headers  # back-pressure: retry then
                key = f"{'503 retry' if told else f'5xx {resp.status_code}'} {method} {urlsplit(url).path[:60]}"
        except requests.RequestException as exc:
            key = f"error {type(exc).__name__}"
        with lock:
            counts[key] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=30, help="days of zones (zone history pages grow with them)")
    args = parser.parse_args()
    top = Path(tempfile.mkdtemp(prefix="covidgis-soak-"))
    top.chmod(0o755)
    cluster, url = prepare_database(top)
    more_days(url, args.days)
    proc = None
    try:
        env = {"DATABASE_URL": url, "COVIDGIS_VAR_DIR": str(top / "var")}
        token = subprocess.run(
            [str(BIN / "covidgis"), "users", "add", "soak", "--role", "analyst"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(
            [str(BIN / "covidgis"), "serve"], {**env, "COVIDGIS_PORT": str(port)}, f"{base}/health", top / "serve.log"
        )
        print(
            f"covidgis serve (pid {proc.pid}), {args.days} days of zones: RSS at start {rss_mb(proc.pid):.0f} MB; "
            f"{args.clients} clients for {args.minutes:g} min (60 % public, 20 % restricted, 20 % bad input)",
            flush=True,
        )
        stop, lock, counts = threading.Event(), threading.Lock(), Counter[str]()
        threads = [
            threading.Thread(
                target=client, args=(base, token, args.days, args.seed * 1000 + i, stop, counts, lock), daemon=True
            )
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        samples: list[float] = []
        for minute in range(1, math.ceil(args.minutes) + 1):
            time.sleep(max(0.0, started + min(minute, args.minutes) * 60 - time.monotonic()))
            samples.append(rss_mb(proc.pid))
            with lock:
                snapshot = dict(sorted(counts.items()))
            print(
                f"  minute {minute:>3}: RSS {samples[-1]:6.0f} MB   {sum(snapshot.values()):>7} requests  "
                + "  ".join(f"{k}: {v}" for k, v in snapshot.items()),
                flush=True,
            )
        stop.set()
        for thread in threads:
            thread.join(130)
        time.sleep(5)
        idle = rss_mb(proc.pid)
        server_errors = sum(v for k, v in counts.items() if k.startswith(("5xx", "error")))
        retry = sum(v for k, v in counts.items() if k.startswith("503 retry"))
        warm = samples[len(samples) // 2 :] or samples
        growth = warm[-1] - warm[0]
        print(
            f"\nRSS: peak {max(samples):.0f} MB, idle after the load {idle:.0f} MB (goal ≤ {GOAL_MB} MB); "
            f"second half of the run grew {growth:+.0f} MB (goal: flat); 5xx/errors: {server_errors} (goal 0); "
            f"503 with Retry-After: {retry}"
        )
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(15)
        cluster.stop()
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
