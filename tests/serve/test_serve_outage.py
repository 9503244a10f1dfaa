"""A database outage under a running server: every path answers 503 with Retry-After and a plain message (no host,
port or driver text), /health says the database is down, and when PostgreSQL is back the same server answers again.

The test stops PostgreSQL, so it runs on a cluster of its own (migrated, Đồng Nai loaded), not the session's.
"""

import time
from typing import Any

import pytest
import requests
from conftest import DONGNAI, run_cli, running_server, throwaway_cluster
from serve_support import CASE_POINTS, TAN_PHONG, bearer, fill_events, fill_zones, tile_of
from sqlalchemy import text

from gis.boundaries.dataset import read_manifest
from gis.boundaries.load import prepare, store
from gis.db.engine import ensure_database, make_engine
from gis.db.migrate import upgrade

RETRY_AFTER = "7"
ROUTE = {"type": "LineString", "coordinates": [[106.80, 10.95], [106.90, 10.97]]}
GETS = [
    "/openapi?f=json",
    "/conformance",
    "/collections",
    "/collections/zones/items?f=json&limit=5",
    f"/collections/areas/items/{TAN_PHONG}?f=json",
    "/collections/zones-history/items?f=json&datetime=2021-10-20",
    "/collections/zones/tiles/WebMercatorQuad/{}/{}/{}?f=mvt".format(*tile_of(*CASE_POINTS[0], 12)),
    "/map",
    "/map/api/meta",
    "/map/api/areas?level=2",
    "/map/api/zones?level=3",
    f"/map/api/zone/{TAN_PHONG}",
    "/map/api/search?q=tan%20phong",
    "/map/api/locate?lon=106.82&lat=10.97",
    "/map/api/layers/sites",
    "/map/static/map.js",
]
TOKEN_GETS = [
    "/collections/cases/items?f=json",
    "/collections/cases/items/BN1?f=json",
    "/collections/quarantine-facilities/items?f=json",
    "/collections/zones/items?f=json&limit=5",
]
POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/processes/zone-at-point/execution", {"inputs": {"lon": 106.82, "lat": 10.975}}),
    ("/processes/route-risk/execution", {"inputs": {"route": ROUTE, "admin_level": 3}}),
]


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster of this module alone: stopping it leaves the session's alone."""
    with throwaway_cluster("covidgis-test-outage-") as cluster:
        yield cluster


@pytest.fixture(scope="module")
def outage_db(own_cluster):
    url = own_cluster.url("covidgis_outage")
    ensure_database(url)
    engine = make_engine(url)
    upgrade(engine)
    dataset = read_manifest(DONGNAI)
    store(engine, dataset, prepare(dataset))
    fill_zones(engine)
    fill_events(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(outage_db, tmp_path_factory):
    """Anonymous requests read the data version every time (they meet the outage in our own read); API keys stay
    known for an hour (requests with a token meet it in pygeoapi, which answers 500 or 400 with the driver's text)."""
    with running_server(
        outage_db,
        tmp_path_factory.mktemp("serve-outage"),
        COVIDGIS_SERVE_VERSION_TTL_SECONDS="0",
        COVIDGIS_SERVE_TOKEN_TTL_SECONDS="3600",
        COVIDGIS_SERVE_RETRY_AFTER_SECONDS=RETRY_AFTER,
        COVIDGIS_SERVE_STATEMENT_TIMEOUT_SECONDS="1",
    ) as base:
        yield base


def answers(base: str, token: str) -> list[tuple[str, requests.Response]]:
    """Every request of the test: anonymous GETs, the same with a token, processes with and without one."""
    out = [(path, requests.get(base + path, timeout=60)) for path in GETS]
    out += [("token " + path, requests.get(base + path, headers=bearer(token), timeout=60)) for path in TOKEN_GETS]
    for headers in ({}, bearer(token)):
        out += [
            (f"POST {path}", requests.post(base + path, json=body, headers=headers, timeout=60)) for path, body in POSTS
        ]
    return out


def test_a_read_stuck_behind_a_lock_is_cancelled_by_the_statement_timeout(outage_db, server):
    """The server's own reads (data version, API key, /health, the map's) give up after the timeout: a 503, not a
    request that waits as long as the lock is held."""
    token = run_cli("users", "add", "locked-out", "--role", "analyst", database_url=outage_db).stdout.strip()
    engine = make_engine(outage_db)
    try:
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE risk.snapshot, admin.area, serve.api_key IN ACCESS EXCLUSIVE MODE"))
            health = requests.get(f"{server}/health", timeout=60)
            assert health.status_code == 503 and health.json() == {"status": "unavailable", "database": "slow"}
            for path, headers in [("/collections", {}), ("/map/api/meta", {}), ("/collections", bearer(token))]:
                resp = requests.get(server + path, headers=headers, timeout=60)
                assert resp.status_code == 503 and resp.headers["retry-after"] == RETRY_AFTER, (path, resp.text)
                assert "in time" in resp.json()["description"] and "statement" not in resp.text, path
    finally:
        engine.dispose()
    assert requests.get(f"{server}/health", timeout=60).status_code == 200


def test_outage_answers_503_and_recovers_without_restart(own_cluster, outage_db, server):
    token = run_cli("users", "add", "outage-analyst", "--role", "analyst", database_url=outage_db).stdout.strip()
    assert [(name, resp.status_code) for name, resp in answers(server, token) if resp.status_code != 200] == []

    own_cluster.stop()
    try:
        health = requests.get(f"{server}/health", timeout=60)
        assert health.status_code == 503 and health.json() == {"status": "unavailable", "database": "down"}
        assert health.headers["retry-after"] == RETRY_AFTER
        for name, resp in answers(server, token):
            assert resp.status_code == 503, (name, resp.status_code, resp.text[:300])
            assert resp.headers.get("retry-after") == RETRY_AFTER, (name, resp.headers, resp.text[:300])
            description = resp.json()["description"]
            assert "database" in description, name
            for leak in (
                str(own_cluster.port),
                "127.0.0.1",
                "psycopg",
                "OperationalError",
                "sqlalchemy",
                "connection to server",
                "Connection refused",
            ):
                assert leak not in resp.text, (name, leak, resp.text[:300])
        for path in ("/openapi?f=json", "/collections?f=json"):  # a known caller's metadata needs no database
            assert requests.get(server + path, headers=bearer(token), timeout=60).status_code == 200, path
    finally:
        own_cluster.start()

    deadline = time.monotonic() + 60
    while requests.get(f"{server}/health", timeout=60).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    health = requests.get(f"{server}/health", timeout=60).json()
    assert health["status"] == "ok" and health["database"] == "up" and health["current_areas"] > 0
    assert [(name, resp.status_code) for name, resp in answers(server, token) if resp.status_code != 200] == []
