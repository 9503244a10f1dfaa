"""`covidgis serve` through PgBouncer in transaction mode, with the shipped deploy/pgbouncer/pgbouncer.ini (issue 15,
item 6): only its addresses and auth are changed for the test cluster. Every kind of read answers 200 through the
pool, concurrent clients share a few server connections, and the statement timeout the config sets per server
connection is the one queries run under (PgBouncer drops the client's own `options`)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
import requests
from conftest import ROOT, free_port, running_server
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_support import CASE_POINTS, TAN_PHONG, filled, tile_of  # noqa: E402, F401

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
SHIPPED = ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini"
READS = [
    "/collections/zones/items?f=json&limit=5",
    f"/collections/zones/items/{TAN_PHONG}?f=json",
    "/collections/zones-history/items?f=json&datetime=2021-10-20",
    "/collections/zones/tiles/WebMercatorQuad/{}/{}/{}?f=mvt".format(*tile_of(*CASE_POINTS[0], 12)),
    "/map/api/meta",
    "/map/api/zones?level=3",
]

pytestmark = pytest.mark.skipif(
    not Path(PGBOUNCER).exists(), reason="pgbouncer is not installed (scripts/system-deps.sh --test installs it)"
)


def shipped_config() -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None, delimiters=("=",), comment_prefixes=(";",))
    config.optionxform = str  # type: ignore[assignment,method-assign]  # names and keys keep their case
    config.read(SHIPPED)
    return config


@pytest.fixture(scope="module")
def bouncer(filled, db_url):
    """PgBouncer (as the cluster's user: it refuses root) in front of the module's database; yields its port."""
    target = make_url(db_url)
    folder = Path(tempfile.mkdtemp(prefix="covidgis-test-pgbouncer-"))  # pytest's tmp is 0700: not readable by postgres
    folder.chmod(0o777)
    config = shipped_config()
    shipped_db = config["databases"]["covidgis"]
    config.remove_option("databases", "covidgis")
    config["databases"][str(target.database)] = shipped_db.replace("port=5432", f"port={target.port}").replace(
        "dbname=covidgis", f"dbname={target.database}"
    )
    port = free_port()
    pgb = config["pgbouncer"]
    pgb.update(
        {
            "listen_port": str(port),
            "auth_type": "trust",  # the test cluster trusts 127.0.0.1; production uses scram-sha-256 + auth_file
            "auth_file": str(folder / "userlist.txt"),
            "logfile": str(folder / "pgbouncer.log"),
            "pidfile": str(folder / "pgbouncer.pid"),
            "unix_socket_dir": "",
        }
    )
    users = ("postgres", "covidgis_public", "covidgis_restricted")  # the server's own reads and its two roles
    (folder / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    (folder / "userlist.txt").chmod(0o644)
    ini = folder / "pgbouncer.ini"
    with ini.open("w") as f:
        config.write(f)
    ini.chmod(0o644)
    # as root, PgBouncer drops to postgres itself (-u): the process is PgBouncer, so stopping it stops it
    cmd = [PGBOUNCER, "-u", "postgres", str(ini)] if os.geteuid() == 0 else [PGBOUNCER, str(ini)]
    proc = subprocess.Popen(cmd, stdout=(folder / "stdout.log").open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            psycopg2.connect(host="127.0.0.1", port=port, dbname=target.database, user="postgres").close()
            break
        except psycopg2.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.terminate()
                proc.wait(10)
                log = "".join(p.read_text() for p in folder.glob("*.log"))
                raise AssertionError(f"pgbouncer did not start:\n{log}") from None
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(bouncer, db_url, tmp_path_factory):
    through = make_url(db_url).set(port=bouncer).render_as_string(hide_password=False)
    with running_server(db_url, tmp_path_factory.mktemp("serve-var"), COVIDGIS_SERVE_DATABASE_URL=through) as base:
        yield base


def admin(port: int, command: str) -> list[dict]:
    """A command of PgBouncer's admin console (the `pgbouncer` database), rows as dicts."""
    conn = psycopg2.connect(host="127.0.0.1", port=port, dbname="pgbouncer", user="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(command)
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        conn.close()


def test_the_shipped_config_pools_transactions():
    pgb = shipped_config()["pgbouncer"]
    assert pgb["pool_mode"] == "transaction" and pgb["ignore_startup_parameters"] == "options"
    assert "statement_timeout" in shipped_config()["databases"]["covidgis"]


def test_every_read_answers_200_through_the_pool(server):
    failed = [
        (p, r.status_code, r.text[:200])
        for p in READS
        if (r := requests.get(server + p, timeout=60)).status_code != 200
    ]
    assert failed == []
    point = requests.post(
        server + "/processes/zone-at-point/execution", json={"inputs": {"lon": 106.82, "lat": 10.975}}, timeout=60
    )
    assert point.status_code == 200, point.text[:300]
    assert requests.get(server + "/health", timeout=30).json()["database"] == "up"


def test_concurrent_clients_share_a_few_server_connections(server, bouncer, db_url):
    urls = [server + READS[i % len(READS)] for i in range(120)]
    with ThreadPoolExecutor(max_workers=24) as pool:
        codes = list(pool.map(lambda u: requests.get(u, timeout=90).status_code, urls))
    assert codes.count(200) == len(urls), sorted(set(codes))
    pools = [p for p in admin(bouncer, "SHOW POOLS") if p["database"] == make_url(db_url).database]
    assert pools and all(p["pool_mode"] == "transaction" for p in pools)
    servers = sum(p["sv_active"] + p["sv_idle"] + p["sv_used"] + p["sv_tested"] + p["sv_login"] for p in pools)
    default_pool = int(shipped_config()["pgbouncer"]["default_pool_size"])
    assert 0 < servers <= default_pool * len(pools)


def test_queries_run_under_the_configs_statement_timeout(bouncer, db_url):
    database = make_url(db_url).database
    conn = psycopg2.connect(
        host="127.0.0.1", port=bouncer, dbname=database, user="postgres", options="-c statement_timeout=1234"
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW statement_timeout")
            assert cur.fetchone()[0] == "10s"  # the config's, not the 1234 ms the client asked for
            cur.execute("SHOW jit")
            assert cur.fetchone()[0] == "off"
            with pytest.raises(psycopg2.errors.QueryCanceled):
                cur.execute("SET LOCAL statement_timeout = 50; SELECT pg_sleep(1)")
    finally:
        conn.close()
