"""Request limits and bounded logs: a long URL is a 414, long headers a 431, a long value or a NUL a 400 — on every
path a user value reaches (item id, filter, datetime, f, job id, process id, the map's API), before anything logs it;
and what the server does log about a long value is cut, in plain lines (no rich highlighting, which froze the server
for seconds on a 40 kB id)."""

import re
import socket

import pytest
import requests
from serve_support import bearer, filled, running_server, served, tokens  # noqa: F401

MAX_URL, MAX_HEADERS, MAX_VALUE = 8192, 16384, 4096  # ServeSettings' defaults
LOG_CAP = 300  # the log server's COVIDGIS_SERVE_MAX_LOG_CHARS


def user_value_paths(value: str) -> list[str]:
    """Every kind of place a user's value lands in: path values and query values of the OGC API and of the map."""
    return [
        f"/collections/areas/items/{value}",
        f"/collections/zones-history/items?filter=code='{value}'",
        f"/collections/zones-history/items?datetime={value}",
        f"/collections/zones/items?code={value}",
        f"/collections?f={value}",
        f"/collections/zones/items?f=json&sortby={value}",
        f"/jobs/{value}",
        f"/jobs/{value}/results",
        f"/processes/{value}",
        f"/collections/{value}/items",
        f"/collections/cases/items/{value}",
        f"/map/api/zone/{value}",
        f"/map/api/zones?date={value}",
        f"/map/api/search?q={value}",
        f"/map/api/layers/{value}",
        f"/map/static/{value}",
    ]


def problem(resp: requests.Response) -> str:
    assert resp.headers["content-type"].startswith("application/json"), resp.text[:200]
    assert resp.headers["cache-control"] == "no-store"
    return resp.json()["description"]


@pytest.mark.parametrize("path", user_value_paths("A" * 40_000))
def test_a_long_url_is_a_414(served, tokens, path):
    for headers in ({}, bearer(tokens["analyst"])):
        resp = requests.get(served + path, headers=headers, timeout=30)
        assert resp.status_code == 414, (path[:60], resp.status_code)
        assert str(MAX_URL) in problem(resp) and "AAAA" not in resp.text
    assert requests.head(served + path, timeout=30).status_code == 414


@pytest.mark.parametrize("path", user_value_paths("B" * (MAX_VALUE + 1)))
def test_a_long_value_is_a_400(served, path):
    resp = requests.get(served + path, timeout=30)
    assert resp.status_code == 400, (path[:60], resp.status_code)
    description = problem(resp)
    assert str(MAX_VALUE) in description and "BBBB" not in description


def test_values_within_the_limit_reach_the_api(served):
    value = "C" * (MAX_VALUE - 10)
    assert requests.get(f"{served}/collections/areas/items/{value}", timeout=30).status_code == 404
    bad = requests.get(f"{served}/collections/zones-history/items", params={"datetime": value}, timeout=30)
    assert bad.status_code == 400 and str(MAX_VALUE) not in bad.text
    for code in (value, "25996%01", "25996%09x"):  # no area code is so long or holds a control character
        resp = requests.get(f"{served}/map/api/zone/{code}", timeout=30)
        assert resp.status_code == 400 and "area code" in resp.json()["error"], code


def test_long_headers_are_a_431(served, tokens):
    one_big = {"X-Filler": "x" * (MAX_HEADERS + 1)}
    many = {f"X-Filler-{i}": "y" * 500 for i in range(MAX_HEADERS // 500 + 1)}
    for headers in (one_big, many, {**bearer(tokens["analyst"]), **many}):
        for path in ("/collections", "/health", "/map/api/meta", "/collections/cases/items"):
            resp = requests.get(served + path, headers=headers, timeout=30)
            assert resp.status_code == 431, (path, resp.status_code)
            assert str(MAX_HEADERS) in problem(resp)
    fine = requests.get(f"{served}/collections?f=json", headers={"X-Filler": "z" * (MAX_HEADERS // 2)}, timeout=30)
    assert fine.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/map/api/zone/%00",
        "/map/api/zone/25996%00",
        "/collections/areas/items/%00",
        "/collections/areas/items/25996%00x",
        "/collections/zones/items?code=%00",
        "/collections/zones/items?%00=1",
        "/map/api/zones?date=2021-10-20%00",
        "/map/api/search?q=bi%00en",
        "/jobs/%00",
        "/collections/zones-history/items?datetime=2021-10-20%00",
    ],
)
def test_a_nul_is_a_400(served, path):
    resp = requests.get(served + path, timeout=30)
    assert resp.status_code == 400, resp.text[:200]
    assert "NUL" in problem(resp)


def test_a_request_beyond_the_parser_buffer_is_refused_and_the_server_goes_on(served):
    """Far past the limits, uvicorn's parser may refuse the request itself (400) before our middleware: a 4xx too."""
    with socket.create_connection(("127.0.0.1", int(served.rsplit(":", 1)[1])), timeout=30) as sock:
        sock.sendall(b"GET /collections/areas/items/" + b"D" * 300_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status_line = sock.makefile("rb").readline()
    assert re.match(rb"HTTP/1\.1 4(00|14) ", status_line), status_line
    assert requests.get(f"{served}/health", timeout=30).json()["status"] == "ok"


@pytest.fixture(scope="module")
def log_server(filled, db_url, tmp_path_factory):  # noqa: F811
    """A server that lets 40 kB values through (limits raised), so that what it logs about them can be read."""
    var = tmp_path_factory.mktemp("serve-log")
    with running_server(
        db_url,
        var,
        COVIDGIS_SERVE_MAX_URL_BYTES="65536",
        COVIDGIS_SERVE_MAX_VALUE_CHARS="60000",
        COVIDGIS_SERVE_MAX_LOG_CHARS=str(LOG_CAP),
    ) as base:
        yield base, var / "serve.log"


def test_what_the_server_logs_about_long_values_is_cut(log_server):
    base, log_file = log_server
    for path in user_value_paths("E" * 40_000):
        resp = requests.get(base + path, timeout=60)
        assert resp.status_code < 500, (path[:60], resp.status_code, resp.text[:200])
        assert requests.get(f"{base}/health", timeout=30).status_code == 200
    lines = log_file.read_text(errors="replace").splitlines()
    assert any("EEEE" in line and "more characters)" in line for line in lines), "nothing about the values was logged"
    longest = max(lines, key=len)
    assert len(longest) <= LOG_CAP + 200, longest[:400]
    assert not any("\x1b[" in line for line in lines), "log lines carry terminal colours (rich)"
