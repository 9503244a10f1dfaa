"""Criterion 3 (Decision 4800) computed by care: the sub-criteria on seeded rooms and admissions (met, then failing
when the staffed beds fill up), treatment_capacity_met switching to the computed row, and a zone not lowered while
its district's staffed beds are full — the issue's "criterion 3 changes a zone when capacity runs out"."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from care_support import ADMISSIONS, FACILITIES, ROOMS, ingest, write_csv
from conftest import run_cli
from sqlalchemy import text
from support import put_indicators

from gis.care.capacity import compute_capacity, days_touched
from gis.context import AppContext
from gis.jobs import after_batch
from gis.publish.settings import PublishSettings
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones
from gis.settings import Settings
from gis.stats.indicators import compute_indicators
from gis.stats.settings import StatsSettings

TZ = "Asia/Ho_Chi_Minh"
DAY0, DAY1 = dt.date(2021, 10, 20), dt.date(2021, 10, 21)
TRANG_DAI = "25993"  # Phường Trảng Dài, Biên Hòa: the three treatment facilities
TAN_PHONG = "25996"  # Phường Tân Phong, Biên Hòa: the zone that would be lowered
BIEN_HOA = "731"


def province(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT parent_code FROM admin.area WHERE code = :c"), {"c": BIEN_HOA}).scalar_one()


def row(engine, code, day=DAY1):
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT * FROM care.capacity WHERE day = :d AND area_code = :c"), {"d": day, "c": code})
            .mappings()
            .one()
        )


def met_indicator(engine, code, day=DAY1):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT treatment_capacity_met FROM stats.indicator WHERE day = :d AND area_code = :c"),
            {"d": day, "c": code},
        ).scalar_one()


def zone_level(engine, code, day=DAY1):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT level FROM risk.zone WHERE area_code = :c AND day = :d AND ruleset_id = 'vn-4800-2021'"),
            {"c": code, "d": day},
        ).scalar_one()


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("capacity")
    # The facilities feed types in a full T1 (9 of 10 beds): today's rule alone says criterion 3 is not met.
    facilities = [
        ["T1", "Cơ sở điều trị", "Bệnh viện dã chiến số 1", 1, 10, 9, TRANG_DAI],
        ["T2", "Cơ sở điều trị", "Bệnh viện Biên Hòa", 2, 10, 9, TRANG_DAI],
        ["T3", "Cơ sở điều trị", "Bệnh viện tỉnh", 3, 10, 9, TRANG_DAI],
    ]
    rooms = [
        ["T1", "R1", "F0", "Chung", 4, 2, 1],  # 4 beds, 2 staffed: two admissions fill it
        ["T2", "R1", "F0", "Chung", 4, 4, 1],
        ["T3", "ICU", "Điều trị F0", "Chung", 2, 2, 1],
    ]
    ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities))
    ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms))
    return d


def admit(engine, d, rows, name):
    return ingest(engine, "admissions", write_csv(d / f"{name}.csv", ADMISSIONS, rows))


def indicators_and_zones(engine, days):
    compute_indicators(engine, days, StatsSettings())
    compute_zones(engine, days, load_ruleset("vn-4800-2021"), RiskSettings())


def test_sub_criteria_met_with_free_staffed_beds(engine, seeded):
    summary = compute_capacity(engine, DAY1, TZ)
    prov = row(engine, province(engine))
    assert prov["met"] is True and prov["admin_level"] == 1
    by_id = {c["id"]: c for c in prov["criteria"]}
    tiers = by_id["treatment_facilities_every_tier"]
    assert (tiers["verdict"], tiers["value"], tiers["threshold"]) == ("met", {"1": 2, "2": 4, "3": 2}, 1)
    assert by_id["icu_beds_ready_for_level4"]["verdict"] == "not_assessed"  # the file's parameter is null
    district = row(engine, BIEN_HOA)
    assert district["met"] is True and district["admin_level"] == 2
    own = [c for c in district["criteria"] if c["scope"] == "district"]
    assert {c["id"] for c in own} == {"mobile_medical_stations_plan", "oxygen_at_commune_health_stations"}
    assert all(c["verdict"] == "not_assessed" for c in own)  # no feed carries the communes' flags
    assert summary.not_met == 0 and summary.met == len(summary.areas) > 1


def test_indicator_reads_the_computed_row_and_falls_back_without_one(engine, seeded):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM care.capacity"))
    compute_indicators(engine, [DAY1], StatsSettings())
    assert met_indicator(engine, TAN_PHONG) is False  # no row: the typed-in 27 of 30 beds (≥ 90 %)
    compute_capacity(engine, DAY1, TZ)
    compute_indicators(engine, [DAY1], StatsSettings())
    assert met_indicator(engine, TAN_PHONG) is True  # the district's computed row: staffed beds free
    assert met_indicator(engine, BIEN_HOA) is True
    assert met_indicator(engine, province(engine)) is True


def test_criterion3_changes_a_zone_when_capacity_runs_out(engine, seeded):
    pop = {}
    with engine.connect() as conn:
        for code in (TAN_PHONG, BIEN_HOA):
            pop[code] = conn.execute(text("SELECT population FROM pub.areas WHERE code = :c"), {"c": code}).scalar_one()
    high = {c: {"community_cases_7d": int(p * 60 / 100_000) + 1, "vaccinated_18plus_1dose": 0} for c, p in pop.items()}
    put_indicators(engine, DAY0, **high)
    compute_zones(engine, [DAY0], load_ruleset("vn-4800-2021"), RiskSettings())
    assert zone_level(engine, TAN_PHONG, DAY0) == 3 and zone_level(engine, BIEN_HOA, DAY0) == 3
    # Capacity free on DAY1: the quiet day lowers the zone.
    compute_capacity(engine, DAY1, TZ)
    indicators_and_zones(engine, [DAY1])
    assert zone_level(engine, TAN_PHONG) == 1 and zone_level(engine, BIEN_HOA) == 1
    # Two F0 admitted to T1 on DAY1 fill its two staffed beds: tier 1 has none free, criterion 3 fails.
    admitted = admit(engine, seeded, [
        ["C1", "999000000001", "F0", "Tiếp nhận", "T1", "R1", "21/10/2021 08:00", None],
        ["C2", "999000000002", "F0", "Tiếp nhận", "T1", "R1", "21/10/2021 09:00", None],
    ], "full")  # fmt: skip
    assert admitted["accepted"] == 2
    assert days_touched(engine, "admissions", admitted["batch_id"], TZ) == [DAY1]  # to the last day computed
    summary = compute_capacity(engine, DAY1, TZ)
    district = next(a for a in summary.areas if a["area_code"] == BIEN_HOA)
    assert district["met"] is False and district["failing"] == ["treatment_facilities_every_tier"]
    tiers = next(c for c in district["criteria"] if c["id"] == "treatment_facilities_every_tier")
    assert tiers["value"]["1"] == 0 and "1: 0" in tiers["reason_en"]
    assert row(engine, BIEN_HOA)["met"] is False
    indicators_and_zones(engine, [DAY1])
    assert met_indicator(engine, TAN_PHONG) is False
    assert zone_level(engine, TAN_PHONG) == 3 and zone_level(engine, BIEN_HOA) == 3  # not lowered
    # The end of DAY0 is before the admissions: that day's criterion 3 holds.
    assert compute_capacity(engine, DAY0, TZ).not_met == 0


def test_capacity_cli_json_and_bad_ruleset(engine, seeded, db_url):
    done = run_cli("care", "capacity", "--date", str(DAY1), "--json", database_url=db_url)
    result = json.loads(done.stdout)
    assert result["day"] == str(DAY1) and result["ruleset"].startswith("vn-4800-capacity-2021")
    failing = {a["area_code"]: a["failing"] for a in result["areas"]}
    assert failing[BIEN_HOA] == ["treatment_facilities_every_tier"]
    text_out = run_cli("care", "capacity", "--date", str(DAY1), database_url=db_url).stdout
    assert "không đạt" in text_out and "treatment_facilities_every_tier" in text_out
    bad = run_cli("care", "capacity", "--date", str(DAY1), "--ruleset", "nope", database_url=db_url, check=False)
    assert bad.returncode == 2 and "unknown capacity rule file" in bad.stderr


def test_an_admissions_batch_recomputes_capacity_and_zones(engine, seeded, db_url, tmp_path):
    """gis/jobs.py after_batch: the discharges free T1's staffed beds; criterion 3 and the zones of DAY1 follow."""
    assert zone_level(engine, TAN_PHONG) == 3
    discharged = admit(engine, seeded, [
        ["C3", "999000000001", "F0", "Ra viện", "T1", "R1", "21/10/2021 20:00", None],
        ["C4", "999000000002", "F0", "Ra viện", "T1", "R1", "21/10/2021 20:30", None],
    ], "discharged")  # fmt: skip
    assert discharged["accepted"] == 2
    settings = Settings.model_validate({"DATABASE_URL": db_url, "var_dir": tmp_path})
    with AppContext(settings=settings, publish=PublishSettings(after_change=False)) as ctx:
        done = after_batch(ctx, "admissions", discharged["batch_id"])
    assert done.capacity is not None and (done.capacity.first, done.capacity.last) == (DAY1, DAY1)
    assert row(engine, BIEN_HOA)["met"] is True
    assert met_indicator(engine, TAN_PHONG) is True
    assert zone_level(engine, TAN_PHONG) == 1 and zone_level(engine, BIEN_HOA) == 1


def test_a_district_alone_is_not_met_when_none_of_its_own_parts_is_assessed(engine, seeded, tmp_path):
    shipped = Path(__file__).resolve().parents[2] / "gis" / "care" / "rulesets" / "vn-4800-capacity-2021.yml"
    own_only = tmp_path / "own-only.yml"
    own_only.write_text(
        shipped.read_text(encoding="utf-8").replace(
            "district_served_by_province:\n    value: true", "district_served_by_province:\n    value: false"
        ),
        encoding="utf-8",
    )
    summary = compute_capacity(engine, DAY1, TZ, ruleset=str(own_only))
    district = next(a for a in summary.areas if a["area_code"] == BIEN_HOA)
    assert {c["scope"] for c in district["criteria"]} == {"district"}
    assert district["met"] is False and district["failing"] == []  # nothing assessed: never met by default
    assert next(a for a in summary.areas if a["admin_level"] == 1)["met"] is True
