"""F1 quarantine orders (gis/care/quarantine.py) on real PostGIS, from stays, tests, cases and doses landed through
the real ingest: the end date by the dated rule (before and after 14 Jul 2021, a fully vaccinated F1 at home after
16 Dec 2021), overdue and lost to follow-up, a positive test in quarantine → became_f0 and exactly one transfer
request, idempotent re-runs, a withdrawn stay's order gone, the KPIs, the CLI; the rule file's loader (a bad file
names the file and the key); and the restricted layers f1-orders and transfers over HTTP."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import requests
import yaml
from care_support import ADMISSIONS, ROOMS, ingest, person_key, write_csv
from conftest import run_cli, running_server
from openpyxl import Workbook

from gis.care.f1rules import F1_RULESET_DIR, InvalidF1Rules, load_f1_rules
from gis.care.quarantine import TRANSFER_REASON, refresh_orders
from gis.care.settings import CareSettings

TZ = "Asia/Ho_Chi_Minh"
FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Mã địa bàn", "Kinh độ", "Vĩ độ"]
STAYS = ["Mã cách ly", "Số CCCD/SĐT", "Mã cơ sở cách ly", "Ngày bắt đầu", "Ngày kết thúc", "Lý do", "Mã địa bàn"]
TESTS = ["Mã mẫu", "Số CCCD/SĐT", "Ngày lấy mẫu", "Loại xét nghiệm", "Kết quả", "Mã địa bàn"]
DOSES = ["Mã mũi tiêm", "Số CCCD/CMND", "Mũi số", "Loại vắc xin", "Ngày tiêm", "Mã địa bàn"]
PEOPLE = {name: f"0790000{i:05d}" for i, name in enumerate("A B C C2 D E F G X".split())}
RULES = load_f1_rules()
SETTINGS = CareSettings()  # the stated defaults: grace 1 day, lost after 2 consecutive missed test days
LAYER_FIELDS = {
    "f1-orders": {"person_key", "facility_id", "place", "start_on", "end_on", "status", "overdue", "days_to_end"},
    "transfers": {
        "status",
        "from_facility",
        "required_tier",
        "waiting_minutes",
        "best_offer_facility",
        "best_offer_km",
    },
}


def write_xlsx(path: Path, header: list[str], rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    with engine.connect() as conn:
        commune = conn.exec_driver_sql(
            "SELECT code FROM admin.area WHERE level = 3 AND valid_to IS NULL ORDER BY code LIMIT 1"
        ).scalar_one()
    d = tmp_path_factory.mktemp("f1")
    facilities = [
        ["CL", "Khu cách ly tập trung", "Khu cách ly KTX", None, 200, commune, 106.85, 10.95],
        ["T1", "Cơ sở điều trị", "Cơ sở thu dung tầng 1", 1, 50, commune, 106.90, 10.96],
    ]
    rooms = [["CL", "Q1", "F1", "Chung", 50, 50, 1], ["T1", "R1", "F0", "Chung", 20, 20, 1]]
    p = PEOPLE
    stays = [
        ["S-A", p["A"], "CL", "01/07/2021", "21/07/2021", "F1", commune],  # before 5599: 21 days
        ["S-B", p["B"], "CL", "20/07/2021", None, "F1", commune],  # after 5599: 14 days
        ["S-C", p["C"], None, "20/12/2021", None, "F1", commune],  # home, fully vaccinated: 10696's 7 days
        ["S-C2", p["C2"], None, "20/12/2021", None, "F1", commune],  # home, not vaccinated: 5599's 14 days
        ["S-D", p["D"], None, "01/08/2021", None, "F1", commune],  # home: tested day 1 only → overdue
        ["S-E", p["E"], None, "01/08/2021", None, "F1", commune],  # home: never tested → lost
        ["S-F", p["F"], "CL", "01/08/2021", None, "F1", commune],  # centralised: positive on 5 Aug → F0
        ["S-G", p["G"], None, "08/08/2021", None, "F1", commune],  # home: withdrawn at the end
        ["S-X", p["X"], "CL", "01/08/2021", None, "Nhập cảnh", commune],  # an arrival: no F1 order
    ]
    tests = [
        ["T-D1", p["D"], "01/08/2021 09:00", "RT-PCR", "Âm tính", commune],
        ["T-F1", p["F"], "01/08/2021 09:00", "RT-PCR", "Âm tính", commune],
        ["T-F5", p["F"], "05/08/2021 09:00", "Test nhanh", "Dương tính", commune],
        ["T-C1", p["C"], "20/12/2021 09:00", "Test nhanh", "Âm tính", commune],
    ]
    doses = [["V-C1", p["C"], 1, "Pfizer", "01/09/2021", commune], ["V-C2", p["C"], 2, "Pfizer", "01/10/2021", commune]]
    admissions = [["AD-F", p["F"], "F1", "Tiếp nhận", "CL", "Q1", "01/08/2021 10:00", None]]
    ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities))
    ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms))
    assert ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, admissions))["rejected"] == 0
    assert ingest(engine, "quarantine", write_csv(d / "stays.csv", STAYS, stays))["rejected"] == 0
    landed = ingest(engine, "tests", write_csv(d / "tests.csv", TESTS, tests))
    assert landed["rejected"] == 0, json.dumps(landed, default=str)[:3000]
    assert ingest(engine, "vaccinations", write_xlsx(d / "doses.xlsx", DOSES, doses))["rejected"] == 0
    return engine


def orders(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM care.f1_order ORDER BY order_id").mappings().all()
    return {r["stay_id"]: dict(r) for r in rows}


def requests_of(engine, raw: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT * FROM care.transfer_request WHERE person_key = %(k)s", {"k": person_key(raw)}
        ).mappings()
        return [dict(r) for r in rows]


def refresh(engine, day: dt.date):
    return refresh_orders(engine, SETTINGS, RULES, day, TZ)


def test_end_dates_by_the_dated_rule(seeded):
    refresh(seeded, dt.date(2021, 8, 9))
    o = orders(seeded)
    assert "S-X" not in o  # an arrival's stay is not an F1 order
    assert (o["S-A"]["rule_id"], o["S-A"]["place"], o["S-A"]["end_on"]) == (
        "f1-centralised-21d-2021-05-05",
        "centralised",
        dt.date(2021, 7, 21),
    )
    assert (o["S-B"]["rule_id"], o["S-B"]["end_on"], o["S-B"]["monitor_until"]) == (
        "f1-centralised-14d-5599",
        dt.date(2021, 8, 2),
        dt.date(2021, 8, 16),
    )
    c, c2 = o["S-C"], o["S-C2"]
    assert (c["vaccination"], c["rule_id"], c["place"]) == ("full", "f1-full-home-7d-10696", "home")
    assert (c["end_on"], c["monitor_until"]) == (dt.date(2021, 12, 26), dt.date(2022, 1, 2))
    assert c["test_days"] == [dt.date(2021, 12, 20), dt.date(2021, 12, 26)]
    assert (c2["vaccination"], c2["rule_id"], c2["end_on"]) == (
        "not_full",
        "f1-home-14d-5599-pilot",
        dt.date(2022, 1, 2),
    )
    assert c2["test_days"] == [dt.date(2021, 12, 20), dt.date(2021, 12, 26), dt.date(2022, 1, 2)]
    assert o["S-A"]["vaccination"] == "not_assessed"  # no text distinguished F1 by vaccination before 16 Dec 2021
    assert all(r["person_key"] != PEOPLE["A"] for r in o.values())  # keys only


def test_overdue_and_lost(seeded):
    refresh(seeded, dt.date(2021, 8, 9))
    o = orders(seeded)
    d, e, g = o["S-D"], o["S-E"], o["S-G"]
    assert (d["status"], d["overdue"], d["missed_days"]) == ("active", True, [dt.date(2021, 8, 7)])
    assert (e["status"], e["missed_days"]) == ("lost", [dt.date(2021, 8, 1), dt.date(2021, 8, 7)])
    assert (g["status"], g["overdue"]) == ("active", False)  # its day-1 test is still within the grace
    with seeded.connect() as conn:
        days = conn.exec_driver_sql(
            "SELECT due_on, status, sample_id FROM care.f1_test_day WHERE order_id = 'Q-S-D' ORDER BY due_on"
        ).all()
    assert [tuple(r) for r in days] == [
        (dt.date(2021, 8, 1), "tested", "T-D1"),
        (dt.date(2021, 8, 7), "missed", None),
        (dt.date(2021, 8, 14), "upcoming", None),
    ]
    refresh(seeded, dt.date(2021, 8, 8))  # the day after D's day-7 test: still within the grace
    assert (orders(seeded)["S-D"]["status"], orders(seeded)["S-D"]["overdue"]) == ("active", False)


def test_positive_in_quarantine_becomes_f0_with_one_transfer(seeded):
    summary = refresh(seeded, dt.date(2021, 8, 9))
    f = orders(seeded)["S-F"]
    assert (f["status"], f["became_f0_on"], f["f0_evidence"]) == ("became_f0", dt.date(2021, 8, 5), "test:T-F5")
    live = requests_of(seeded, PEOPLE["F"])
    assert len(live) == 1
    assert (live[0]["from_facility"], live[0]["required_tier"], live[0]["reason"]) == ("CL", 1, TRANSFER_REASON)
    assert f["transfer_request_id"] == live[0]["request_id"]
    again = refresh(seeded, dt.date(2021, 8, 10))
    assert again.transfers_requested == 0 and len(requests_of(seeded, PEOPLE["F"])) == 1
    assert summary.became_f0 == 1
    refresh(seeded, dt.date(2021, 8, 4))  # before the positive test: not F0 on that day
    assert orders(seeded)["S-F"]["status"] == "active"
    assert orders(seeded)["S-F"]["transfer_request_id"] == live[0]["request_id"]  # the request stays recorded


def test_rerun_is_idempotent(seeded):
    refresh(seeded, dt.date(2021, 8, 9))
    first = orders(seeded)
    with seeded.connect() as conn:
        days_first = conn.exec_driver_sql("SELECT * FROM care.f1_test_day ORDER BY order_id, due_on").all()
    refresh(seeded, dt.date(2021, 8, 9))
    second = orders(seeded)
    with seeded.connect() as conn:
        days_second = conn.exec_driver_sql("SELECT * FROM care.f1_test_day ORDER BY order_id, due_on").all()
    strip = {k: {c: v for c, v in r.items() if c != "derived_at"} for k, r in first.items()}
    assert strip == {k: {c: v for c, v in r.items() if c != "derived_at"} for k, r in second.items()}
    assert days_first == days_second and len(days_first) == 14  # 2 of C, 3 each of C2, D, E, G; none centralised


def test_kpis(seeded):
    s = refresh(seeded, dt.date(2021, 8, 9))
    assert (s.orders, s.active, s.completed, s.became_f0, s.overdue, s.lost) == (8, 4, 2, 1, 1, 1)
    # in force on 9 Aug: D (overdue), E (lost), G (followed up) → 1/3; started by then: A B D E F G → 1 lost of 6
    assert (s.under_follow_up_share, s.lost_share) == (0.333, 0.167)
    assert s.without_rule == 0 and s.seconds >= 0


def test_cli_json(seeded, db_url):
    out = run_cli("care", "f1-orders", "--day", "2021-08-09", "--json", database_url=db_url).stdout
    data = json.loads(out)
    assert (data["day"], data["orders"], data["lost"], data["overdue"]) == ("2021-08-09", 8, 1, 1)
    statuses = {a["order_id"]: a["status"] for a in data["attention"]}
    assert statuses == {"Q-S-F": "became_f0", "Q-S-E": "lost", "Q-S-D": "active"}
    text = run_cli("care", "f1-orders", "--day", "2021-08-09", database_url=db_url).stdout
    assert "Q-S-E" in text and "lost" in text


@pytest.fixture(scope="module")
def served(seeded, db_url, tmp_path_factory):
    refresh(seeded, dt.date(2021, 8, 9))
    with running_server(db_url, tmp_path_factory.mktemp("f1-var")) as base:
        yield base


def test_layers_restricted_by_role(served, db_url):
    tokens = {
        role: run_cli("users", "add", f"f1-{role}", "--role", role, database_url=db_url).stdout.strip()
        for role in ("coordinator", "analyst", "committee", "tracer", "hotline")
    }
    allowed = {
        "f1-orders": {"coordinator", "analyst", "committee", "tracer"},
        "transfers": {"coordinator", "analyst", "committee"},
    }
    for cid, roles in allowed.items():
        url = f"{served}/collections/{cid}/items?f=json&limit=100"
        assert requests.get(url, timeout=30).status_code == 401, cid
        for role, token in tokens.items():
            resp = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            assert resp.status_code == (200 if role in roles else 403), (cid, role, resp.status_code)


def test_f1_orders_layer_rows_and_fields(served, db_url):
    token = run_cli("users", "add", "f1-coord", "--role", "coordinator", database_url=db_url).stdout.strip()
    resp = requests.get(
        f"{served}/collections/f1-orders/items?f=json&limit=100",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    features = {f["id"]: f for f in resp.json()["features"]}
    assert set(features) == {f"Q-S-{n}" for n in ("A", "B", "C", "C2", "D", "E", "F", "G")}
    for f in features.values():
        assert set(f["properties"]) == LAYER_FIELDS["f1-orders"], f["properties"]
    e, f_ = features["Q-S-E"]["properties"], features["Q-S-F"]["properties"]
    assert (e["status"], e["overdue"], e["place"], e["facility_id"], e["days_to_end"]) == (
        "lost",
        True,
        "home",
        None,
        5,
    )
    assert (f_["status"], f_["facility_id"], f_["place"]) == ("became_f0", "CL", "centralised")
    assert features["Q-S-F"]["geometry"]["coordinates"] == [106.85, 10.95]  # the facility's point
    assert features["Q-S-E"]["geometry"]["type"] == "Point"  # a point in the commune, not the home
    assert e["person_key"] == person_key(PEOPLE["E"])
    assert not any(s in resp.text for s in ("T-F5", "test:", "monitor_until"))  # no sample id, evidence, other field


def test_transfers_layer_rows_and_fields(served, seeded, db_url):
    with seeded.begin() as conn:  # requested 30 minutes ago
        conn.exec_driver_sql("UPDATE care.transfer_request SET requested_at = now() - interval '30 minutes 10 seconds'")
    token = run_cli("users", "add", "f1-coord2", "--role", "coordinator", database_url=db_url).stdout.strip()
    resp = requests.get(
        f"{served}/collections/transfers/items?f=json&limit=100",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    [feature] = resp.json()["features"]
    props = feature["properties"]
    assert set(props) == LAYER_FIELDS["transfers"]
    assert (props["status"], props["from_facility"], props["required_tier"], props["best_offer_facility"]) == (
        "open",
        "CL",
        1,
        "T1",
    )
    assert 5 < props["best_offer_km"] < 6.5 and props["waiting_minutes"] in (30, 31)  # 0.05° of longitude, great-circle
    assert feature["geometry"] == {"type": "LineString", "coordinates": [[106.85, 10.95], [106.9, 10.96]]}
    assert person_key(PEOPLE["F"]) not in resp.text and TRANSFER_REASON not in resp.text


def test_withdrawn_stay_withdraws_its_order(seeded):
    refresh(seeded, dt.date(2021, 8, 9))
    assert "S-G" in orders(seeded)
    with seeded.begin() as conn:  # the register's correction: the stay is gone
        conn.exec_driver_sql("DELETE FROM events.quarantine_stays WHERE stay_id = 'S-G'")
    summary = refresh(seeded, dt.date(2021, 8, 9))
    assert "S-G" not in orders(seeded) and summary.orders == 7
    with seeded.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM care.f1_test_day WHERE order_id = 'Q-S-G'").scalar() == 0


def test_shipped_rule_file_loads():
    assert RULES.id == "vn-f1-quarantine-2021" and len(RULES.rows) == 10


def test_a_bad_rule_file_names_the_file_and_the_key(tmp_path):
    data = yaml.safe_load((F1_RULESET_DIR / "vn-f1-quarantine-2021.yml").read_text(encoding="utf-8"))
    data["rows"][1]["source"] = "no_such_text"
    data["rows"][2]["dayz"] = 14
    data["rows"][3]["test_days"] = [1, 7, 20]
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidF1Rules) as error:
        load_f1_rules(str(path))
    message = str(error.value)
    assert str(path) in message
    assert "rows.2.dayz: unknown key" in message
    data["rows"][2].pop("dayz")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidF1Rules) as error:
        load_f1_rules(str(path))
    message = str(error.value)
    assert "rows.1.source: 'no_such_text' is not an instrument" in message
    assert "rows.3.test_days.2: day 20 is outside 1..14" in message
