"""Publishing after a trace-only change (issue 15): `covidgis trace run` and the jobs after an ingest batch write the
static folder again when the trace changed the public locations of interest and the zones did not; a trace run
that leaves them as they were publishes nothing."""

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from conftest import run_cli  # noqa: E402
from serve_support import TRACE_CASES, fill_trace, filled  # noqa: E402, F401

from gis.context import AppContext  # noqa: E402
from gis.jobs import after_batch, publish_static  # noqa: E402
from gis.publish.settings import PublishSettings  # noqa: E402
from gis.settings import Settings  # noqa: E402


def context(db_url: str, var_dir: Path) -> AppContext:
    settings = Settings.model_validate({"DATABASE_URL": db_url, "var_dir": var_dir})
    return AppContext(settings=settings, publish=PublishSettings(after_change=True))


def latest(var_dir: Path) -> dict:
    return json.loads((var_dir / "publish" / "latest.json").read_text(encoding="utf-8"))


def locations_file(shown: dict) -> str:
    return next(e["path"] for e in shown["files"] if "locations-of-interest" in e["path"])


def withdraw(engine, case_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE events.cases SET status = 'withdrawn' WHERE case_id = :c"), {"c": case_id})


@pytest.fixture(scope="module")
def traced(filled, db_url, tmp_path_factory):
    """Zones and locations of interest, published once to a folder of the module."""
    fill_trace(filled)
    var_dir = tmp_path_factory.mktemp("var")
    with context(db_url, var_dir) as ctx:
        publish_static(ctx)
    return var_dir


def test_a_trace_run_that_changes_nothing_publishes_nothing(traced, db_url):
    before = latest(traced)
    env = {"COVIDGIS_VAR_DIR": str(traced), "COVIDGIS_PUBLISH_AFTER_CHANGE": "true"}
    proc = run_cli("trace", "run", "--case", TRACE_CASES[1], database_url=db_url, env=env)
    assert "static snapshot" not in proc.stdout
    assert latest(traced) == before


def test_the_trace_cli_publishes_a_changed_list_of_locations(filled, traced, db_url):
    before = latest(traced)
    withdraw(filled, TRACE_CASES[2])  # its location of interest is withdrawn by the next trace
    env = {"COVIDGIS_VAR_DIR": str(traced), "COVIDGIS_PUBLISH_AFTER_CHANGE": "true"}
    proc = run_cli("trace", "run", "--case", TRACE_CASES[2], database_url=db_url, env=env)
    assert "static snapshot" in proc.stdout
    after = latest(traced)
    assert after["snapshot_version"] == before["snapshot_version"] and after["trace_run"] > before["trace_run"]
    assert locations_file(after) != locations_file(before)


def test_after_a_cases_batch_the_jobs_publish_a_trace_only_change(filled, traced, db_url):
    """Last: the batch's cases traced again after the first F0 is withdrawn; no recompute, so no new snapshot."""
    before = latest(traced)
    withdraw(filled, TRACE_CASES[1])
    with filled.connect() as conn:
        batch = conn.execute(
            text("SELECT batch_id FROM events.cases WHERE case_id = :c"), {"c": TRACE_CASES[1]}
        ).scalar_one()
    with context(db_url, traced) as ctx:
        done = after_batch(ctx, "cases", batch, recompute=False)
        assert done.trace is not None and done.published is not None
        again = after_batch(ctx, "cases", batch, recompute=False)  # traced again, nothing changed
        assert again.published is None
    after = latest(traced)
    assert after["snapshot_version"] == before["snapshot_version"] and after["trace_run"] > before["trace_run"]
    assert locations_file(after) != locations_file(before)
