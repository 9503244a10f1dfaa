"""The public map of a published snapshot: its static files copied into the publish folder, and a local nginx from
the deploy template to serve that folder (tests, benchmarks, trying a folder before it goes to a CDN).

`install_static_map(out)` puts `index.html`, `map.js`, `map.css` at the folder's root (each replaced by rename, only
when its content changed) and the vendored libraries under `vendor/NAME-VERSION/` (a new version is a new folder, so
those files are cached as immutable). The page then reads `latest.json` and the files it names, nothing else.
"""

from __future__ import annotations

import getpass
import html
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, COLOURS, NO_ZONE_HEX
from gis.publish.errors import PublishError

STATIC = Path(__file__).parent / "static"
ROOT_FILES = ("index.html", "map.js", "map.css")
NGINX_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "covidgis-publish.conf"
NGINX = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


def install_static_map(out: Path) -> list[str]:
    """Copy the map's files into the publish folder `out`; the paths (relative to `out`) written this time."""
    out = Path(out)
    if not out.is_dir():
        raise PublishError(f"{out} is not a folder: publish a snapshot there first (`covidgis publish --out DIR`)")
    written = []
    vendored = sorted(p for p in (STATIC / "vendor").rglob("*") if p.is_file() and p.name != "README.md")
    # the libraries first, then the page that names them: a reader never gets a page whose scripts are missing
    for source in [*vendored, *(STATIC / name for name in ROOT_FILES)]:
        relative = source.relative_to(STATIC).as_posix()
        body = source.read_bytes()
        if relative == "index.html":
            body = _with_vocabulary(body)
        if _replace_if_changed(body, out / relative):
            written.append(relative)
    return written


def _with_vocabulary(page: bytes) -> bytes:
    """index.html with the vocabulary of gis/levels.py the script needs (the page has no copy of its own): zone
    colour key → hex ("" → a unit without a zone), admin level → its Vietnamese and English names."""
    colours = {"": NO_ZONE_HEX, **{key: c.hex for key, c in COLOURS.items()}}
    admin_levels = {int(level): {"vi": ADMIN_LEVEL_VI[level], "en": ADMIN_LEVEL_EN[level]} for level in ADMIN_LEVEL_VI}
    for name, value in (("colours", colours), ("admin_levels", admin_levels)):
        attribute = html.escape(json.dumps(value, ensure_ascii=False, separators=(",", ":")), quote=True)
        page = page.replace(f"{{{{{name}}}}}".encode(), attribute.encode())
    return page


def _replace_if_changed(body: bytes, target: Path) -> bool:
    """Write `body` as `target` by rename (readers see the old file or the new one, never half), unless equal."""
    try:
        if target.read_bytes() == body:
            return False
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}")
    with scratch.open("wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(scratch, 0o644)
    os.replace(scratch, target)
    return True


def nginx_binary() -> str | None:
    """Debian's nginx (scripts/system-deps.sh --test installs it), or None."""
    return next((p for p in NGINX if os.access(p, os.X_OK)), shutil.which("nginx"))


def nginx_config(folder: Path, port: int, prefix: Path, template: Path = NGINX_TEMPLATE) -> str:
    """A complete nginx.conf that runs the deploy template's server for `folder` on 127.0.0.1:`port`, with every
    path nginx writes (pid, logs, temp) under `prefix`, so no root and no /etc change are needed."""
    server = template.read_text(encoding="utf-8")
    server = re.sub(r"^\s*listen\s+\[::\][^;]*;\n", "", server, flags=re.M)
    server, listens = re.subn(r"^(\s*)listen\s+[^;]+;", rf"\g<1>listen 127.0.0.1:{port};", server, flags=re.M)
    server, roots = re.subn(r"^(\s*)root\s+[^;]+;", rf"\g<1>root {folder.resolve()};", server, count=1, flags=re.M)
    if not listens or not roots:
        raise PublishError(f"{template}: no `listen` or `root` line to point at the folder")
    # as root, workers would run as nobody and could not read a private temporary folder
    user = "root" if os.geteuid() == 0 else getpass.getuser()
    temp = " ".join(
        f"{kind}_temp_path {prefix}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""user {user};
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    sendfile on;
    {temp}
{server}
}}
"""


@contextmanager
def running_nginx(folder: Path, port: int, prefix: Path) -> Iterator[str]:
    """nginx serving `folder` with the deploy template's config; yields its base URL and stops it afterwards."""
    binary = nginx_binary()
    if binary is None:
        raise PublishError("nginx is not installed (Debian: apt-get install nginx; scripts/system-deps.sh --test)")
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(folder, port, prefix), encoding="utf-8")
    check = subprocess.run([binary, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
    if check.returncode != 0:
        raise PublishError(f"nginx refused the generated config: {check.stderr.strip()}")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.head(f"{base}/", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise PublishError(f"nginx did not start: {error}") from None
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str] | None = None) -> None:
    """`python -m gis.publish.staticmap DIR [--port N]`: try a publish folder on nginx with the deploy config."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--port", type=int, default=8088)
    args = parser.parse_args(argv)
    install_static_map(args.folder)
    with (
        tempfile.TemporaryDirectory(prefix="covidgis-nginx-") as prefix,
        running_nginx(args.folder, args.port, Path(prefix)) as base,
    ):
        print(f"{base}/ serves {args.folder.resolve()} (Ctrl-C stops it)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
