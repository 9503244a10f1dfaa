"""Test data helpers shared by several test modules."""

from pathlib import Path

from sqlalchemy import text

QUIET_INDICATORS = (Path(__file__).parent / "fixtures" / "quiet_indicators.sql").read_text(encoding="utf-8")


def put_quiet_indicators(conn, day) -> None:
    """Every current area quiet and well vaccinated on that day (tests then raise the areas they look at)."""
    conn.execute(text(QUIET_INDICATORS), {"d": day})


def put_indicators(engine, day, **overrides_by_code):
    """Quiet baseline for every area (no cases, high coverage, capacity met); selected codes get other values."""
    with engine.begin() as conn:
        put_quiet_indicators(conn, day)
        for code, values in overrides_by_code.items():
            sets = ", ".join(f"{k} = :{k}" for k in values)
            conn.execute(
                text(f"UPDATE stats.indicator SET {sets} WHERE day = :d AND area_code = :c"),
                {**values, "d": day, "c": code},
            )
