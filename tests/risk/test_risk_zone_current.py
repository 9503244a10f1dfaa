"""The stored masked numbers of the public zones (risk.zone_current, migration 0012): after a recompute, an override
and a publish, pub.zones is row for row what the view computing them gives (pub.zones_history on the current day,
the definition pub.zones had), and it reads every row from the store; a write that bypasses the recompute never
shows a stale number."""

import datetime as dt

from sqlalchemy import text
from support import put_indicators

from gis.risk.override import add_override
from gis.risk.publish import publish
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones

DAY = dt.date(2021, 10, 20)
TAN_PHONG = "25996"
SMALL_HAMLET = "25996-01"
HAMLET = "25996-02"

COLUMNS = (
    "code, day, admin_level, name, parent_code, level, colour, label_vi, label_en, ruleset_id, ruleset_version, "
    "overridden, details_suppressed, decisive, reasons, ST_AsEWKB(geom) AS geom"
)
# pub.zones as it was defined before migration 0012: the masking computed on every row read.
COMPUTED = f"""
SELECT {COLUMNS} FROM pub.zones_history h
WHERE h.day = (SELECT max(z.day) FROM risk.zone z WHERE z.ruleset_id = (SELECT ruleset_id FROM risk.published))
"""
DIFFERENCE = f"""
SELECT (SELECT count(*) FROM (SELECT {COLUMNS} FROM pub.zones EXCEPT {COMPUTED}) a)
     + (SELECT count(*) FROM ({COMPUTED} EXCEPT SELECT {COLUMNS} FROM pub.zones) b) AS differing,
       (SELECT count(*) FROM pub.zones) AS shown
"""
# How many rows pub.zones takes from the store (its join condition, layers/zones.sql).
FROM_STORE = """
SELECT count(*) FROM risk.zone z
JOIN risk.published p ON p.ruleset_id = z.ruleset_id
LEFT JOIN stats.indicator ind ON ind.day = z.day AND ind.area_code = z.area_code
JOIN risk.zone_current m ON m.code = z.area_code AND m.day = z.day AND m.ruleset_id = z.ruleset_id
     AND m.zone_xmin = z.xmin AND m.published_xmin = p.xmin AND m.indicator_xmin IS NOT DISTINCT FROM ind.xmin
"""


def compute(engine):
    return compute_zones(engine, [DAY], load_ruleset("vn-4800-2021"), RiskSettings())


def state(engine) -> tuple[int, int, int]:
    """(rows differing from the computed view, rows shown, rows read from the store)."""
    with engine.connect() as conn:
        differing, shown = conn.execute(text(DIFFERENCE)).one()
        return differing, shown, conn.execute(text(FROM_STORE)).scalar_one()


def shown(engine, code: str) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT details_suppressed, decisive, reasons FROM pub.zones WHERE code = :c"), {"c": code}
            )
            .mappings()
            .one()
        )


def test_stored_numbers_are_the_computed_ones(engine):
    with engine.connect() as conn:
        pop = conn.execute(text("SELECT population FROM pub.areas WHERE code = :c"), {"c": TAN_PHONG}).scalar_one()
    put_indicators(
        engine,
        DAY,
        **{
            TAN_PHONG: {"community_cases_7d": int(pop * 60 / 100_000) + 1, "vaccinated_18plus_1dose": 0},
            SMALL_HAMLET: {"community_cases_7d": 2},
            HAMLET: {"community_cases_7d": 23},
        },
    )
    publish(engine, "vn-4800-2021", 5)
    assert compute(engine).snapshot_version is not None
    differing, rows, stored = state(engine)
    assert rows > 1900 and differing == 0 and stored == rows, "after a recompute"
    assert shown(engine, SMALL_HAMLET)["details_suppressed"] is True
    assert shown(engine, HAMLET)["details_suppressed"] is False

    add_override(engine, HAMLET, 4, DAY, None, "khoanh vùng hẹp", "test")
    assert compute(engine).snapshot_version is not None
    assert state(engine) == (0, rows, rows), "after an override"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT overridden FROM pub.zones WHERE code = :c"), {"c": HAMLET}).scalar_one()

    before = shown(engine, HAMLET)
    assert publish(engine, "vn-4800-2021", 25).snapshot_version is not None  # 23 cases: now a small count
    assert state(engine) == (0, rows, rows), "after a publish"
    after = shown(engine, HAMLET)
    assert after["details_suppressed"] is True and after != before
    assert all(v is None for v in after["decisive"].values())

    publish(engine, "vn-4800-2021", 5)
    assert state(engine) == (0, rows, rows)
    assert shown(engine, HAMLET) == before


def test_writes_that_bypass_the_recompute_are_never_shown_stale(engine):
    """An indicator row or risk.published changed without a recompute: pub.zones computes those rows again."""
    _, rows, _ = state(engine)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE stats.indicator SET community_cases_7d = 3 WHERE day = :d AND area_code = :c"),
            {"d": DAY, "c": HAMLET},
        )
    differing, shown_rows, stored = state(engine)
    assert (differing, shown_rows, stored) == (0, rows, rows - 1)
    assert shown(engine, HAMLET)["details_suppressed"] is True
    with engine.begin() as conn:
        conn.execute(text("UPDATE risk.published SET suppress_below = 2"))
    assert state(engine) == (0, rows, 0)
    publish(engine, "vn-4800-2021", 5)  # a snapshot: stored again
    assert state(engine) == (0, rows, rows)
