"""Logistics (issue 13 items 1 and 7): the support_teams, meal_contracts and waste_contracts feeds through the real
ingest (good rows land, bad rows rejected with file, row and reason), and the forecast of a seeded facility —
people held flat at the end of D, meals, cost, waste and staff per bed by the capacity rule file's values — with an
alert when a contract is too small or missing, none when it suffices, and `covidgis care logistics --json`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from care_support import ADMISSIONS, FACILITIES, ROOMS, ingest, write_csv
from conftest import run_cli
from sqlalchemy import text

from gis.care.logistics import forecast

TZ = "Asia/Ho_Chi_Minh"
TEAMS = ["Mã đội", "Mã cơ sở", "Vai trò", "Số người", "Từ ngày", "Đến ngày"]
MEALS = ["Số hợp đồng", "Mã cơ sở", "Nhà cung cấp", "Số suất ăn/ngày", "Đơn giá (đồng/suất)", "Từ ngày", "Đến ngày"]
WASTE = ["Số hợp đồng", "Mã cơ sở", "Đơn vị thu gom", "Khối lượng (kg/ngày)", "Từ ngày", "Đến ngày"]
DAY = dt.date(2021, 8, 4)  # people at the end of 4 Aug, held flat over 5–7 Aug


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("care-logistics")
    facilities = [
        ["T1", "Cơ sở điều trị", "Bệnh viện dã chiến số 1", 1, 10, None, "25993"],
        ["Q1", "Khu cách ly tập trung", "Ký túc xá", None, 10, None, "25996"],
    ]
    rooms = [["T1", "R1", "F0", "Chung", 10, 8, 1], ["Q1", "A", "F1", "Chung", 10, 10, 1]]
    admissions = [
        ["L1", "999000000301", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 08:00", None],
        ["L2", "999000000302", "F0", "Tiếp nhận", "T1", "R1", "01/08/2021 09:00", None],
        ["L3", "999000000303", "F0", "Tiếp nhận", "T1", "R1", "02/08/2021 10:00", None],
        ["L4", "999000000304", "F0", "Tiếp nhận", "T1", "R1", "02/08/2021 11:00", None],
        ["L5", "999000000304", "F0", "Ra viện", "T1", "R1", "03/08/2021 11:00", None],
        ["L6", "999000000305", "F1", "Tiếp nhận", "Q1", "A", "02/08/2021 12:00", None],
        ["L7", "999000000306", "F1", "Tiếp nhận", "Q1", "A", "03/08/2021 12:00", None],
        ["L8", "999000000307", "F0", "Tiếp nhận", "T1", "R1", "05/08/2021 08:00", None],  # after D: not counted
    ]
    teams = [
        ["TM1", "T1", "Y tế", 4, "01/08/2021", None],
        ["TL1", "T1", "Hậu cần", 2, "01/08/2021", "05/08/2021"],  # row 3: ends on the first forecast day
        ["TX1", "T1", "Đầu bếp", 3, "01/08/2021", None],  # row 4: a role not in the list
        ["TX2", "T1", "Bảo vệ", -1, "01/08/2021", None],  # row 5: negative headcount
        ["TX3", "T1", "Tình nguyện viên", 5, "10/08/2021", "01/08/2021"],  # row 6: from after to
    ]
    meals = [
        ["MC1", "T1", "Công ty Suất ăn A", 6, 25000, "01/08/2021", None],
        ["MC2", "T1", "Bếp ăn <b>B</b>", 6, 26000, "01/08/2021", "05/08/2021"],  # 12 on 5 Aug, 6 after
        ["MQ1", "Q1", "Công ty C", 10, 27000, "2021-08-01", "2021-08-31"],
        ["MX1", "T1", "D", -5, 25000, "01/08/2021", None],  # row 5: negative meals a day
        ["MX2", "T1", "Đ" * 201, 5, 25000, "01/08/2021", None],  # row 6: a supplier's name too long
        ["MX3", "T1", "E", 5, 25000, "31/08/2021", "01/08/2021"],  # row 7: from after to
    ]
    waste = [
        ["W1", "T1", "URENCO Đồng Nai", "10", "01/08/2021", None],
        ["WX1", "Q1", "X", "-2,5", "01/08/2021", None],  # row 3: negative kilograms (a decimal comma)
        ["WX2", "Q1", "Y", "nhiều", "01/08/2021", None],  # row 4: not a number
    ]
    return {
        "facilities": ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities)),
        "rooms": ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms)),
        "admissions": ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, admissions)),
        "support_teams": ingest(engine, "support_teams", write_csv(d / "teams.csv", TEAMS, teams)),
        "meal_contracts": ingest(engine, "meal_contracts", write_csv(d / "meals.csv", MEALS, meals)),
        "waste_contracts": ingest(engine, "waste_contracts", write_csv(d / "waste.csv", WASTE, waste)),
    }


def _rejects(engine, batch_id: int) -> list[tuple]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT file_name, row_number, field, reason, message FROM ingest.reject "
                    "WHERE batch_id = :b ORDER BY row_number"
                ),
                {"b": batch_id},
            )
        ]


def test_good_rows_land_and_bad_rows_are_rejected_with_file_row_and_reason(engine, seeded):
    teams, meals, waste = seeded["support_teams"], seeded["meal_contracts"], seeded["waste_contracts"]
    assert (teams["accepted"], teams["rejected"]) == (2, 3)
    assert (meals["accepted"], meals["rejected"]) == (3, 3)
    assert (waste["accepted"], waste["rejected"]) == (1, 2)
    assert "feed_checks" in meals["phases"]
    rows = _rejects(engine, teams["batch_id"])
    assert [r[:4] for r in rows] == [
        ("teams.csv", 4, "role", "outside_vocabulary"),
        ("teams.csv", 5, "headcount", "out_of_range"),
        ("teams.csv", 6, "to_on", "period_reversed"),
    ]
    assert "from_on 2021-08-10 is after to_on 2021-08-01" in rows[2][4] and "Từ ngày 10/08/2021" in rows[2][4]
    rows = _rejects(engine, meals["batch_id"])
    assert [r[:4] for r in rows] == [
        ("meals.csv", 5, "meals_per_day", "out_of_range"),
        ("meals.csv", 6, "supplier", "value_too_long"),
        ("meals.csv", 7, "to_on", "period_reversed"),
    ]
    assert "201 characters; at most 200" in rows[1][4]
    rows = _rejects(engine, waste["batch_id"])
    assert [r[:4] for r in rows] == [
        ("waste.csv", 3, "kg_per_day", "out_of_range"),
        ("waste.csv", 4, "kg_per_day", "not_a_number"),
    ]
    assert "kg_per_day -2.5 is negative" in rows[0][4]
    with engine.connect() as conn:
        stored = {
            t: conn.execute(text(f"SELECT string_agg({k}, ',' ORDER BY {k}) FROM events.{t}")).scalar()
            for t, k in (
                ("support_teams", "team_id"),
                ("meal_contracts", "contract_id"),
                ("waste_contracts", "contract_id"),
            )
        }
        supplier, area = conn.execute(
            text("SELECT supplier, commune_code FROM events.meal_contracts WHERE contract_id = 'MC2'")
        ).one()
        to_on = conn.execute(text("SELECT to_on FROM events.support_teams WHERE team_id = 'TL1'")).scalar()
    assert stored == {"support_teams": "TL1,TM1", "meal_contracts": "MC1,MC2,MQ1", "waste_contracts": "W1"}
    assert supplier == "Bếp ăn <b>B</b>" and area == "25993"  # stored as written; located through its facility
    assert to_on == dt.date(2021, 8, 5)


def test_the_forecast_of_a_seeded_facility(engine, seeded):
    result = forecast(engine, DAY, TZ)
    assert (result.first_day, result.last_day, result.days) == (dt.date(2021, 8, 5), dt.date(2021, 8, 7), 3)
    assert "held flat" in result.assumption["en"] and "giữ nguyên" in result.assumption["vi"]
    assert {k: (r["key"], r["value"], r["status"]) for k, r in result.rules.items()} == {
        "meals_per_person_day": ("logistics.meals_per_person_day", 3, "open"),
        "meal_price_vnd_per_person_day": ("logistics.meal_price_vnd_per_person_day", 80000, "confirmed"),
        "waste_kg_per_person_day": ("logistics.waste_kg_per_person_day", 2.46, "open"),
        "staff_per_bed": ("logistics.staff_per_bed", None, "open"),
    }
    assert result.rules["meal_price_vnd_per_person_day"]["citation"]["number"] == "16/NQ-CP"
    assert result.cites["meals_needed"] == "logistics.meals_per_person_day"
    assert result.cites["waste_kg"] == "logistics.waste_kg_per_person_day"
    facilities = {f["facility_id"]: f for f in result.facilities}
    t1 = facilities["T1"]
    assert (t1["people"], t1["staffed_beds"]) == (3, 8)  # 4 admitted, 1 discharged by 4 Aug; the 5 Aug admit not
    figures = [
        (d["day"], d["people"], d["meals_needed"], d["meals_contracted"], d["cost_vnd"], d["waste_kg"])
        for d in t1["forecast"]
    ]
    assert figures == [
        (dt.date(2021, 8, 5), 3, 9, 12, 240000, 7.38),
        (dt.date(2021, 8, 6), 3, 9, 6, 240000, 7.38),
        (dt.date(2021, 8, 7), 3, 9, 6, 240000, 7.38),
    ]
    assert [(d["headcount"], d["staff_per_bed"]) for d in t1["forecast"]] == [(6, 0.75), (4, 0.5), (4, 0.5)]
    assert t1["forecast"][0]["headcount_by_role"] == {"medical": 4, "security": 0, "logistics": 2, "volunteer": 0}
    assert [c["contract_id"] for c in t1["forecast"][0]["meal_contracts"]] == ["MC1", "MC2"]
    assert (t1["total_meals_needed"], t1["total_cost_vnd"], t1["total_waste_kg"]) == (27, 720000, 22.14)
    q1 = facilities["Q1"]
    assert [(d["people"], d["meals_needed"], d["meals_contracted"], d["waste_kg"]) for d in q1["forecast"]] == [
        (2, 6, 10, 4.92)
    ] * 3


def test_alerts_when_a_contract_is_too_small_or_missing_and_none_when_it_suffices(engine, seeded):
    result = forecast(engine, DAY, TZ)
    alerts = {(a["facility_id"], a["alert"]): a for a in result.alerts}
    assert set(alerts) == {("T1", "meals_over_contract"), ("Q1", "no_waste_contract"), ("Q1", "no_support_team")}
    meals = alerts[("T1", "meals_over_contract")]
    # 12 meals on 5 Aug suffice (MC1 + MC2); from 6 Aug MC1's 6 alone do not
    assert meals["days"] == [dt.date(2021, 8, 6), dt.date(2021, 8, 7)]
    assert (meals["needed"], meals["contracted"], meals["shortfall"]) == (9, 6, 3)
    assert meals["rule"] == "logistics.meals_per_person_day"
    assert meals["reason_vi"].startswith("Cần 9 suất ăn/ngày (3 người × 3)") and "thiếu 3" in meals["reason_vi"]
    assert "the active contracts deliver 6, 3 short (on 06/08/2021, 07/08/2021)" in meals["reason_en"]
    assert "no active waste collection contract" in alerts[("Q1", "no_waste_contract")]["reason_en"]
    assert "không có đội hỗ trợ" in alerts[("Q1", "no_support_team")]["reason_vi"]
    # one day only, on which MC1 + MC2 cover T1: no meal alert; W1's 10 kg cover 7.38 kg: never a waste alert
    one_day = forecast(engine, DAY, TZ, days=1, facility="T1")
    assert [f["facility_id"] for f in one_day.facilities] == ["T1"] and one_day.alerts == []
    # a bigger contract the day after suffices for the whole window
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO events.meal_contracts (contract_id, facility_id, supplier, meals_per_day, from_on, "
                "batch_id, row_hash) VALUES ('MC9', 'T1', 'F', 3, '2021-08-06', 0, 'test')"
            )
        )
    try:
        assert [a["alert"] for a in forecast(engine, DAY, TZ, facility="T1").alerts] == []
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM events.meal_contracts WHERE contract_id = 'MC9'"))


def test_the_cli_prints_the_forecast_as_json_and_exits_2_on_bad_input(db_url, seeded):
    proc = run_cli("care", "logistics", "--date", "2021-08-04", "--json", database_url=db_url)
    out = json.loads(proc.stdout)
    assert (out["date"], out["first_day"], out["last_day"]) == ("2021-08-04", "2021-08-05", "2021-08-07")
    assert out["people_as_of"].startswith("2021-08-05T00:00:00")
    assert {(a["facility_id"], a["alert"]) for a in out["alerts"]} == {
        ("T1", "meals_over_contract"),
        ("Q1", "no_waste_contract"),
        ("Q1", "no_support_team"),
    }
    t1 = next(f for f in out["facilities"] if f["facility_id"] == "T1")
    assert (t1["forecast"][1]["day"], t1["forecast"][1]["meals_needed"]) == ("2021-08-06", 9)
    supplier = next(c for c in t1["forecast"][0]["meal_contracts"] if c["contract_id"] == "MC2")["supplier"]
    assert supplier == "Bếp ăn <b>B</b>"  # JSON carries the text as stored; pages escape it
    two = json.loads(
        run_cli(
            "care",
            "logistics",
            "--date",
            "2021-08-04",
            "--days",
            "5",
            "--facility",
            "Q1",
            "--json",
            database_url=db_url,
        ).stdout
    )
    assert [len(f["forecast"]) for f in two["facilities"]] == [5] and two["facility"] == "Q1"
    text_out = run_cli("care", "logistics", "--date", "2021-08-04", database_url=db_url).stdout
    assert "meals_over_contract" in text_out and "logistics.meals_per_person_day = 3 (open)" in text_out
    for bad, message in (
        (["--days", "0"], "--days must be 1 to 90"),
        (["--facility", "NOPE"], "unknown facility 'NOPE'"),
    ):
        proc = run_cli("care", "logistics", "--date", "2021-08-04", *bad, database_url=db_url, check=False)
        assert proc.returncode == 2 and message in proc.stderr, (bad, proc.stderr)
    proc = run_cli("care", "logistics", "--date", "04/08/2021", database_url=db_url, check=False)
    assert proc.returncode == 2
