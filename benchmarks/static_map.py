"""First paint of the national zones on the static map of a snapshot (issue 15, Speed): ≤ 1.5 s, median of 5.

A published folder (a national synthetic country published by benchmarks/publish.py's builder into a throwaway
cluster, or --folder DIR: any folder `covidgis publish` wrote) with the map installed, served by nginx with
deploy/nginx/covidgis-publish.conf; N fresh browser contexts (empty HTTP cache) in headless Chromium open it. First
paint = the page's `covidgis-first-paint` mark: MapLibre's first `idle`, when every tile of the first view is drawn
(after latest.json, the scripts, the worker, the archive's header and directories and the tiles). Reference in the
same run, same page and server: the empty map, a folder whose archive has no tile in the view (everything but the
zones' tiles).

    .venv/bin/python benchmarks/static_map.py [--runs 5] [--folder DIR] [--data DIR]
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.db.cluster import free_port  # noqa: E402
from gis.publish.snapshot import publish_snapshot  # noqa: E402
from gis.publish.staticmap import install_static_map, running_nginx  # noqa: E402

GOAL_S = 1.5
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def national_folder(out: Path, data: Path | None) -> None:
    """benchmarks/publish.py's national country (63 provinces, ~104,000 hamlets) and one day of zones, published."""
    spec = importlib.util.spec_from_file_location("bench_publish", ROOT / "benchmarks" / "publish.py")
    assert spec and spec.loader
    bench_publish = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_publish)
    with bench_publish.national_country(data, "covidgis-bench-static-map-") as (_, engine):
        started = time.perf_counter()
        publish_snapshot(engine, out, keep=1)
        print(f"published it in {time.perf_counter() - started:.1f} s", flush=True)


