"""Hot-standby replicas (issue 15, item 6): a primary and a streaming replica as two real local clusters, made by
`covidgis db replica init`, and `covidgis serve` reading the replica alone (COVIDGIS_SERVE_DATABASE_URL).

A recompute on the primary is served within 5 s; replay paused while the primary writes → /health "degraded" with
the lag; the replica stopped → /health and requests 503 (never 500); started again → the same server recovers.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
from backup_support import assert_one_line_error
from conftest import DONGNAI, free_port, run_cli, running_server, throwaway_cluster
from sqlalchemy import text

from gis.boundaries.dataset import read_manifest
from gis.boundaries.load import prepare, store
from gis.db.engine import ensure_database, make_engine
from gis.db.migrate import upgrade
from gis.db.replica import LagWatch, ReplayPosition, replica_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from serve_support import CASE_POINTS, DAYS, TAN_PHONG, bearer, compute, fill_events, fill_zones, tile_of  # noqa: E402
from support import put_indicators  # noqa: E402

DBNAME = "covidgis_replica"
RETRY_AFTER = "3"
MAX_LAG = 2.0
SLOT = "covidgis_test_replica"
READS = [  # every kind of read the server does: pygeoapi items and tiles, the map API, a process, metadata
    "/collections",
    "/collections/zones/items?f=json&limit=5",
    f"/collections/zones/items/{TAN_PHONG}?f=json",
    "/collections/zones-history/items?f=json&datetime=2021-10-20",
    "/collections/zones/tiles/WebMercatorQuad/{}/{}/{}?f=mvt".format(*tile_of(*CASE_POINTS[0], 12)),
    "/map/api/meta",
    "/map/api/zones?level=3",
    "/map/api/search?q=tan%20phong",
]


@pytest.fixture(scope="module")
def primary():
    with throwaway_cluster("covidgis-test-primary-") as cluster:
        url = cluster.url(DBNAME)
        ensure_database(url)
        engine = make_engine(url)
        upgrade(engine)
        dataset = read_manifest(DONGNAI)
        store(engine, dataset, prepare(dataset))
        fill_zones(engine)  # Tân Phong orange on the last day
        fill_events(engine)
        engine.dispose()
        yield cluster


@pytest.fixture(scope="module")
def primary_url(primary):
    return primary.url(DBNAME)


@pytest.fixture(scope="module")
def replica_dir(primary, primary_url):
    """`covidgis db replica init` into a fresh directory postgres can reach; yields the directory and init's JSON."""
    top = Path(tempfile.mkdtemp(prefix="covidgis-test-replica-"))
    top.chmod(0o755)
    directory = top / "replica"
    env = {"COVIDGIS_VAR_DIR": str(top / "var")}
    made = run_cli(
        "db", "replica", "init", "--primary", primary_url, "--dir", str(directory), "--slot", SLOT,
        "--port", str(free_port()), "--json", database_url=primary_url, env=env,
    )  # fmt: skip
    try:
        yield directory, json.loads(made.stdout)
    finally:
        run_cli("db", "replica", "stop", "--dir", str(directory), database_url=primary_url, env=env, check=False)
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def replica_port(replica_dir):
    return replica_dir[1]["port"]


@pytest.fixture(scope="module")
def server(primary_url, replica_port, tmp_path_factory):
    """The server reads the replica only: DATABASE_URL (the primary) is what `zones publish` writes before it starts."""
    with running_server(
        primary_url,
        tmp_path_factory.mktemp("serve-replica"),
        COVIDGIS_SERVE_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{replica_port}/{DBNAME}",
        COVIDGIS_SERVE_MAX_LAG_SECONDS=str(MAX_LAG),
        COVIDGIS_SERVE_RETRY_AFTER_SECONDS=RETRY_AFTER,
        COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0",
        COVIDGIS_SERVE_STATEMENT_TIMEOUT_SECONDS="1",
    ) as base:
        yield base


def status(replica_dir, primary_url, check: bool = True) -> tuple[int, dict]:
    proc = run_cli(
        "db", "replica", "status", "--dir", str(replica_dir[0]), "--json", database_url=primary_url, check=check
    )
    return proc.returncode, json.loads(proc.stdout)


