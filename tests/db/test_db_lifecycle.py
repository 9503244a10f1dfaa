"""The database lifecycle: root-safe cluster, migrations, `covidgis db` commands."""

import os
import pwd

import pytest
from conftest import run_cli
from sqlalchemy import text

from gis.db.engine import make_engine
from gis.db.migrate import head_revision, upgrade


def test_cluster_runs_as_postgres_when_root(pg_cluster):
    assert pg_cluster.running()
    if os.geteuid() != 0:
        pytest.skip("only meaningful as root")
    owner = pwd.getpwuid(pg_cluster.data_dir.stat().st_uid).pw_name
    assert owner == "postgres"


def test_migration_creates_schema_with_postgis(empty_db_url):
    engine = make_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT postgis_lib_version()")).scalar_one().startswith("3.")
        tables = set(
            conn.execute(
                text(
                    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                    "WHERE table_schema IN ('admin', 'pub')"
                )
            ).scalars()
        )
    assert {"admin.area", "admin.boundary_load", "admin.boundary_problem", "pub.areas", "pub.data_quality"} <= tables
    engine.dispose()


def test_upgrade_twice_is_a_no_op(empty_db_url):
    engine = make_engine(empty_db_url)
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == [head_revision()]  # one head: the migrations form a single line
    engine.dispose()


def test_db_status_names_the_migration(empty_db_url):
    out = run_cli("db", "status", database_url=empty_db_url).stdout
    assert "running" in out and head_revision() in out


def test_unreachable_database_is_a_clear_error():
    proc = run_cli("db", "status", database_url="postgresql://postgres@127.0.0.1:1/none", check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert "database" in proc.stderr.lower()
