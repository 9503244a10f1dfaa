"""`covidgis zones` is thin: the summaries it prints are the jobs' own (`to_json()`), overrides are written by
gis/risk/override.py and refused in one line when the committee cannot mean them, and the one engine a command
makes is disposed when it ends."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from conftest import run_cli
from sqlalchemy import text
from support import put_indicators
from typer.testing import CliRunner

from gis.cli import app

DAY = dt.date(2021, 10, 20)
TAN_PHONG = "25996"  # Phường Tân Phong, Biên Hòa
GOOD = {"--area": TAN_PHONG, "--level": "4", "--from": str(DAY), "--reason": "Ổ dịch", "--author": "BCĐ tỉnh"}


def overrides(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM risk.override")).scalar_one()


def backends(engine) -> int:
    """Connections to the module's database other than the one asking."""
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalar_one()


def args(options: dict) -> list[str]:
    return [part for key, value in options.items() for part in (key, value)]


def test_compute_prints_the_recompute_summary(db_url, engine):
    put_indicators(engine, DAY)
    out = json.loads(run_cli("zones", "compute", "--date", str(DAY), "--json", database_url=db_url).stdout)
    assert set(out) == {"first", "last", "days", "indicators", "zones", "published"}
    assert out["published"] is None  # COVIDGIS_PUBLISH_AFTER_CHANGE is off in the tests (tests/publish turn it on)
    assert (out["first"], out["last"], out["days"]) == (str(DAY), str(DAY), 1)
    assert out["zones"]["ruleset"] == "vn-4800-2021" and out["zones"]["zones"] > 1900
    assert out["indicators"]["days"] == 1 and out["indicators"]["seconds"] >= 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--area": "99999"}, "no area with code 99999"),
        ({"--area": "'; DROP TABLE risk.override; --"}, "no area with code"),
        ({"--reason": "   "}, "needs a reason and an author"),
        ({"--author": ""}, "needs a reason and an author"),
        ({"--to": str(DAY - dt.timedelta(days=1))}, "ends (2021-10-19) before it starts (2021-10-20)"),
    ],
)
def test_an_override_the_committee_cannot_mean_is_one_line_and_writes_nothing(db_url, engine, change, message):
    before = overrides(engine)
    proc = run_cli("zones", "override", *args({**GOOD, **change}), database_url=db_url, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("error: ") and message in last, proc.stderr
    assert overrides(engine) == before


def test_an_override_is_stored_and_printed_as_its_summary(db_url, engine):
    before = overrides(engine)
    out = json.loads(run_cli("zones", "override", *args(GOOD), "--json", database_url=db_url).stdout)
    assert out["area"] == TAN_PHONG and out["level"] == 4 and out["start"] == str(DAY) and out["end"] is None
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM risk.override WHERE id = :i"), {"i": out["id"]}).mappings().one()
    assert (row["reason"], row["author"], row["end_day"]) == ("Ổ dịch", "BCĐ tỉnh", None)
    assert overrides(engine) == before + 1


@pytest.mark.parametrize("command", [["zones", "show", "--date", str(DAY), "--json"], ["users", "list"]])
def test_a_command_disposes_of_its_engine_when_it_ends(db_url, engine, command):
    """In one process (as the scheduler and tests run commands), a finished command leaves no connection open."""
    before = backends(engine)
    result = CliRunner().invoke(app, command, env={"DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    # A closed connection's backend leaves pg_stat_activity a moment after the client hangs up (asynchronously):
    # wait for that, a leaked connection stays.
    deadline = time.monotonic() + 5
    while backends(engine) != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backends(engine) == before
