"""Real PostgreSQL + PostGIS for the tests: one throwaway cluster per session, a database per module from templates."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from pytest_postgresql.janitor import DatabaseJanitor

from gis.boundaries.dataset import read_manifest
from gis.boundaries.load import prepare, store
from gis.db.cluster import Cluster
from gis.db.engine import make_engine
from gis.db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
# A recompute publishes the static folder (<var_dir>/publish) by default; the CLI tests' var_dir is the checkout's
# var/, so without this every test database would overwrite the demo's folder. tests/publish turns it on per test.
os.environ.setdefault("COVIDGIS_PUBLISH_AFTER_CHANGE", "false")
DONGNAI = ROOT / "boundaries" / "dongnai"
COVIDGIS = Path(sys.executable).parent / "covidgis"
EMPTY_TEMPLATE = "tpl_migrated"
DONGNAI_TEMPLATE = "tpl_dongnai"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_cluster(prefix: str):
    """A cluster in a fresh temp dir, started as `postgres` when we are root; durability off for speed."""
    top = Path(tempfile.mkdtemp(prefix=prefix))
    top.chmod(0o755)
    cluster = Cluster(
        data_dir=top / "data",
        socket_dir=top / "sock",
        port=free_port(),
        server_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's cluster: every module's database is made in it from the templates."""
    with throwaway_cluster("covidgis-test-pg-") as cluster:
        yield cluster


def _janitor(cluster: Cluster, dbname: str, **kw) -> DatabaseJanitor:
    return DatabaseJanitor(user="postgres", host="127.0.0.1", port=cluster.port, dbname=dbname, **kw)


@pytest.fixture(scope="session")
def templates(pg_cluster):
    """Two templates: migrated and empty; migrated with Đồng Nai loaded (the demo dataset)."""
    janitors = []
    for name in (EMPTY_TEMPLATE, DONGNAI_TEMPLATE):
        janitor = _janitor(pg_cluster, name)
        janitor.init()
        janitors.append(janitor)
        engine = make_engine(pg_cluster.url(name))
        upgrade(engine)
        if name == DONGNAI_TEMPLATE:
            ds = read_manifest(DONGNAI)
            store(engine, ds, prepare(ds))
        engine.dispose()
    yield
    for janitor in janitors:
        janitor.drop()


def _module_db(request, pg_cluster, template: str):
    name = f"{template}_{request.module.__name__.rsplit('.', 1)[-1]}"[:63]
    janitor = _janitor(pg_cluster, name, template_dbname=template)
    janitor.init()
    yield pg_cluster.url(name)
    janitor.drop()


@pytest.fixture(scope="module")
def empty_db_url(request, pg_cluster, templates):
    """A migrated database with no data, private to the test module."""
    yield from _module_db(request, pg_cluster, EMPTY_TEMPLATE)


@pytest.fixture(scope="module")
def db_url(request, pg_cluster, templates):
    """A migrated database with Đồng Nai loaded, private to the test module."""
    yield from _module_db(request, pg_cluster, DONGNAI_TEMPLATE)


@pytest.fixture(scope="module")
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def run_cli(
    *args: str, database_url: str, check: bool = True, env: dict | None = None, **kw
) -> subprocess.CompletedProcess:
    """Run the real `covidgis` command against a test database (env: extra environment variables)."""
    env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    proc = subprocess.run([str(COVIDGIS), *args], capture_output=True, text=True, env=env, cwd=ROOT, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"covidgis {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@contextmanager
def running_server(db_url: str, var_dir: Path, **env: str):
    """`covidgis serve` on a free port with extra COVIDGIS_* settings; yields its base URL."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "COVIDGIS_PORT": str(port),
        "COVIDGIS_VAR_DIR": str(var_dir),
        **env,
    }
    run_cli("zones", "publish", database_url=db_url, env=full_env)  # the server only reads what is published
    log_path = var_dir / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(COVIDGIS), "serve"], env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError("covidgis serve did not start:\n" + log_path.read_text())
            time.sleep(0.3)
        try:
            yield base
        finally:
            proc.terminate()
            proc.wait(15)


@pytest.fixture(scope="module")
def server(db_url, tmp_path_factory):
    """`covidgis serve` over real HTTP on a free port; yields its base URL."""
    with running_server(db_url, tmp_path_factory.mktemp("serve-var")) as base:
        yield base