def wait_health(server: str, want: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        resp = requests.get(f"{server}/health", timeout=30)
        body = resp.json()
        if body["status"] == want or time.monotonic() > deadline:
            assert body["status"] == want, (resp.status_code, body)
            return body
        time.sleep(0.2)


def test_init_makes_a_streaming_standby_with_its_slot(replica_dir, primary_url, replica_port):
    made = replica_dir[1]
    assert made["slot"] == SLOT and made["copied_bytes"] > 10_000_000 and "@" in made["primary"]
    code, found = status(replica_dir, primary_url)
    assert code == 0 and found["running"] and found["standby"] and found["receiver"] == "streaming", found
    assert found["slot"] == SLOT and found["slot_active"] is True and found["replay_paused"] is False
    assert found["lag_seconds"] < MAX_LAG and 0 <= found["bytes_behind"] < 16 << 20, found
    engine = make_engine(replica_url(replica_port, DBNAME))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True
            assert (conn.execute(text("SELECT count(*) FROM pub.zones")).scalar() or 0) > 100
    finally:
        engine.dispose()


def test_the_server_reads_everything_from_the_replica(server, primary_url):
    """Nothing the server does writes: on a read-only standby every read answers 200, with and without a token."""
    token = run_cli("users", "add", "replica-analyst", "--role", "analyst", database_url=primary_url).stdout.strip()
    health = wait_health(server, "ok", timeout_s=10)
    assert health["database"] == "up" and health["replica"]["receiving"] is True
    failed = [(p, r.status_code) for p in READS if (r := requests.get(server + p, timeout=60)).status_code != 200]
    assert failed == []
    for path in ("/collections/cases/items?f=json", "/collections/zones/items?f=json&limit=5"):
        resp = requests.get(server + path, headers=bearer(token), timeout=60)  # the key reached it by replication
        assert resp.status_code == 200, (path, resp.text[:300])
    point = requests.post(
        server + "/processes/zone-at-point/execution", json={"inputs": {"lon": 106.82, "lat": 10.975}}, timeout=60
    )
    assert point.status_code == 200, point.text[:300]


def test_a_recompute_on_the_primary_is_served_by_the_replica_within_5_s(server, primary_url):
    url = f"{server}/collections/zones/items/{TAN_PHONG}?f=json"
    assert requests.get(url, timeout=30).json()["properties"]["colour"] == "orange"
    engine = make_engine(primary_url)
    try:
        put_indicators(engine, DAYS[-1])  # Tân Phong quiet again
        compute(engine, [DAYS[-1]])
        committed = time.monotonic()
    finally:
        engine.dispose()
    while (colour := requests.get(url, timeout=30).json()["properties"]["colour"]) != "green":
        assert time.monotonic() - committed < 5, colour
        time.sleep(0.05)
    print(f"recompute on the primary served by the replica after {time.monotonic() - committed:.3f} s")


def test_replay_behind_the_threshold_is_degraded(server, primary_url, replica_port, replica_dir):
    """Real lag: replay paused on the replica while the primary commits. /health, polled like a load balancer does,
    stays 200 and turns degraded once WAL has waited longer than the threshold — not before."""
    replica = make_engine(replica_url(replica_port, DBNAME))
    writer = make_engine(primary_url)
    try:
        assert wait_health(server, "ok", timeout_s=10)["replica"]["lag_seconds"] == 0
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        with writer.begin() as conn:
            conn.execute(text("CREATE TABLE public.lag_probe AS SELECT 1 AS x"))
        written = time.monotonic()
        while True:
            resp = requests.get(f"{server}/health", timeout=30)
            body = resp.json()
            assert resp.status_code == 200, body
            if body["status"] == "degraded":
                break
            assert time.monotonic() - written < MAX_LAG + 5, body
            time.sleep(0.2)
        assert time.monotonic() - written > MAX_LAG  # not degraded before the threshold
        assert body["replica"]["lag_seconds"] > MAX_LAG and body["replica"]["receiving"] is True, body
        assert body["replica"]["unreplayed_bytes"] > 0, body
        code, found = status(replica_dir, primary_url)
        assert found["replay_paused"] is True and found["lag_seconds"] > MAX_LAG and found["bytes_behind"] > 0, found
        assert requests.get(f"{server}/collections/zones/items?f=json&limit=1", timeout=30).status_code == 200
    finally:
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
        replica.dispose()
        writer.dispose()
    assert wait_health(server, "ok", timeout_s=10)["replica"]["lag_seconds"] == 0


def test_lag_watch_counts_how_long_received_wal_waits():
    """Pure logic: an idle primary's quiet time is no lag; WAL pending at two looks t apart has waited t."""
    watch = LagWatch()
    assert watch.look(ReplayPosition(100, 100, True), now=0.0) == 0.0
    assert watch.look(ReplayPosition(200, 100, True), now=50.0) == 0.0  # first seen now, after 50 quiet seconds
    assert watch.look(ReplayPosition(300, 150, True), now=53.0) == 3.0  # 200 still pending since 50
    assert watch.look(ReplayPosition(300, 250, True), now=54.0) == 1.0  # 200 replayed; 300 pending since 53
    assert watch.look(ReplayPosition(300, 300, True), now=60.0) == 0.0


def test_a_lock_replayed_from_the_primary_answers_a_clean_503(server, primary_url):
    """An ACCESS EXCLUSIVE lock on the primary is replayed on the standby and held there until the primary's
    transaction ends: the server's reads wait for it up to their statement timeout and answer 503 "too slow"."""
    writer = make_engine(primary_url)
    try:
        with writer.connect() as conn:
            conn.execute(text("LOCK TABLE risk.snapshot, admin.area IN ACCESS EXCLUSIVE MODE"))
            conn.execute(text("SELECT pg_switch_wal()"))  # the lock's WAL record goes out without waiting for a commit
            deadline = time.monotonic() + 10
            while (health := requests.get(f"{server}/health", timeout=30)).status_code == 200:
                assert time.monotonic() < deadline, "the primary's lock never reached the replica"
            assert health.status_code == 503 and health.json() == {"status": "unavailable", "database": "slow"}
            resp = requests.get(f"{server}/collections/zones/items?f=json&limit=5", timeout=30)
            assert resp.status_code == 503 and resp.headers["retry-after"] == RETRY_AFTER, resp.text[:300]
            assert "in time" in resp.json()["description"], resp.text[:300]
            conn.rollback()
    finally:
        writer.dispose()
    assert wait_health(server, "ok", timeout_s=10)["database"] == "up"


def test_replica_stopped_answers_503_then_recovers_without_restart(server, primary_url, replica_dir):
    directory = str(replica_dir[0])
    token = run_cli("users", "add", "replica-committee", "--role", "committee", database_url=primary_url).stdout
    run_cli("db", "replica", "stop", "--dir", directory, database_url=primary_url)
    try:
        code, found = status(replica_dir, primary_url, check=False)
        assert code == 1 and found["running"] is False, found
        health = requests.get(f"{server}/health", timeout=30)
        assert health.status_code == 503 and health.json() == {"status": "unavailable", "database": "down"}
        assert health.headers["retry-after"] == RETRY_AFTER
        for path, headers in [(p, {}) for p in READS] + [("/collections/cases/items?f=json", bearer(token.strip()))]:
            resp = requests.get(server + path, headers=headers, timeout=60)
            assert resp.status_code == 503, (path, resp.status_code, resp.text[:300])
            assert resp.headers.get("retry-after") == RETRY_AFTER, path
            assert "database" in resp.json()["description"] and "127.0.0.1" not in resp.text, path
    finally:
        run_cli("db", "replica", "start", "--dir", directory, database_url=primary_url)
    wait_health(server, "ok", timeout_s=60)
    failed = [(p, r.status_code) for p in READS if (r := requests.get(server + p, timeout=60)).status_code != 200]
    assert failed == []


def test_bad_input_is_one_line_exit_2(primary_url, replica_dir, tmp_path):
    directory = str(replica_dir[0])
    init = ["init", "--primary", primary_url, "--dir"]
    for args, words in [
        ([*init, str(tmp_path / "a"), "--slot", "Bad-Slot!"], ["slot", "lower-case"]),
        ([*init, directory, "--slot", "other"], ["not empty"]),
        ([*init, str(tmp_path / "b"), "--slot", SLOT], ["already has a replication slot", SLOT]),
        ([*init, str(tmp_path / "c"), "--slot", "x", "--primary", "postgresql://postgres@127.0.0.1:1/x"], ["reach"]),
        (["status", "--dir", str(tmp_path)], ["no replica"]),
        (["start", "--dir", str(tmp_path)], ["no replica"]),
    ]:
        assert_one_line_error(run_cli("db", "replica", *args, database_url=primary_url, check=False), *words)
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()  # checked before anything is made


def test_remove_stops_the_replica_drops_its_slot_and_deletes_it(primary, primary_url):
    top = Path(tempfile.mkdtemp(prefix="covidgis-test-replica-rm-"))
    top.chmod(0o755)
    directory, slot = top / "retired", "covidgis_test_retired"
    engine = make_engine(primary_url)
    slots = "SELECT slot_name FROM pg_replication_slots"
    try:
        run_cli(
            "db", "replica", "init", "--primary", primary_url, "--dir", str(directory), "--slot", slot,
            "--port", str(free_port()), database_url=primary_url,
        )  # fmt: skip
        with engine.connect() as conn:
            assert slot in conn.execute(text(slots)).scalars().all()
        offline = "postgresql://postgres@127.0.0.1:1/nowhere"
        refused = run_cli("db", "replica", "remove", "--dir", str(directory), "--primary", offline,
                          database_url=primary_url, check=False)  # fmt: skip
        assert_one_line_error(refused, "cannot reach the primary", "nothing was changed")
        assert status((directory, None), primary_url)[1]["running"] is True  # untouched
        done = json.loads(
            run_cli("db", "replica", "remove", "--dir", str(directory), "--json", database_url=primary_url).stdout
        )
        assert done["slot"] == slot and done["slot_dropped"] is True and done["freed_bytes"] >= 0
        assert not directory.exists()
        with engine.connect() as conn:
            assert slot not in conn.execute(text(slots)).scalars().all()
        gone = run_cli("db", "replica", "remove", "--dir", str(directory), database_url=primary_url, check=False)
        assert_one_line_error(gone, "no replica")
    finally:
        engine.dispose()
        if directory.exists():
            run_cli("db", "replica", "stop", "--dir", str(directory), database_url=primary_url, check=False)
        shutil.rmtree(top, ignore_errors=True)
