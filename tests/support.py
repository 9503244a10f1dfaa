"""Test data helpers shared by several test modules."""

from pathlib import Path

from sqlalchemy import text

QUIET_INDICATORS = (Path(__file__).parent / "fixtures" / "quiet_indicators.sql").read_text(encoding="utf-8")


def put_quiet_indicators(conn, day) -> None:
    """Every current area quiet and well vaccinated on that day (tests then raise the areas they look at)."""
    conn.execute(text(QUIET_INDICATORS), {"d": day})
