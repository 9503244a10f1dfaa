"""Conventions of issue 11 that a tool can hold: settings and engines are built only at entry points, the ingest
stage knows nothing of the compositions above it, and every level option reads gis/levels.py."""

from __future__ import annotations

import ast
import re
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


# Commands whose JSON is a listing (a query's rows, a JSON-lines stream), not a job's summary: (file, function).
LISTINGS = {
    ("gis/cli/ingest.py", "rejects"),  # a batch and its rejected rows (gis/ingest/pipeline.py batch_rejects)
    ("gis/cli/risk.py", "classify"),  # one JSON level per input line on stdout
    ("gis/cli/zones.py", "show"),  # the zones of one day, one object per area
    ("gis/cli/trace.py", "contacts"),  # the contact check-ins of a case, one object per check-in
}
# Job results still printed from a hand-built dict, each with who turns it into a Summary (then it leaves this list).
PENDING: set[tuple[str, str]] = set()  # commands whose summary is being written (none now)


def _is_summary_json(node: ast.expr, named: frozenset[str] | set[str] = frozenset()) -> bool:
    """`x.to_json()`, `x.to_json() if … else None`, or a name (of `named`) bound to one of them."""
    if isinstance(node, ast.Name):
        return node.id in named
    if isinstance(node, ast.IfExp):
        return all(
            _is_summary_json(n, named) or (isinstance(n, ast.Constant) and n.value is None)
            for n in (node.body, node.orelse)
        )
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "to_json"
        and not node.args
        and not node.keywords
    )


def printed_not_summaries(source: str, path: str = "") -> list[int]:
    """Lines of the `json.dumps(…)` / `dumps(…)` calls whose object is neither a summary's `to_json()` nor a dict
    literal made of them (`{**batch.to_json(), "recomputed": zones.to_json() if zones else None}`)."""
    offenders = []
    for function in ast.walk(ast.parse(source)):
        if (
            not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
            or (path, function.name) in LISTINGS | PENDING
        ):
            continue
        # a name the function binds to a summary's JSON (`recomputed = zones.to_json() if zones else None`)
        named = {
            target.id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign) and _is_summary_json(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }

        for node in ast.walk(function):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name != "dumps":
                continue
            obj = node.args[0] if node.args else None
            if obj is None:
                offenders.append(node.lineno)
            elif _is_summary_json(obj, named):
                continue
            elif isinstance(obj, ast.Dict) and None in obj.keys and all(_is_summary_json(v, named) for v in obj.values):
                continue
            else:
                offenders.append(node.lineno)
    return sorted(set(offenders))


def test_the_summary_check_finds_what_it_looks_for():
    source = (
        "def a():\n    print(json.dumps(s.to_json(), ensure_ascii=False))\n"
        "def b():\n    print(dumps({**s.to_json(), 'recomputed': z.to_json() if z else None}))\n"
        "def c():\n    print(json.dumps(s.__dict__))\n"
        "def d():\n    print(json.dumps({'dataset': name, **report}))\n"
        "def e():\n    print(json.dumps({**s.to_json(), 'n': len(rows)}))\n"
        "def f():\n    print(json.dumps(run_once(ctx), default=str))\n"
        "def g():\n    print(json.dumps([s.to_json() for s in runs]))\n"
        "def h():\n    r = z.to_json() if z else None\n    print(dumps({**s.to_json(), 'recomputed': r}))\n"
        "def i():\n    r = len(rows)\n    print(dumps({**s.to_json(), 'n': r}))\n"
    )
    assert printed_not_summaries(source) == [6, 8, 10, 12, 14, 20]


def test_every_json_the_cli_prints_is_a_summary():
    """`--json` prints `summary.to_json()` (gis/summary.py): never `__dict__` or a dict built in the CLI."""
    found = {}
    for p in sorted((GIS / "cli").glob("*.py")):
        path = str(p.relative_to(GIS.parent))
        if lines := printed_not_summaries(p.read_text(encoding="utf-8"), path):
            found[path] = lines
    assert found == {}
    for path, function in LISTINGS | PENDING:  # an entry whose command is gone (or renamed) is not kept unseen
        source = GIS.parent / path
        assert any(
            isinstance(n, ast.FunctionDef) and n.name == function
            for n in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        ), (path, function)


# `sqlalchemy.text()` with `:name` is the older parameter style; gis/ingest/ and the migrations are being converted,
# and so are these files (each leaves the list once converted).
TEXT_STYLE_CONVERTING = ("gis/ingest/", "gis/db/migrations/")
TEXT_STYLE_PENDING: set[str] = set()  # files being converted to %(name)s (none now)
COLON_PARAMETER = re.compile(r"(?<![:\w]):([a-z_]\w*)")  # `:name`, not a `::cast`
QUOTED_LITERAL = re.compile(r"'(?:[^']|'')*'")  # '10:00' holds no parameter


def text_with_colon_parameters(source: str) -> list[int]:
    """Lines of the `text(…)` calls that bind `:name` parameters, or whose statement cannot be read here (not a
    literal), so its parameters cannot be checked."""
    offenders = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        if not (isinstance(func, ast.Name) and func.id == "text") and not (
            isinstance(func, ast.Attribute) and func.attr == "text" and ast.unparse(func.value) in ("sa", "sqlalchemy")
        ):
            continue
        statement = node.args[0]
        pieces: list[str] | None = None
        if isinstance(statement, ast.Constant) and isinstance(statement.value, str):
            pieces = [statement.value]
        elif isinstance(statement, ast.JoinedStr):
            pieces = [v.value for v in statement.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        if pieces is None or any(COLON_PARAMETER.search(QUOTED_LITERAL.sub("''", p)) for p in pieces):
            offenders.append(node.lineno)
    return sorted(offenders)


def test_the_text_check_finds_what_it_looks_for():
    source = (
        "a = text('SELECT 1')\n"
        "b = text('SELECT * FROM t WHERE d = :day')\n"
        "c = conn.execute(text(SQL['x']), {'a': 1})\n"
        "d = sa.text(\"SELECT 'at:noon'::time, x::int\")\n"
        "e = sqlalchemy.text(f'SELECT * FROM {t} WHERE a = :a')\n"
        "f = page.text('x :y')\n"
    )
    assert text_with_colon_parameters(source) == [2, 3, 5]


def test_no_stage_binds_parameters_through_sqlalchemy_text():
    """Values are `%(name)s` parameters run with `conn.exec_driver_sql` (gis/sqlfiles.py), not `text()` with `:name`."""
    found = {
        str(p.relative_to(GIS.parent)): text_with_colon_parameters(p.read_text(encoding="utf-8"))
        for p in sorted(GIS.rglob("*.py"))
    }
    offenders = {path for path, lines in found.items() if lines and not path.startswith(TEXT_STYLE_CONVERTING)}
    assert offenders - TEXT_STYLE_PENDING == set(), {path: found[path] for path in offenders - TEXT_STYLE_PENDING}
