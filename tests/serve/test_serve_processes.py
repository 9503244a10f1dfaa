"""OGC API Processes: zone-at-point and route-risk; bad input is a 400 with a clear message, never a 500."""

import pytest
import requests

from serve_support import DAYS, TAN_PHONG, filled, served  # noqa: F401


def run(served, process, inputs):
    return requests.post(f"{served}/processes/{process}/execution", json={"inputs": inputs}, timeout=30)


def test_processes_are_listed(served):
    ids = {p["id"] for p in requests.get(f"{served}/processes?f=json", timeout=30).json()["processes"]}
    assert {"zone-at-point", "route-risk"} <= ids


def test_zone_at_point_gives_every_level_with_reasons(served):
    resp = run(served, "zone-at-point", {"lon": 106.82, "lat": 10.975})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["date"] == str(DAYS[-1])
    assert [a["admin_level"] for a in body["areas"]] == [1, 2, 3, 4]
    commune = body["areas"][2]
    assert (commune["code"], commune["colour"], commune["level"]) == (TAN_PHONG, "orange", 3)
    assert any("Decision 4800" in r for r in commune["reasons"])
    earlier = run(served, "zone-at-point", {"lon": "106.82", "lat": "10.975", "date": str(DAYS[0])}).json()
    assert earlier["areas"][2]["colour"] == "green" and earlier["date"] == str(DAYS[0])


def test_route_risk_orders_crossings_and_sums_lengths(served):
    route = {"type": "LineString", "coordinates": [[106.78, 10.97], [106.90, 10.98]]}
    resp = run(served, "route-risk", {"route": route, "admin_level": 3})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    codes = [c["code"] for c in body["crossings"]]
    assert TAN_PHONG in codes and len(codes) == len(set(codes)) >= 3
    assert (body["highest_level"], body["highest_colour"]) == (3, "orange")
    assert body["length_m_by_colour"]["orange"] > 1000
    assert abs(sum(body["length_m_by_colour"].values()) + body["outside_m"] - body["length_m"]) < 1
    assert 12_000 < body["length_m"] < 14_000  # 0.12° of longitude at 11° N
    reverse = run(served, "route-risk", {"route": {**route, "coordinates": route["coordinates"][::-1]},
                                         "admin_level": 3}).json()
    assert [c["code"] for c in reverse["crossings"]] == codes[::-1]
    feature = run(served, "route-risk", {"route": {"type": "Feature", "geometry": route, "properties": {}}})
    assert feature.status_code == 200 and feature.json()["admin_level"] == 4


@pytest.mark.parametrize("process,inputs,message", [
    ("zone-at-point", {"lat": 10.9}, "lon"),
    ("zone-at-point", {"lon": "abc", "lat": 10.9}, "not a number"),
    ("zone-at-point", {"lon": 200, "lat": 10.9}, "outside"),
    ("zone-at-point", {"lon": 2.35, "lat": 48.85}, "outside the served areas"),
    ("zone-at-point", {"lon": 106.82, "lat": 10.975, "date": "20-10-2021"}, "ISO date"),
    ("zone-at-point", {"lon": 106.82, "lat": 10.975, "date": "1999-01-01"}, "no zone"),
    ("route-risk", {"route": {"type": "Point", "coordinates": [106.8, 10.9]}}, "LineString"),
    ("route-risk", {"route": {"type": "LineString", "coordinates": [[106.8, 10.9]]}}, "2 to"),
    ("route-risk", {"route": {"type": "LineString", "coordinates": [[106.8, 10.9], [106.8, 10.9]]}}, "same point"),
    ("route-risk", {"route": {"type": "LineString", "coordinates": [[1, 2], ["x", 3]]}}, "not a number"),
    ("route-risk", {"route": "{not json"}, "not valid JSON"),
    ("route-risk", {"route": {"type": "LineString", "coordinates": [[2.3, 48.8], [2.4, 48.9]]}}, "outside"),
    ("route-risk", {"route": {"type": "LineString", "coordinates": [[106.78, 10.97], [106.9, 10.98]]},
                    "admin_level": 7}, "admin_level"),
    ("route-risk", {}, "LineString"),
])
def test_bad_input_is_400_with_a_clear_message(served, process, inputs, message):
    resp = run(served, process, inputs)
    assert resp.status_code == 400, resp.text
    assert message in resp.json()["description"]


def test_malformed_bodies_are_400(served):
    for body in [b"not json", b"[]", b'{"inputs": 5}']:
        resp = requests.post(f"{served}/processes/zone-at-point/execution", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
        assert resp.status_code == 400, (body, resp.status_code, resp.text[:200])
