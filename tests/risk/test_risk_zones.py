"""Zones from stored indicators on the real Đồng Nai areas: 4800 bands and capacity, 2686 adjacency and roll-up,
overrides, the snapshot version, and `covidgis zones show`."""

import datetime as dt

import pandas as pd
import pytest
from conftest import run_cli
from sqlalchemy import text
from support import put_indicators

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones, connected_groups, ensure_adjacency

DAY = dt.date(2021, 10, 20)
TAN_PHONG = "25996"  # Phường Tân Phong, Biên Hòa


def zone(engine, code, day=DAY, ruleset="vn-4800-2021"):
    with engine.connect() as conn:
        return (
            conn.execute(
                text("SELECT * FROM risk.zone WHERE area_code = :c AND day = :d AND ruleset_id = :r"),
                {"c": code, "d": day, "r": ruleset},
            )
            .mappings()
            .one()
        )


def snapshot(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT version FROM risk.snapshot")).scalar_one()


def population(engine, code):
    with engine.connect() as conn:
        return conn.execute(text("SELECT population FROM pub.areas WHERE code = :c"), {"c": code}).scalar_one()


def compute(engine, days, ruleset="vn-4800-2021"):
    return compute_zones(engine, days, load_ruleset(ruleset), RiskSettings())


def test_4800_every_area_gets_a_zone_with_reasons(engine):
    pop = population(engine, TAN_PHONG)
    cases = int(pop * 60 / 100_000) + 1  # just over 60 per 100k: band 3 (50 ≤ x < 150)
    put_indicators(engine, DAY, **{TAN_PHONG: {"community_cases_7d": cases, "vaccinated_18plus_1dose": 0}})
    before = snapshot(engine)
    summary = compute(engine, [DAY])
    with engine.connect() as conn:
        areas = conn.execute(text("SELECT count(*) FROM pub.areas")).scalar_one()
    assert summary.zones == areas
    assert snapshot(engine) == before + 1
    hot = zone(engine, TAN_PHONG)
    assert (hot["level"], hot["colour"]) == (3, "orange")  # low coverage: band = level
    assert any("community_cases_7d" in r for r in hot["reasons"])
    assert "previous_level" in hot["inputs"]  # derived inputs are stored; indicators stay in stats.indicator
    quiet = zone(engine, "26008")
    assert (quiet["level"], quiet["colour"]) == (1, "green")
    # The district and province are assessed on their own totals (Decision 4800), not by roll-up.
    assert zone(engine, "731")["admin_level"] == 2


def test_recomputing_unchanged_inputs_keeps_the_snapshot(engine):
    before = snapshot(engine)
    summary = compute(engine, [DAY])
    assert summary.changed == 0
    assert snapshot(engine) == before


def test_level_not_lowered_while_capacity_is_not_met(engine):
    next_day = DAY + dt.timedelta(days=1)
    put_indicators(engine, next_day, **{TAN_PHONG: {"treatment_capacity_met": False}})
    compute(engine, [next_day])
    held = zone(engine, TAN_PHONG, next_day)
    assert held["level"] == 3 and held["computed_level"] == 3
    put_indicators(engine, next_day)  # capacity met again: the level may fall
    compute(engine, [next_day])
    assert zone(engine, TAN_PHONG, next_day)["level"] == 1


def test_override_wins_and_keeps_the_computed_level(engine, db_url):
    run_cli(
        "zones",
        "override",
        "--area",
        TAN_PHONG,
        "--level",
        "4",
        "--from",
        str(DAY),
        "--to",
        str(DAY),
        "--reason",
        "Ổ dịch tại chợ Tân Phong",
        "--author",
        "BCĐ tỉnh",
        database_url=db_url,
    )
    before = snapshot(engine)
    compute(engine, [DAY])
    z = zone(engine, TAN_PHONG)
    assert (z["level"], z["colour"], z["computed_level"]) == (4, "red", 3)
    assert any("Ổ dịch tại chợ Tân Phong" in r for r in z["reasons"])
    assert snapshot(engine) == before + 1


def test_zones_show_prints_vietnamese_names(db_url):
    out = run_cli("zones", "show", "--date", str(DAY), "--level", "commune", database_url=db_url).stdout
    assert "Phường Tân Phong" in out and "red" in out


@pytest.fixture(scope="module")
def neighbours(engine):
    ensure_adjacency(engine, RiskSettings().adjacency_tolerance_m)
    with engine.connect() as conn:
        return set(
            conn.execute(text("SELECT neighbour_code FROM risk.adjacency WHERE code = :c"), {"c": TAN_PHONG}).scalars()
        )


def test_2686_red_commune_turns_its_neighbours_orange(engine, neighbours):
    assert neighbours, "Tân Phong has neighbouring wards"
    put_indicators(engine, DAY, **{TAN_PHONG: {"hard_to_trace_cases_14d": 1}})
    compute(engine, [DAY], "vn-2686-2021")
    assert zone(engine, TAN_PHONG, ruleset="vn-2686-2021")["colour"] == "red"
    for code in neighbours:
        z = zone(engine, code, ruleset="vn-2686-2021")
        assert z["colour"] == "orange", (code, z["reasons"])
        assert z["inputs"]["adjacent_max_level"] == 4
    with engine.connect() as conn:
        second_ring = (
            conn.execute(
                text("""
            SELECT DISTINCT z.colour FROM risk.adjacency a JOIN risk.zone z ON z.area_code = a.neighbour_code
            WHERE a.code = ANY(:n) AND a.neighbour_code <> :c AND NOT a.neighbour_code = ANY(:n)
              AND z.day = :d AND z.ruleset_id = 'vn-2686-2021'"""),
                {"n": list(neighbours), "c": TAN_PHONG, "d": DAY},
            )
            .scalars()
            .all()
        )
    assert set(second_ring) == {"yellow"}  # adjoining an orange commune → risk


def test_2686_district_rolls_up_from_scattered_red_communes(engine, neighbours):
    with engine.connect() as conn:
        codes = (
            conn.execute(text("SELECT code FROM pub.areas WHERE parent_code = '731' AND level = 3 ORDER BY code"))
            .scalars()
            .all()
        )
        pairs = conn.execute(text("SELECT code, neighbour_code FROM risk.adjacency")).all()
    links = pd.DataFrame(pairs, columns=["code", "neighbour_code"])
    scattered = [codes[0]]  # grow a red set that stays in at least two separate groups, up to 30 %
    for code in codes[1:]:
        if len(scattered) >= 0.3 * len(codes):
            break
        if connected_groups(scattered + [code], links) >= 2:
            scattered.append(code)
    assert len(scattered) >= 0.3 * len(codes) and connected_groups(scattered, links) >= 2
    put_indicators(engine, DAY, **{c: {"hard_to_trace_cases_14d": 2} for c in scattered})
    compute(engine, [DAY], "vn-2686-2021")
    district = zone(engine, "731", ruleset="vn-2686-2021")
    assert district["inputs"]["child_count"] == len(codes)
    assert district["inputs"]["child_count_level_4"] == len(scattered)
    assert district["inputs"]["children_level_4_scattered"] == 1
    assert district["colour"] == "red"
    quiet_district = zone(engine, "734", ruleset="vn-2686-2021")  # Tân Phú, far away
    assert quiet_district["inputs"]["child_count_level_4"] == 0
    assert quiet_district["colour"] == "green"


def test_2686_connected_red_block_is_not_scattered(engine):
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT code FROM pub.areas WHERE parent_code = '731' AND level = 3")).scalars().all()
    put_indicators(engine, DAY, **{c: {"hard_to_trace_cases_14d": 2} for c in codes})
    compute(engine, [DAY], "vn-2686-2021")
    district = zone(engine, "731", ruleset="vn-2686-2021")
    assert district["inputs"]["child_count_level_4"] == len(codes)
    assert district["inputs"]["children_level_4_scattered"] == 0
    assert district["colour"] != "red"  # 2686 asks for ≥30 % very-high communes *scattered* (setting require_scattered)
