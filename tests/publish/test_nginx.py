"""deploy/nginx/covidgis-publish.conf on a real nginx (Debian's, as scripts/system-deps.sh --test installs it) over a
publish folder: headers per kind of file (immutable hashed files, short max-age + ETag for what changes in place),
CORS on the data, MIME types, gzip, 206 for a byte range of the PMTiles archive, 304 on If-None-Match, hidden files
never served."""

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest
import requests
from conftest import free_port

from gis.publish.staticmap import NGINX_TEMPLATE, install_static_map, nginx_binary, running_nginx

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (scripts/system-deps.sh --test installs it)"
)
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=30"
ARCHIVE = "v7/zones.0123456789ab.pmtiles"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder laid out as `covidgis publish` lays it out, with the map installed (the bytes need not be real)."""
    out = tmp_path_factory.mktemp("publish")
    (out / "v7").mkdir()
    (out / ARCHIVE).write_bytes(os.urandom(200_000))
    features = [
        {"type": "Feature", "id": str(i), "geometry": None, "properties": {"name": f"Ấp {i}"}} for i in range(500)
    ]
    (out / "v7/zones-l4.aaaaaaaaaaaa.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    rows = "".join(f"{i},Ấp {i}\n" for i in range(500))
    (out / "v7/zones-l4.bbbbbbbbbbbb.csv").write_text("code,name\n" + rows, encoding="utf-8")
    (out / "v7/zones-l4.cccccccccccc.fgb").write_bytes(os.urandom(5_000))
    (out / "v7/search.dddddddddddd.json").write_text(json.dumps([{"code": str(i)} for i in range(500)]))
    (out / "latest.json").write_text(json.dumps({"format": 1, "snapshot_version": 7, "files": [{"path": ARCHIVE}]}))
    (out / ".latest.json.4242").write_text("{half")  # a publish's scratch file
    (out / ".staging-v8-4242").mkdir()
    (out / ".staging-v8-4242/search.eeeeeeeeeeee.json").write_text("[]")
    install_static_map(out)
    return out


@pytest.fixture(scope="module")
def base(folder, tmp_path_factory):
    with running_nginx(folder, free_port(), tmp_path_factory.mktemp("nginx")) as url:
        yield url


def test_the_shipped_file_is_valid_in_debians_http_block(tmp_path):
    """The template as it is, included the way /etc/nginx/sites-enabled/* is, passes `nginx -t`."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; include {NGINX_TEMPLATE}; }}\n"
    )
    check = subprocess.run(
        [str(nginx_binary()), "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    ("path", "cache", "cors", "mime"),
    [
        (ARCHIVE, IMMUTABLE, "*", "application/vnd.pmtiles"),
        ("v7/zones-l4.aaaaaaaaaaaa.geojson", IMMUTABLE, "*", "application/geo+json"),
        ("v7/zones-l4.bbbbbbbbbbbb.csv", IMMUTABLE, "*", "text/csv"),
        ("v7/zones-l4.cccccccccccc.fgb", IMMUTABLE, "*", "application/flatgeobuf"),
        ("v7/search.dddddddddddd.json", IMMUTABLE, "*", "application/json"),
        ("latest.json", SHORT, "*", "application/json"),
        ("", SHORT, None, "text/html"),
        ("index.html", SHORT, None, "text/html"),
        ("map.js", SHORT, None, "application/javascript"),
        ("map.css", SHORT, None, "text/css"),
        ("vendor/maplibre-gl-5.24.1/maplibre-gl-csp.js", IMMUTABLE, None, "application/javascript"),
        ("vendor/pmtiles-4.5.0/pmtiles.js", IMMUTABLE, None, "application/javascript"),
    ],
)
def test_headers_per_kind_of_file(base, folder, path, cache, cors, mime):
    r = requests.get(f"{base}/{path}", timeout=10)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == cache
    assert r.headers.get("Access-Control-Allow-Origin") == cors
    assert r.headers["Content-Type"].split(";")[0] == mime
    assert r.headers["ETag"] and r.headers["Last-Modified"] and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.content == (folder / (path or "index.html")).read_bytes()


def test_the_page_carries_a_policy_without_inline_code(base):
    policy = requests.get(f"{base}/", timeout=10).headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["worker-src"] == "'self'"
    assert directives["connect-src"] == "'self'" and "unsafe" not in policy


def test_a_byte_range_of_the_archive_is_206_and_never_gzipped(base, folder):
    body = (folder / ARCHIVE).read_bytes()
    r = requests.get(f"{base}/{ARCHIVE}", headers={"Range": "bytes=0-16383", "Accept-Encoding": "gzip"}, timeout=10)
    assert r.status_code == 206 and r.content == body[:16384]
    assert r.headers["Content-Range"] == f"bytes 0-16383/{len(body)}" and "Content-Encoding" not in r.headers
    assert "Content-Range" in r.headers["Access-Control-Expose-Headers"]
    r = requests.get(f"{base}/{ARCHIVE}", headers={"Range": "bytes=150000-150099"}, timeout=10)
    assert r.status_code == 206 and r.content == body[150000:150100]


def test_if_none_match_is_304(base):
    for path in ("latest.json", "index.html", ARCHIVE):
        first = requests.get(f"{base}/{path}", timeout=10)
        again = requests.get(f"{base}/{path}", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    # another version's ETag does not match: the whole file
    assert requests.get(f"{base}/latest.json", headers={"If-None-Match": '"0-0"'}, timeout=10).status_code == 200


def test_json_geojson_and_csv_are_gzipped(base, folder):
    for path in ("v7/zones-l4.aaaaaaaaaaaa.geojson", "v7/zones-l4.bbbbbbbbbbbb.csv", "v7/search.dddddddddddd.json"):
        r = requests.get(f"{base}/{path}", headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
        raw = r.raw.read(decode_content=False)
        assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"], path
        assert gzip.decompress(raw) == (folder / path).read_bytes() and len(raw) < (folder / path).stat().st_size


def test_a_cors_preflight_is_answered(base):
    r = requests.options(
        f"{base}/{ARCHIVE}",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "range,if-none-match",
        },  # fmt: skip
        timeout=10,
    )
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Range" in r.headers["Access-Control-Allow-Headers"] and "GET" in r.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("path", [".latest.json.4242", ".staging-v8-4242/search.eeeeeeeeeeee.json", "nothing.json"])
def test_hidden_and_missing_files_are_404(base, path):
    assert requests.get(f"{base}/{path}", timeout=10).status_code == 404
