"""Requests per second of a published snapshot folder served by nginx with the shipped config (deploy/nginx), next to
`python -m http.server` over the same folder in the same run. The capacity model (docs/capacity.md) uses them.

    .venv/bin/python benchmarks/static_files.py [--folder var/publish] [--duration 10] [--connections 64]

The folder is a `covidgis publish` output (default: var/publish, which `make demo` writes). Measured with wrk:
latest.json (200), latest.json revalidated (If-None-Match: 304, what a polling app mostly sends), the hamlets'
GeoJSON (the largest file a client may take whole) and a 16 KiB range of the PMTiles archive (what the map asks).
nginx runs with one worker per core and no access log, as a production origin would.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.publish.staticmap import nginx_binary, nginx_config  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url: str, duration: int, connections: int, headers: dict[str, str]) -> tuple[float, float]:
    """(requests per second, MB per second) from wrk; every non-2xx/3xx answer fails the run."""
    cmd = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"errors from {url}:\n{out}")
    found, size = re.search(r"Requests/sec:\s+([\d.]+)", out), re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    if found is None or size is None:
        raise SystemExit(f"unexpected wrk output:\n{out}")
    rate = float(found.group(1))
    mb = float(size.group(1)) * {"B": 1e-6, "KB": 1e-3, "MB": 1.0, "GB": 1e3}[size.group(2)]
    return rate, mb


def wait(url: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "publish")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    folder = args.folder.resolve()
    try:
        latest = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    except OSError:
        raise SystemExit(f"no latest.json in {folder}: run `make demo` or `covidgis publish --out {folder}`") from None
    if nginx_binary() is None or shutil.which("wrk") is None:
        raise SystemExit("needs nginx and wrk (scripts/system-deps.sh --test installs both)")
    files = {e["kind"] + str(e.get("admin_level", "")): e for e in latest["files"]}
    hamlets = files.get("geojson4") or files.get("geojson3")
    archive = files.get("pmtiles")
    print(f"folder {folder}: snapshot {latest['snapshot_version']}, {len(latest['files'])} files")
    prefix = Path(tempfile.mkdtemp(prefix="covidgis-bench-nginx-"))
    port, plain_port = free_port(), free_port()
    conf = nginx_config(folder, port, prefix)
    conf = conf.replace("worker_processes 1;", "worker_processes auto;").replace(
        f"access_log {prefix}/access.log;", "access_log off;"
    )
    conf = conf.replace("worker_connections 256;", "worker_connections 4096;")
    (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
    nginx = subprocess.Popen([str(nginx_binary()), "-p", str(prefix), "-c", str(prefix / "nginx.conf")])
    plain = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(plain_port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base, plain_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{plain_port}"
        wait(base + "/latest.json")
        wait(plain_base + "/latest.json")
        etag = requests.get(base + "/latest.json", timeout=5).headers["ETag"]
        cases = [("latest.json", "/latest.json", {}), ("latest.json 304", "/latest.json", {"If-None-Match": etag})]
        if hamlets:
            cases.append((f"{hamlets['path']} ({hamlets['size'] / 1e6:.1f} MB)", "/" + hamlets["path"], {}))
        if archive:
            cases.append(("PMTiles 16 KiB range", "/" + archive["path"], {"Range": "bytes=0-16383"}))
        print(f"\nwrk -t2 -c{args.connections} -d{args.duration}s, one run each")
        print(f"{'request':<48} {'nginx req/s':>12} {'MB/s':>8} {'http.server':>12} {'ratio':>7}")
        for name, path, headers in cases:
            ours = wrk(base + path, args.duration, args.connections, headers)
            # http.server serves one request at a time per thread and ignores Range and If-None-Match: a reference
            # for what a naive origin gives, not a like-for-like server
            theirs = wrk(plain_base + path, min(args.duration, 5), min(args.connections, 16), headers)
            print(f"{name:<48} {ours[0]:>12,.0f} {ours[1]:>8,.1f} {theirs[0]:>12,.0f} {ours[0] / theirs[0]:>6.1f}×")
    finally:
        nginx.terminate()
        plain.terminate()
        nginx.wait(10)
        plain.wait(10)
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    main()
