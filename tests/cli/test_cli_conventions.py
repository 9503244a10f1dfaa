"""Conventions of issue 11 that a tool can hold: settings and engines are built only at entry points, the ingest
stage knows nothing of the compositions above it, and every level option reads gis/levels.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gis.cli import app
from gis.levels import ADMIN_LEVELS

GIS = Path(__file__).resolve().parents[2] / "gis"
SETTINGS_BUILT_AT = {"gis/context.py", "gis/serve/processes.py"}  # processes: pygeoapi makes it by dotted path
ENGINE_STARTED_AT = {"gis/context.py", "gis/cli/db.py"}  # the db CLI: starting the database is its point


def call_lines(source: str, name_matches) -> list[int]:
    """Lines of the calls in source whose function name matches."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name_matches(name, node):
                lines.append(node.lineno)
    return lines


def calls(name_matches) -> dict[str, list[int]]:
    """Files of gis/ (relative) with the lines where a call's function name matches."""
    found = {
        str(p.relative_to(GIS.parent)): call_lines(p.read_text(encoding="utf-8"), name_matches)
        for p in GIS.rglob("*.py")
    }
    return {path: lines for path, lines in found.items() if lines}


def built_settings(name: str, node: ast.Call) -> bool:
    return name.endswith("Settings") and not node.args and not node.keywords


def started_engine(name: str, node: ast.Call) -> bool:
    return name == "start_database"


def test_the_checks_find_what_they_look_for():
    source = (
        "s = RiskSettings()\nx = gis.stats.settings.StatsSettings()\ne = db.start_database(s)\nok = Settings(a=1)\n"
    )
    assert call_lines(source, built_settings) == [1, 2]
    assert call_lines(source, started_engine) == [3]


def test_settings_are_built_only_where_the_context_is():
    built = calls(built_settings)
    assert set(built) <= SETTINGS_BUILT_AT, {f: lines for f, lines in built.items() if f not in SETTINGS_BUILT_AT}


def test_engines_are_started_only_by_the_context_and_the_db_cli():
    started = calls(started_engine)
    assert set(started) <= ENGINE_STARTED_AT, started


@pytest.mark.parametrize("module", ["gis.ingest.watch", "gis.ingest.pipeline", "gis.risk.override", "gis.risk.publish"])
def test_stages_do_not_import_the_compositions_above_them(module):
    """A stage imported alone does not pull in gis.jobs or gis.scheduler (the dependency would point up)."""
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert module in loaded
    assert "gis.jobs" not in loaded and "gis.scheduler" not in loaded and "gis.cli" not in loaded


def test_the_scheduler_refers_to_its_job_by_an_import():
    """The job stored by APScheduler is a function of gis.scheduler, not a dotted string into another module."""
    from apscheduler.util import obj_to_ref

    from gis import scheduler

    assert obj_to_ref(scheduler.scheduled_ingest) == "gis.scheduler:scheduled_ingest"
    source = (GIS / "ingest" / "watch.py").read_text(encoding="utf-8")
    assert "gis.jobs" not in source and "apscheduler" not in source


@pytest.mark.parametrize("command", [["risk", "classify"], ["zones", "show", "--date", "2021-10-20"]])
@pytest.mark.parametrize("level", ["tỉnh", "Commune ", "3", "ward", "", "hamlets"])
def test_level_options_take_the_names_of_gis_levels_only(command, level):
    result = CliRunner().invoke(app, [*command, "--level", level], input="")
    assert result.exit_code == 2, result.output
    assert all(name in result.stderr for name in ADMIN_LEVELS), result.stderr
    assert "Traceback" not in result.stderr