def empty_folder(national: Path, out: Path) -> None:
    """The reference: latest.json with the national archive's bounds and zooms, an archive with no tile in view."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    latest = json.loads((national / "latest.json").read_text(encoding="utf-8"))
    entry = next(e for e in latest["files"] if e["kind"] == "pmtiles")
    west, south, east, north = entry["bounds"]
    (out / "v1").mkdir(parents=True)
    with (out / "v1" / "zones.empty.pmtiles").open("wb") as f:
        writer = Writer(f)
        writer.write_tile(zxy_to_tileid(14, 0, 0), gzip.compress(b""))  # the far north-west corner of the world
        e7 = {
            k: round(v * 1e7) for k, v in {"min_lon": west, "min_lat": south, "max_lon": east, "max_lat": north}.items()
        }
        writer.finalize(
            {"tile_type": TileType.MVT, "tile_compression": Compression.GZIP, "min_zoom": entry["minzoom"],
             "max_zoom": entry["maxzoom"], **{f"{k}_e7": v for k, v in e7.items()}, "center_zoom": entry["minzoom"],
             "center_lon_e7": round((west + east) / 2 * 1e7), "center_lat_e7": round((south + north) / 2 * 1e7)},
            {"vector_layers": [{"id": "zones", "fields": {}}]},
        )  # fmt: skip
    (out / "v1" / "search.empty.json").write_text("[]", encoding="utf-8")
    files = [{**entry, "path": "v1/zones.empty.pmtiles"}, {"path": "v1/search.empty.json", "kind": "search"}]
    (out / "latest.json").write_text(json.dumps({**latest, "files": files}), encoding="utf-8")
    install_static_map(out)


# polled inside the page (the policy forbids eval, which wait_for_function's string form needs)
FIRST_PAINT = """() => new Promise(resolve => { const look = () => {
    const mark = performance.getEntriesByName('covidgis-first-paint')[0];
    if (mark) resolve(mark.startTime); else setTimeout(look, 10); }; look(); })"""


def record_archive_bytes(response, fetched: list[int]) -> None:
    if ".pmtiles" in response.url:
        fetched.append(int(response.headers.get("content-length", 0)))


# when each step of the first view ended, ms from the navigation's start (Resource and Navigation Timing)
TIMELINE = """() => { const r = performance.getEntriesByType('resource');
    const end = (part) => Math.max(0, ...r.filter(e => e.name.includes(part)).map(e => e.responseEnd));
    return {'page (DOMContentLoaded)': performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
            'latest.json': end('latest.json'), 'worker script': end('csp-worker.js'),
            'archive (last range)': end('.pmtiles')}; }"""


def first_paints(browser, base: str, runs: int) -> tuple[list[float], list[int], list[dict[str, float]]]:
    """Seconds to the first-paint mark, bytes of the archive fetched and the timeline, each in a fresh context
    (empty HTTP cache)."""
    seconds, archive_bytes, timelines = [], [], []
    for _ in range(runs):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        fetched: list[int] = []
        page.on("response", lambda r, fetched=fetched: record_archive_bytes(r, fetched))
        page.goto(f"{base}/")
        seconds.append(page.evaluate(FIRST_PAINT) / 1000)
        timelines.append(page.evaluate(TIMELINE))
        archive_bytes.append(sum(fetched))
        context.close()
    return seconds, archive_bytes, timelines


def print_timeline(name: str, timelines: list[dict[str, float]], seconds: list[float]) -> None:
    steps = {step: statistics.median(t[step] for t in timelines) for step in timelines[0]}
    steps["first paint"] = statistics.median(seconds) * 1000
    print(f"  {name}, medians (ms from navigation): " + "; ".join(f"{k} {v:,.0f}" for k, v in steps.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--folder", type=Path, help="A folder `covidgis publish` wrote (default: publish a country).")
    parser.add_argument(
        "--data", type=Path, help="Keep the national cluster and its publish folder here; the next run reuses them."
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="covidgis-bench-static-map-web-"))
    work.chmod(0o755)
    try:
        national = args.folder or (args.data / "publish" if args.data else work / "national")
        if not args.folder:
            national_folder(national, args.data)
        install_static_map(national)
        latest = json.loads((national / "latest.json").read_text(encoding="utf-8"))
        archive = next(e for e in latest["files"] if e["kind"] == "pmtiles")
        units = {
            e["admin_level"]: e["features"] for e in latest["files"] if e["kind"] == "geojson" and "admin_level" in e
        }
        print(f"folder: {national} (snapshot {latest['snapshot_version']}; units per admin level {units})")
        print(f"archive: {archive['size'] / 1e6:.1f} MB, {archive['tiles']:,} tiles, zooms {archive['zooms']}")
        empty_folder(national, work / "empty")
        with (
            running_nginx(national, free_port(18080), work / "nginx-national") as base,
            running_nginx(work / "empty", free_port(18180), work / "nginx-empty") as empty_base,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            first_paints(browser, base, 1)  # warm the OS file cache and Chromium's start
            reference, _, reference_steps = first_paints(browser, empty_base, args.runs)
            national_s, fetched, national_steps = first_paints(browser, base, args.runs)
            browser.close()
        median, ref = statistics.median(national_s), statistics.median(reference)
        print(
            f"viewport {VIEWPORT['width']}×{VIEWPORT['height']}, served by nginx (deploy/nginx/covidgis-publish.conf)"
        )
        print(
            f"reference, the empty map (no tile in view): median {ref:.3f} s; "
            f"runs {', '.join(f'{s:.3f}' for s in reference)}"
        )
        print(
            f"national zones: median {median:.3f} s; runs {', '.join(f'{s:.3f}' for s in national_s)}; "
            f"archive bytes fetched {statistics.median(fetched) / 1e3:,.0f} kB"
        )
        print_timeline("reference", reference_steps, reference)
        print_timeline("national", national_steps, national_s)
        verdict = "MET" if median <= GOAL_S else "MISSED"
        print(
            f"FIRST PAINT of the national zones: {median:.3f} s (median of {args.runs}) = reference + "
            f"{median - ref:.3f} s; goal ≤ {GOAL_S} s: {verdict}"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
