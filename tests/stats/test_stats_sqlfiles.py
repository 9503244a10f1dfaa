"""The one way to talk SQL (gis/sqlfiles.py): one parameter style per .sql file (psycopg2's on the compute path),
names and fragments composed by psycopg2.sql, comments never in the way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from psycopg2 import sql

from gis import sqlfiles
from gis.db.frames import read_frame, read_text, write_text

GIS = Path(sqlfiles.__file__).parent
SQL_FILES = sorted(GIS.glob("**/sql/*.sql"))
COMPUTE_PATH = [GIS / "stats" / "sql" / "indicators.sql", GIS / "stats" / "sql" / "touched.sql"] + [
    GIS / "risk" / "sql" / "zones.sql"
]
PSYCOPG = re.compile(r"%\((\w+)\)s")
COLON = re.compile(r"(?<![:\w]):([a-z_]\w*)")  # `:name`, not a `::cast`
QUOTED = re.compile(r"'(?:[^']|'')*'")  # string literals ('10:00' holds no parameter)


def _statements(path: Path) -> dict[str, str]:
    return {name: QUOTED.sub("''", sqlfiles.without_comments(body)) for name, body in sqlfiles.load(path).items()}


def test_the_sql_files_are_found():
    assert set(COMPUTE_PATH) <= set(SQL_FILES) and len(SQL_FILES) > 5


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(GIS)))
def test_a_sql_file_never_mixes_parameter_styles(path: Path):
    statements = _statements(path)
    styles = {
        style
        for body in statements.values()
        for style, found in (("%(name)s", PSYCOPG.search(body)), (":name", COLON.search(body)))
        if found
    }
    assert len(styles) <= 1, f"{path.name} mixes {sorted(styles)}"


# The stages after the compute path (issue 11): psycopg2 parameters through exec_driver_sql too. serve.sql is still
# `:name` (its readers, gis/serve/{auth,users,version}.py, are being edited for the trace layers).
STAGES_AFTER = sorted(
    p for stage in ("serve", "maps", "reports", "boundaries") for p in (GIS / stage / "sql").glob("*.sql")
)
PSYCOPG2_ONLY = [*COMPUTE_PATH, *(p for p in STAGES_AFTER if p.name != "serve.sql")]


def test_the_stages_after_the_compute_path_are_found():
    assert {"processes.sql", "map.sql", "weekly.sql", "merge_areas.sql"} <= {p.name for p in PSYCOPG2_ONLY}


@pytest.mark.parametrize("path", PSYCOPG2_ONLY, ids=lambda p: str(p.relative_to(GIS)))
def test_the_compute_path_uses_psycopg2_parameters_only(path: Path):
    for name, body in _statements(path).items():
        assert not COLON.search(body), f"{path.name} {name}: `:name` parameter"
        # every % is a parameter or an escaped %, comments included (they are sent too): a bare one breaks the
        # statement once it runs with parameters
        raw = body + "\n".join(re.findall(r"--[^\n]*", sqlfiles.load(path)[name]))
        assert "%" not in PSYCOPG.sub("", raw).replace("%%", ""), f"{path.name} {name}: bare %"
        # placeholders only where a composable fills them: every {name} is a word in braces
        assert not re.search(r"\{(?!\w+\})", body.replace("{{", "")), f"{path.name} {name}: stray brace"


@pytest.mark.parametrize(
    "name",
    ["plain", "with space", 'quote"d', "semi;colon", "dash--es", "Upper", "việt", "a'b", "x); DROP TABLE t; --"],
)
def test_compose_quotes_any_identifier(engine, name):
    statement = "-- {column} named in a comment is dropped\nSELECT {column} FROM (SELECT 1 AS {column}) t"
    with engine.connect() as conn:
        composed = sqlfiles.compose(conn, statement, column=sql.Identifier(name))
        assert conn.exec_driver_sql(composed).scalar_one() == 1
        assert list(read_frame(conn, composed).columns) == [name]


def test_a_fragment_ending_in_a_comment_swallows_nothing(engine):
    inner = "SELECT %(n)s::int AS n  -- a comment at the end of a fragment"
    outer = "SELECT n + 1 FROM ({rows}) r -- {rows} named here too\nWHERE n > 0"
    with engine.connect() as conn:
        composed = sqlfiles.compose(conn, outer, rows=sqlfiles.fragment(inner))
        assert conn.exec_driver_sql(composed, {"n": 41}).scalar_one() == 42
        assert conn.exec_driver_sql(composed, {"n": -1}).first() is None


def test_copy_text_out_and_in(engine):
    """COPY text read on one connection goes into another's temporary table unchanged (tabs, newlines, NULL)."""
    values = ["plain", "tab\there", "line\nfeed", "back\\slash", None]
    with engine.begin() as source:
        source.exec_driver_sql("CREATE TEMP TABLE copy_src (v text) ON COMMIT DROP")
        for v in values:
            source.exec_driver_sql("INSERT INTO copy_src VALUES (%(v)s)", {"v": v})
        text = read_text(source, "SELECT v FROM copy_src -- a trailing comment;")
    with engine.begin() as target:
        target.exec_driver_sql("CREATE TEMP TABLE copy_dst (v text) ON COMMIT DROP")
        copy = sqlfiles.compose(target, "COPY {table} FROM STDIN", table=sql.Identifier("copy_dst"))
        write_text(target, copy, iter(text.splitlines(keepends=True)))  # one chunk a line
        assert target.exec_driver_sql("SELECT v FROM copy_dst").scalars().all() == values


@pytest.mark.parametrize(
    ("statement", "kept"),
    [
        ("SELECT 1 -- gone", "SELECT 1"),
        ("SELECT 'a--b' -- gone", "SELECT 'a--b'"),
        ('SELECT "x--y" FROM t -- it\'s gone', 'SELECT "x--y" FROM t'),
        ("SELECT 'it''s -- kept' -- 'gone'\nFROM t", "SELECT 'it''s -- kept' \nFROM t"),
        ('-- {rows} a placeholder named in a comment\nSELECT "a""--b"', 'SELECT "a""--b"'),
    ],
)
def test_comments_go_quoted_text_stays(statement, kept):
    assert sqlfiles.without_comments(statement) == kept
