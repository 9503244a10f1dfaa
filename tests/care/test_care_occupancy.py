"""Occupancy is the replay of admissions: per room, facility, tier and commune, at the end of any past day and live,
on a seeded history of admits, moves, transfers out, discharges and a death, ingested through the real feeds."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from care_support import ADMISSIONS, FACILITIES, ROOMS, ingest, person_key, write_csv
from conftest import run_cli
from sqlalchemy import text

from gis.care.occupancy import end_of_day, occupancy

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNE_T = "25993"  # Phường Trảng Dài (Biên Hòa): the two treatment facilities
COMMUNE_Q = "25996"  # Phường Tân Phong: the quarantine facility

# (event_id, person, role, event, facility, room, local time)
HISTORY = [
    ("E01", "001", "f0", "Tiếp nhận", "T1", "R1", "01/08/2021 08:00"),
    ("E02", "001", "f0", "Chuyển phòng", "T1", "R2", "03/08/2021 10:00"),
    ("E03", "001", "f0", "Chuyển viện", "T1", "R2", "05/08/2021 09:00"),
    ("E04", "001", "f0", "Tiếp nhận", "T2", "ICU", "05/08/2021 09:00"),  # same instant: out, then in
    ("E05", "001", "f0", "Tử vong", "T2", "ICU", "09/08/2021 04:00"),
    ("E06", "002", "f0", "Tiếp nhận", "T1", "R1", "02/08/2021 14:00"),
    ("E07", "002", "f0", "Ra viện", "T1", "R1", "06/08/2021 10:00"),
    ("E08", "003", "f1", "Tiếp nhận", "Q1", "A", "01/08/2021 20:00"),
    ("E09", "003", "f1", "Chuyển đi", "Q1", "A", "04/08/2021 07:00"),
    ("E10", "003", "f0", "Tiếp nhận", "T1", "R1", "04/08/2021 09:30"),
    ("E11", "004", "f0", "Tiếp nhận", "T1", "R1", "07/08/2021 23:59"),
    ("E12", "005", "f0", "Tiếp nhận", "T2", "ICU", "03/08/2021 00:00"),
    ("E13", "006", "f0", "Tiếp nhận", "T1", None, "02/08/2021 12:00"),  # no room given
    ("E14", "006", "f0", "Ra viện", "T1", None, "03/08/2021 12:00"),
    ("E15", "007", "f1", "Tiếp nhận", "Q1", "A", "05/08/2021 08:00"),
    ("E16", "007", "f1", "Hoàn thành cách ly", "Q1", "A", "19/08/2021 08:00"),
]
OPENING = {"Tiếp nhận", "Chuyển phòng"}


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    d = tmp_path_factory.mktemp("care")
    facilities = [
        ["T1", "Cơ sở điều trị", "Bệnh viện dã chiến số 1", 1, 8, 2, COMMUNE_T],
        ["T2", "Cơ sở điều trị", "Bệnh viện tỉnh", 3, 4, None, COMMUNE_T],
        ["Q1", "Khu cách ly tập trung", "Ký túc xá", None, 20, 5, COMMUNE_Q],
    ]
    rooms = [
        ["T1", "R1", "F0", "Chung", 4, 3, 1],
        ["T1", "R2", "F0", "Nam", 2, 2, 1],
        ["T2", "ICU", "Điều trị F0", "Chung", 2, 1, 2],
        ["Q1", "A", "F1", "Nữ", 10, 10, 1],
    ]
    admissions = [[e, f"999{p:0>9}", r.upper(), ev, fac, room, at, None] for e, p, r, ev, fac, room, at in HISTORY]
    summaries = {
        "facilities": ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities)),
        "rooms": ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms)),
        "admissions": ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, admissions)),
    }
    return summaries


def replayed(instant: dt.datetime) -> Counter:
    """The test's own replay: each person's last event before the instant places them (admit, move) or not."""
    last: dict[str, tuple] = {}
    for _e, p, _role, ev, fac, room, at in sorted(HISTORY, key=lambda h: (h[1], _local(h[6]), h[3] in OPENING)):
        if _local(at) < instant:
            last[p] = (fac, room) if ev in OPENING else None  # type: ignore[assignment]
    return Counter(v for v in last.values() if v is not None)


def _local(text_: str) -> dt.datetime:
    return dt.datetime.strptime(text_, "%d/%m/%Y %H:%M").replace(tzinfo=TZ)


def test_the_feeds_took_every_row(seeded, engine):
    assert {k: (s["rows"], s["accepted"], s["rejected"]) for k, s in seeded.items()} == {
        "facilities": (3, 3, 0),
        "rooms": (4, 4, 0),
        "admissions": (16, 16, 0),
    }
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT room_id, kind FROM events.rooms")).all())
        located = conn.execute(text("SELECT DISTINCT commune_code FROM events.admissions ORDER BY 1")).scalars().all()
        keys = conn.execute(text("SELECT DISTINCT person_key FROM events.admissions")).scalars().all()
    assert kinds == {"R1": "f0", "R2": "f0", "ICU": "f0", "A": "f1"}
    assert located == [COMMUNE_T, COMMUNE_Q]  # through the facility (locate via facilities)
    assert person_key("999000000001") in keys and not any(k.startswith("999") for k in keys)


@pytest.mark.parametrize("day", [dt.date(2021, 7, 31)] + [dt.date(2021, 8, d) for d in range(1, 21)])
def test_occupancy_of_every_room_equals_the_replay_at_the_end_of_each_day(seeded, engine, day):
    result = occupancy(engine, at=end_of_day(day, "Asia/Ho_Chi_Minh"), day=day)
    got = Counter({(r["facility_id"], r["room_id"]): r["occupied"] for r in result.rooms if r["occupied"]})
    assert got == replayed(end_of_day(day, "Asia/Ho_Chi_Minh"))
    assert sum(f["occupied"] for f in result.facilities) == sum(got.values())


def test_a_past_day_in_detail(seeded, engine):
    """End of 3 Aug: 001 moved to R2 at 10:00, 002 in R1, 005 in the ICU since midnight, 003 in quarantine, 006
    came (no room) and went the same day."""
    result = occupancy(engine, at=end_of_day(dt.date(2021, 8, 3), "Asia/Ho_Chi_Minh"))
    rooms = {(r["facility_id"], r["room_id"]): r for r in result.rooms}
    assert {k: r["occupied"] for k, r in rooms.items()} == {
        ("T1", "R1"): 1,
        ("T1", "R2"): 1,
        ("T2", "ICU"): 1,
        ("Q1", "A"): 1,
    }
    assert rooms[("T2", "ICU")]["free_staffed_beds"] == 0 and rooms[("T2", "ICU")]["free_beds"] == 1
    assert rooms[("Q1", "A")]["f1"] == 1 and rooms[("Q1", "A")]["f0"] == 0
    facilities = {f["facility_id"]: f for f in result.facilities}
    assert (facilities["T1"]["beds"], facilities["T1"]["staffed_beds"], facilities["T1"]["occupied"]) == (6, 5, 2)
    assert facilities["T1"]["free_staffed_beds"] == 3  # R1: 3 - 1, R2: 2 - 1
    tiers = {(t["kind"], t["tier"]): (t["facilities"], t["occupied"], t["free_staffed_beds"]) for t in result.tiers}
    assert tiers == {("treatment", 1): (1, 2, 3), ("treatment", 3): (1, 1, 0), ("quarantine", None): (1, 1, 9)}
    communes = {c["commune_code"]: (c["commune_name"], c["occupied"]) for c in result.communes}
    assert communes == {COMMUNE_T: ("Phường Trảng Dài", 3), COMMUNE_Q: ("Phường Tân Phong", 1)}


def test_a_stay_without_a_room_is_counted_and_found(seeded, engine):
    noon = dt.datetime(2021, 8, 2, 18, 0, tzinfo=TZ)
    result = occupancy(engine, at=noon, facility="T1")
    assert {f["facility_id"] for f in result.facilities} == {"T1"}
    t1 = result.facilities[0]
    assert (t1["occupied"], t1["outside_registered_rooms"]) == (3, 1)  # 001, 002 in R1; 006 in no room
    assert {"finding": "stays_outside_registered_rooms", "facility_id": "T1", "occupied": 1} in result.findings


def test_live_occupancy_and_the_reported_figure(seeded, engine):
    """Now: 003 and 004 in T1/R1, 005 in the ICU; 001 died, 002 and 007 left. The facilities feed reports T1 with
    2 occupied (agrees) and Q1 with 5 (the replay says 0): a finding."""
    result = occupancy(engine)
    assert result.at > dt.datetime(2021, 9, 1, tzinfo=TZ)
    facilities = {f["facility_id"]: f for f in result.facilities}
    assert {k: f["occupied"] for k, f in facilities.items()} == {"T1": 2, "T2": 1, "Q1": 0}
    assert facilities["Q1"]["reported_difference"] == -5 and facilities["T1"]["reported_difference"] == 0
    differs = [f for f in result.findings if f["finding"] == "reported_occupancy_differs"]
    assert differs == [
        {
            "finding": "reported_occupancy_differs",
            "facility_id": "Q1",
            "occupied": 0,
            "reported_occupied": 5,
            "difference": -5,
        }
    ]


def test_the_cli_prints_the_summary_of_a_day(seeded, db_url):
    proc = run_cli("care", "occupancy", "--date", "2021-08-05", "--facility", "T2", "--json", database_url=db_url)
    got = json.loads(proc.stdout)
    assert got["day"] == "2021-08-05" and got["facility"] == "T2"
    assert got["at"].startswith("2021-08-06T00:00:00")
    assert [(r["room_id"], r["occupied"]) for r in got["rooms"]] == [("ICU", 2)]  # 005, and 001 since 09:00
    assert [f["finding"] for f in got["findings"]] == ["over_staffed_beds"]  # 2 people, 1 staffed bed
    text_ = run_cli("care", "occupancy", "--date", "2021-08-05", database_url=db_url, env={"COLUMNS": "200"}).stdout
    assert "Bệnh viện tỉnh" in text_ and "cuối ngày 05/08/2021" in text_
    unknown = run_cli("care", "occupancy", "--facility", "NOPE", database_url=db_url, check=False)
    assert unknown.returncode == 2 and "unknown facility 'NOPE'" in unknown.stderr
