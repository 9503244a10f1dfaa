"""Move rows in and out of PostgreSQL with COPY (DataFrames, or COPY text): an order of magnitude faster than row
fetches at 100k rows."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pandas as pd

_COMMENT = re.compile(r"--[^\n]*")


def _copy_query(cursor, sql: str, params: dict | None) -> str:
    """A SELECT as COPY (…) takes it: comments dropped (one at the end would swallow the closing parenthesis),
    parameters bound."""
    return cursor.mogrify(_COMMENT.sub("", sql).strip().rstrip(";"), params or {}).decode()


def read_frame(conn, sql: str, params: dict | None = None, dtype: dict | None = None) -> pd.DataFrame:
    """Run a SELECT (psycopg2 `%(name)s` parameters) through COPY … TO STDOUT and parse it with pandas."""
    cursor = conn.connection.dbapi_connection.cursor()
    buf = io.StringIO()
    cursor.copy_expert(f"COPY ({_copy_query(cursor, sql, params)}) TO STDOUT WITH (FORMAT csv, HEADER)", buf)
    buf.seek(0)
    return pd.read_csv(buf, dtype=dtype, true_values=["t"], false_values=["f"], keep_default_na=False, na_values=[""])


def read_text(conn, sql: str, params: dict | None = None) -> str:
    """The rows of a SELECT as COPY text (tab-separated), to hand to write_text on another connection."""
    cursor = conn.connection.dbapi_connection.cursor()
    buf = io.StringIO()
    cursor.copy_expert(f"COPY ({_copy_query(cursor, sql, params)}) TO STDOUT", buf)
    return buf.getvalue()


def escape_text(value: str) -> str:
    """A value as COPY text holds it: backslash, tab, line feed and carriage return escaped. A NUL has no COPY text
    form (PostgreSQL text cannot hold it): the caller rejects or replaces it first."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_text(conn, target: str, text: str | Iterator[str]) -> None:
    """COPY text into target ("table" or "table (columns)"); an iterator of chunks is sent as it is made, so the
    server parses one chunk while the next is built."""
    chunks = iter([text]) if isinstance(text, str) else text
    conn.connection.dbapi_connection.cursor().copy_expert(f"COPY {target} FROM STDIN", _Chunks(chunks))


class _Chunks(io.TextIOBase):
    """A file-like view of text chunks for COPY FROM STDIN: each read() is the next chunk."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        return next(self._chunks, "")

    readline = read
