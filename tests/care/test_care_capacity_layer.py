"""The public layer `treatment-capacity` (layers/treatment-capacity.sql) over real HTTP: per district and tier, beds
and staffed beds from the rooms feed, people from the replay of admissions, free staffed beds; anyone may read it;
no facility, point or person key; a small people count suppresses the row, the others are rounded down to the
threshold (the same checker as tests/serve/test_serve_privacy.py's). And the restricted layer `beds`
(layers/care-beds.sql): per facility and room kind, exact counts, for coordinators, analysts and the committee."""

from __future__ import annotations

import json

import pytest
import requests
from care_support import ADMISSIONS, ROOMS, ingest, person_key, write_csv
from conftest import run_cli, running_server

FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Đang sử dụng", "Mã địa bàn"]
THRESHOLD = 5  # risk.published.suppress_below's default


def people(n: int, first: int) -> list[str]:
    return [f"9990000{first + i:05d}" for i in range(n)]


@pytest.fixture(scope="module")
def layer(engine, db_url, tmp_path_factory):
    with engine.connect() as conn:
        (district_a, commune_a), (district_b, commune_b) = conn.exec_driver_sql(
            "SELECT DISTINCT ON (d.code) d.code, c.code FROM admin.area c "
            "JOIN admin.area d ON d.code = c.parent_code AND d.level = 2 AND d.valid_to IS NULL "
            "WHERE c.level = 3 AND c.valid_to IS NULL ORDER BY d.code, c.code LIMIT 2"
        ).all()
    d = tmp_path_factory.mktemp("care-capacity")
    facilities = [
        ["TA1", "Cơ sở điều trị", "Tầng 1 huyện A", 1, 20, 99, commune_a],  # the typed-in 99 is not used
        ["HA2", "Cơ sở điều trị", "Tầng 2 huyện A", 2, 10, None, commune_a],
        ["TB1", "Cơ sở điều trị", "Tầng 1 huyện B", 1, 8, None, commune_b],
        ["QB", "Khu cách ly tập trung", "Cách ly huyện B", None, 50, None, commune_b],
    ]
    rooms = [
        ["TA1", "R1", "F0", "Chung", 12, 10, 1],
        ["TA1", "R2", "F0", "Nam", 8, 5, 1],
        ["HA2", "W", "F0", "Chung", 10, 10, 1],
        ["TB1", "R1", "F0", "Chung", 8, 8, 1],
        ["QB", "Q1", "F1", "Chung", 50, 50, 1],
    ]
    rows, n = [], 0
    for facility, room, who in (
        ("TA1", "R1", people(9, 500)),  # 9 in a room of 10 staffed beds: 1 free
        ("TA1", "R2", people(3, 520)),  # 3 of 5: 2 free → TA1: 12 people, 3 free
        ("TB1", "R1", people(2, 540)),  # 2 people: a small count
        ("QB", "Q1", people(7, 560)),  # quarantine: not a treatment tier
    ):
        for raw in who:
            n += 1
            rows.append([f"E{n}", raw, "F0", "Tiếp nhận", facility, room, "20/10/2021 08:00", None])
    rows.append(["X1", people(1, 500)[0], "F0", "Ra viện", "TA1", "R1", "25/10/2021 08:00", None])  # one went home
    ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities))
    ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms))
    assert ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, rows))["rejected"] == 0
    with running_server(db_url, tmp_path_factory.mktemp("var")) as base:
        resp = requests.get(f"{base}/collections/treatment-capacity/items?f=json&limit=100", timeout=60)
        assert resp.status_code == 200, resp.text
        html = requests.get(f"{base}/collections/treatment-capacity/items?f=html", timeout=60)
        yield {"body": resp.text, "html": html.text, "a": district_a, "b": district_b, "base": base}


def test_per_district_and_tier_from_the_replay(layer):
    features = json.loads(layer["body"])["features"]
    rows = {f["id"]: f["properties"] for f in features}
    assert set(rows) == {f"{layer['a']}:1", f"{layer['a']}:2", f"{layer['b']}:1"}  # no quarantine row
    a1, a2, b1 = rows[f"{layer['a']}:1"], rows[f"{layer['a']}:2"], rows[f"{layer['b']}:1"]
    # TA1: 20 beds, 15 staffed; 11 people now (12 admitted, 1 discharged): 10 shown; free 1 + 3 = 4 → 0 shown
    assert (a1["facilities"], a1["beds"], a1["staffed_beds"]) == (1, 20, 15)
    assert (a1["details_suppressed"], a1["occupied"], a1["free_staffed_beds"]) == (False, 10, 0)
    assert (a2["details_suppressed"], a2["occupied"], a2["free_staffed_beds"]) == (False, 0, 10)
    # TB1: 2 people, a small count: suppressed, and the free beds with it (8 staffed − free would give it back)
    assert (b1["staffed_beds"], b1["details_suppressed"], b1["occupied"], b1["free_staffed_beds"]) == (
        8,
        True,
        None,
        None,
    )
    assert all(f["geometry"] and f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)


def test_no_facility_person_or_small_count_in_it(layer):
    for body in (layer["body"], layer["html"]):
        for secret in ["TA1", "HA2", "TB1", "QB", *(person_key(p) for p in people(20, 500))]:
            assert secret not in body
    found = []

    def walk(value):
        if isinstance(value, dict):
            for key, child in value.items():
                if key in ("occupied", "free_staffed_beds") and isinstance(child, int) and 0 < child < THRESHOLD:
                    found.append((key, child))
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(json.loads(layer["body"]))
    assert found == []


def test_beds_is_restricted_to_coordinators_analysts_and_the_committee(layer, db_url):
    url = f"{layer['base']}/collections/beds/items?f=json&limit=100"
    assert requests.get(url, timeout=30).status_code == 401
    tokens = {
        role: run_cli("users", "add", f"beds-{role}", "--role", role, database_url=db_url).stdout.strip()
        for role in ("coordinator", "analyst", "committee", "tracer")
    }
    for role in ("tracer",):
        resp = requests.get(url, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=30)
        assert resp.status_code == 403, (role, resp.status_code)
    for role in ("coordinator", "analyst", "committee"):
        resp = requests.get(url, headers={"Authorization": f"Bearer {tokens[role]}"}, timeout=30)
        assert resp.status_code == 200, (role, resp.text)
    rows = {f["id"]: f["properties"] for f in resp.json()["features"]}
    assert set(rows) == {"TA1:f0", "HA2:f0", "TB1:f0", "QB:f1"}
    ta1 = rows["TA1:f0"]
    assert (ta1["rooms"], ta1["beds"], ta1["staffed_beds"], ta1["occupied"], ta1["free_staffed_beds"]) == (
        2,
        20,
        15,
        11,
        4,
    )
    assert ta1["reported_occupied"] == 99 and ta1["tier"] == 1
    assert (rows["TB1:f0"]["occupied"], rows["QB:f1"]["occupied"], rows["QB:f1"]["free_staffed_beds"]) == (2, 7, 43)
    assert not any(person_key(p) in resp.text for p in people(20, 500))
