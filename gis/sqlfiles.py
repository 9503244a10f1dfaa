"""Named SQL statements from .sql files: `-- name: x` starts statement x (the way tipg keeps its SQL).

The one way to talk SQL in every stage (stats, risk, and the stages after them):

- **Statements live in the stage's `sql/*.sql`**, loaded once by `load(path)` and looked up by name. A reader finds
  every statement as it runs there. A variant ("the same insert with an ON CONFLICT clause", "the same count of
  another source") is a second named statement or a named fragment, never string surgery in Python.
- **Values are parameters**, psycopg2's `%(name)s` style, run with `conn.exec_driver_sql(statement, params)` or
  handed to `gis.db.frames` (COPY), which take the same text. (SQLAlchemy `text()` with `:name` is the older style
  of some small statements in serve and db; a .sql file never mixes the two.) A statement run with parameters
  writes a literal `%` as `%%` (comments included: write "per cent").
- **Names and fragments are placeholders** `{name}` in the statement, filled by `compose(conn, statement, **parts)`
  with psycopg2.sql composables only: `sql.Identifier("schema", "table")` for a name, `fragment(SQL["x"])` for a
  fragment of the same file (`fragment(SQL["x"], located=...)` when it has placeholders itself),
  `sql.SQL(", ").join(...)` for lists, `sql.Literal(v)` only where a parameter cannot stand (DDL). Comments are
  dropped from every composed piece first (a comment may name a placeholder; a fragment's last comment cannot
  swallow what follows it); a literal brace in a composed statement's SQL is written `{{` / `}}`.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from psycopg2 import sql
from sqlalchemy import Connection

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
# A quoted literal or identifier (kept whole: `--` inside one is no comment), or a comment.
_COMMENT = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*")|--[^\n]*""")


@cache
def load(path: Path) -> dict[str, str]:
    """Statements of a .sql file by name, in file order."""
    text = path.read_text(encoding="utf-8")
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}


def compose(conn: Connection, statement: str, **parts: sql.Composable) -> str:
    """The statement with its `{name}` placeholders filled by the parts (identifiers quoted, literals escaped for
    this connection), as text to run with `conn.exec_driver_sql(text, params)` or to give to `gis.db.frames`.

        compose(conn, SQL["communes"], table=sql.Identifier("events", "cases"))
        compose(conn, SQL["insert_daily_local"], changed_only=fragment(SQL["daily_changed_only"]))
    """
    return fragment(statement, **parts).as_string(conn.connection.dbapi_connection)


def fragment(statement: str, **parts: sql.Composable) -> sql.Composed:
    """A statement or fragment of a .sql file as a part of another (comments dropped, its own placeholders filled)."""
    return sql.SQL(without_comments(statement)).format(**parts)


def without_comments(statement: str) -> str:
    """The statement without its `--` comments; quoted literals and identifiers are kept as they are."""
    return _COMMENT.sub(lambda m: m.group(1) or "", statement).strip()
