"""OGC API Processes of care over real HTTP (`covidgis serve`): nearest-free-bed for anyone, without personal data;
request-transfer and accept-transfer for role coordinator only (401 / 403 otherwise), the caller recorded as who
asked and who accepted; refusals and bad input are 4xx with the reason, never 5xx; two coordinators accepting the
last bed at once: exactly one wins."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from care_support import ADMISSIONS, ROOMS, ingest, person_key, write_csv
from conftest import run_cli, running_server
from sqlalchemy import text

COMMUNE = "25993"  # Phường Trảng Dài (Biên Hòa)
FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Mã địa bàn", "Kinh độ", "Vĩ độ"]
P1, P2, P5, P9 = "999000000401", "999000000402", "999000000405", "999000000409"
PUBLIC_FIELDS = {"facility_id", "name", "tier", "free_staffed_beds", "distance_km"}


@pytest.fixture(scope="module")
def served(engine, db_url, tmp_path_factory):
    d = tmp_path_factory.mktemp("care-processes")
    facilities = [
        ["T1", "Cơ sở điều trị", "Trạm y tế lưu động", 1, 10, COMMUNE, 106.860, 10.980],
        ["H2A", "Cơ sở điều trị", "Bệnh viện tầng 2 A", 2, 1, COMMUNE, 106.870, 10.980],
        ["H2B", "Cơ sở điều trị", "Bệnh viện tầng 2 B", 2, 3, COMMUNE, 106.950, 10.980],
    ]
    rooms = [
        ["T1", "R1", "F0", "Chung", 10, 10, 1],
        ["H2A", "W", "F0", "Nam", 1, 1, 1],  # the last bed
        ["H2B", "W", "Hỗn hợp", "Chung", 3, 3, 1],
    ]
    admissions = [
        ["A1", P1, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
        ["A2", P2, "F0", "Tiếp nhận", "H2B", "W", "20/10/2021 08:00", None],
        ["A5", P5, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
    ]
    ingest(engine, "facilities", write_csv(d / "facilities.csv", FACILITIES, facilities))
    ingest(engine, "rooms", write_csv(d / "rooms.csv", ROOMS, rooms))
    assert ingest(engine, "admissions", write_csv(d / "admissions.csv", ADMISSIONS, admissions))["accepted"] == 3
    with running_server(db_url, tmp_path_factory.mktemp("care-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def tokens(served, db_url):
    return {
        name: run_cli("users", "add", name, "--role", role, database_url=db_url).stdout.strip()
        for name, role in (("coord-a", "coordinator"), ("coord-b", "coordinator"), ("an-analyst", "analyst"))
    }


def run(served, process, inputs, token=None, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{served}/processes/{process}/execution", json={"inputs": inputs, **body}, headers=headers, timeout=60
    )


def said(resp) -> str:
    return resp.json().get("description", "")


def test_nearest_free_bed_is_public_and_carries_no_personal_data(served):
    resp = run(served, "nearest-free-bed", {"lon": 106.949, "lat": 10.980, "tier": 2})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [f["facility_id"] for f in body["facilities"]] == ["H2B", "H2A"]
    assert body["facilities"][0]["free_staffed_beds"] == 2  # 3 staffed, P2 in one
    assert all(set(f) == PUBLIC_FIELDS for f in body["facilities"])
    assert person_key(P2) not in resp.text and "person" not in resp.text
    women = run(served, "nearest-free-bed", {"lon": 106.86, "lat": 10.98, "tier": 2, "sex": "f"}).json()
    assert [f["facility_id"] for f in women["facilities"]] == ["H2B"]  # H2A's last bed is a men's room


@pytest.mark.parametrize(
    ("inputs", "says"),
    [
        ({"lon": 106.86, "lat": 10.98, "tier": 4}, "tier: expected 1, 2 or 3"),
        ({"lon": "east", "lat": 10.98, "tier": 2}, "lon: 'east' is not a number"),
        ({"lon": 106.86, "tier": 2}, "lat: required"),
        ({"lon": 106.86, "lat": 10.98, "tier": 2, "sex": "x"}, "sex: expected one of m, f"),
        ({"lon": 106.86, "lat": 10.98, "tier": 2, "room_kind": "icu"}, "room_kind: expected one of f0, f1"),
    ],
)
def test_bad_input_to_nearest_free_bed_is_a_400_that_says_why(served, inputs, says):
    resp = run(served, "nearest-free-bed", inputs)
    assert resp.status_code == 400 and says in said(resp), resp.text


def test_transfers_need_a_coordinator(served, tokens):
    for process, inputs in (
        ("request-transfer", {"person_key": person_key(P1), "tier": 2, "reason": "SpO2 93"}),
        ("accept-transfer", {"request_id": 1, "facility": "H2A"}),
    ):
        assert run(served, process, inputs).status_code == 401
        denied = run(served, process, inputs, token=tokens["an-analyst"])
        assert denied.status_code == 403 and "may not run process" in said(denied)
    assert requests.get(f"{served}/processes/request-transfer", timeout=30).status_code == 200  # the description


def test_request_then_the_last_bed_race_exactly_one_wins(served, tokens, engine):
    coord_a, coord_b = tokens["coord-a"], tokens["coord-b"]
    opened = []
    for raw in (P1, P5):
        # `by` in the body is ignored: the caller's name is recorded
        resp = run(served, "request-transfer", {"person_key": person_key(raw), "tier": 2, "reason": "SpO2 93 %",
                                                "by": "somebody else"}, token=coord_a)  # fmt: skip
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["status"], body["from_facility"], body["from_tier"], body["required_tier"]) == ("open", "T1", 1, 2)
        opened.append(body["request_id"])
    again = run(served, "request-transfer", {"person_key": person_key(P1), "tier": 2, "reason": "x"}, token=coord_a)
    assert again.status_code == 409 and f"already has a live request {opened[0]} (open)" in said(again)
    nobody = run(served, "request-transfer", {"person_key": person_key(P9), "tier": 2, "reason": "x"}, token=coord_a)
    assert nobody.status_code == 409 and "not under care now" in said(nobody)
    there = run(served, "request-transfer", {"person_key": person_key(P2), "tier": 2, "reason": "x"}, token=coord_a)
    assert there.status_code == 409 and "already at tier 2 (H2B)" in said(there)
    no_reason = run(served, "request-transfer", {"person_key": person_key(P2), "tier": 3}, token=coord_a)
    assert no_reason.status_code == 400 and "reason: required" in said(no_reason)

    # both acceptances held on H2A's lock (a third session takes it first), then released together
    results: dict[str, requests.Response] = {}

    def take(who: str, token: str, request_id: int) -> None:
        results[who] = run(served, "accept-transfer", {"request_id": request_id, "facility": "H2A"}, token=token)

    holder = engine.connect()
    holder.execute(text("SELECT pg_advisory_xact_lock(hashtext('care.accept'), hashtext('H2A'))"))
    threads = [
        threading.Thread(target=take, args=("coord-a", coord_a, opened[0])),
        threading.Thread(target=take, args=("coord-b", coord_b, opened[1])),
    ]
    for t in threads:
        t.start()
    waiting, deadline = 0, time.monotonic() + 30
    with engine.connect() as watch:
        while waiting < 2 and time.monotonic() < deadline:
            waiting = watch.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
            ).scalar_one()
            watch.rollback()
            time.sleep(0.05)
    holder.rollback()
    holder.close()
    for t in threads:
        t.join(60)
    assert waiting == 2
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 409], {k: r.text for k, r in results.items()}
    [winner] = [k for k, r in results.items() if r.status_code == 200]
    [loser] = [r for r in results.values() if r.status_code == 409]
    assert "no free staffed bed" in said(loser)
    assert results[winner].json()["to_facility"] == "H2A"
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT request_id, status, to_facility, accepted_by, requested_by FROM care.transfer_request")
        ).all()
    accepted = [r for r in rows if r.status == "accepted"]
    assert [(r.to_facility, r.accepted_by) for r in accepted] == [("H2A", winner)]
    assert {r.requested_by for r in rows} == {"coord-a"}

    taken = accepted[0].request_id
    twice = run(served, "accept-transfer", {"request_id": taken, "facility": "H2B"}, token=coord_b)
    assert twice.status_code == 409 and "already accepted" in said(twice)
    unknown = run(served, "accept-transfer", {"request_id": 99999, "facility": "H2B"}, token=coord_b)
    assert unknown.status_code == 409 and "no transfer request 99999" in said(unknown)
    wrong = run(served, "accept-transfer", {"request_id": "one", "facility": "H2B"}, token=coord_b)
    assert wrong.status_code == 400 and "request_id: expected a request number" in said(wrong)


def test_the_cli_opens_a_request_with_the_same_function(served, db_url):
    done = run_cli(
        "care", "request", person_key(P2), "--tier", "3", "--reason", "SpO2 88", "--by", "ca-truc", "--json",
        database_url=db_url,
    )  # fmt: skip
    body = json.loads(done.stdout)
    assert (body["from_facility"], body["from_tier"], body["required_tier"]) == ("H2B", 2, 3)
    refused = run_cli(
        "care", "request", person_key(P2), "--tier", "3", "--reason", "again", database_url=db_url, check=False
    )
    assert refused.returncode != 0 and "already has a live request" in refused.stderr
