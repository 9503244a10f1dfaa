"""The server only reads: `covidgis zones publish` writes what the public zones show (and bumps the snapshot), the
served app writes nothing and warns when the settings and the database disagree, and loading pygeoapi's config
leaves no database password in the process's environment."""

from __future__ import annotations

import json
import logging
import os

import pytest
from conftest import run_cli
from sqlalchemy import text

from gis.context import AppContext
from gis.errors import CovidGisError
from gis.serve.app import PYGEOAPI_CONFIG, create_app, pygeoapi_environment
from gis.serve.ogc import load_config
from gis.serve.settings import ServeSettings
from gis.settings import Settings


def published(engine) -> tuple | None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT ruleset_id, suppress_below FROM risk.published")).first()
        return tuple(row) if row else None


def snapshot(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT version FROM risk.snapshot")).scalar_one()


def publish(db_url, *args, **env) -> dict:
    return json.loads(run_cli("zones", "publish", "--json", *args, database_url=db_url, env=env).stdout)


def context(db_url, tmp_path, **serve) -> AppContext:
    settings = Settings.model_validate({"DATABASE_URL": db_url, "var_dir": tmp_path})
    return AppContext(settings=settings, serve=ServeSettings(**serve))


def test_publish_writes_once_and_bumps_the_snapshot_only_on_a_change(db_url, engine):
    start = snapshot(engine)
    assert publish(db_url) == {"ruleset": "vn-4800-2021", "suppress_below": 5, "snapshot_version": None}
    assert snapshot(engine) == start  # the migration's row already says so
    changed = publish(db_url, "--ruleset", "vn-2686-2021", COVIDGIS_SERVE_SUPPRESS_BELOW="10")
    assert changed == {"ruleset": "vn-2686-2021", "suppress_below": 10, "snapshot_version": start + 1}
    assert published(engine) == ("vn-2686-2021", 10) and snapshot(engine) == start + 1
    assert publish(db_url, "--ruleset", "vn-2686-2021", COVIDGIS_SERVE_SUPPRESS_BELOW="10")["snapshot_version"] is None
    assert publish(db_url)["snapshot_version"] == start + 2  # back to the settings' defaults: a change again
    assert published(engine) == ("vn-4800-2021", 5)


@pytest.mark.parametrize("ruleset", ["nope", "../../etc/passwd", "vn-4800-2021.yml.missing", " "])
def test_publishing_an_unknown_ruleset_is_one_line_and_writes_nothing(db_url, engine, ruleset):
    before = published(engine), snapshot(engine)
    proc = run_cli("zones", "publish", "--ruleset", ruleset, database_url=db_url, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert [line for line in proc.stderr.splitlines() if "error" in line] == [proc.stderr.splitlines()[-1]]
    assert proc.stderr.splitlines()[-1].startswith("error: ")  # unknown id, or a path that is no rule set
    assert (published(engine), snapshot(engine)) == before


def test_the_served_app_writes_nothing_and_says_what_to_run(db_url, engine, tmp_path, caplog):
    before = published(engine), snapshot(engine)
    with caplog.at_level(logging.WARNING, logger="gis.serve.app"), context(db_url, tmp_path) as ctx:
        ctx.risk.ruleset = "vn-2686-2021"  # the settings say another rule set than the database shows
        create_app(ctx)
    assert (published(engine), snapshot(engine)) == before
    [warning] = [r.getMessage() for r in caplog.records if r.name == "gis.serve.app"]
    assert "vn-4800-2021" in warning and "vn-2686-2021" in warning and "covidgis zones publish" in warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gis.serve.app"), context(db_url, tmp_path) as ctx:
        create_app(ctx)
    assert not [r for r in caplog.records if r.name == "gis.serve.app"]  # published as configured: nothing to say


def test_nothing_published_still_serves_and_publish_makes_the_row_again(db_url, engine, tmp_path, caplog):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM risk.published"))
    with caplog.at_level(logging.WARNING, logger="gis.serve.app"), context(db_url, tmp_path) as ctx:
        assert create_app(ctx) is not None
    assert any("no zones are published" in r.getMessage() for r in caplog.records)
    assert published(engine) is None  # the server did not write it
    assert publish(db_url)["snapshot_version"] is not None
    assert published(engine) == ("vn-4800-2021", 5)


def test_no_database_password_is_left_in_the_environment(db_url, tmp_path):
    secrets = {"public_db_password": "pub-Ŝecret-1", "restricted_db_password": "res-secret-2"}
    with context(db_url, tmp_path, **secrets) as ctx:
        create_app(ctx)
    leaked = {k for k, v in os.environ.items() if "PASSWORD" in k and k.startswith("COVIDGIS_DB_")}
    assert not leaked
    assert not [k for k, v in os.environ.items() if v in secrets.values()]


@pytest.mark.parametrize(
    "password",
    ['a"b', "x: y # z", "${COVIDGIS_DB_HOST}", "line\nbreak", "'quoted'", "{flow: map}", "- item", "&anchor *a"],
)
def test_config_values_are_filled_as_given_whatever_they_hold(tmp_path, password):
    """Filled in the parsed values, not the YAML text: a password cannot change the document."""
    settings = Settings.model_validate({"DATABASE_URL": "postgresql://u@db.example:6543/gis", "var_dir": tmp_path})
    serve = ServeSettings(public_db_password=password, restricted_db_password=password + "2")
    config = load_config(PYGEOAPI_CONFIG, pygeoapi_environment(settings, serve))
    data = [p["data"] for r in config["resources"].values() for p in r.get("providers", []) if "data" in p]
    by_user = {d["user"]: d for d in data if isinstance(d, dict) and "user" in d}
    assert by_user[serve.public_db_user]["password"] == password
    assert by_user[serve.restricted_db_user]["password"] == password + "2"
    assert {(d["host"], d["port"], d["dbname"]) for d in by_user.values()} == {("db.example", 6543, "gis")}
    assert set(config["resources"]) == set(load_config(PYGEOAPI_CONFIG, {})["resources"])


def test_a_reference_without_default_or_value_is_a_clear_error(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("server:\n  url: ${COVIDGIS_TEST_NEVER_SET_42}\nresources: {}\n", encoding="utf-8")
    with pytest.raises(CovidGisError, match="COVIDGIS_TEST_NEVER_SET_42"):
        load_config(path, {})
    assert load_config(path, {"COVIDGIS_TEST_NEVER_SET_42": "http://x"})["server"]["url"] == "http://x"
