"""zone-at-point and route-risk over real HTTP carry the travel measures of the right level, cited."""

import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from serve_support import DAYS, TAN_PHONG, filled, running_server, served  # noqa: E402, F401

from gis.travel.measures import travel_measures_document  # noqa: E402

BIEN_HOA = {"type": "LineString", "coordinates": [[106.78, 10.97], [106.90, 10.98]]}
DOC = travel_measures_document("vn-128-2021")


def run(served, process, inputs):
    return requests.post(f"{served}/processes/{process}/execution", json={"inputs": inputs}, timeout=30)


def test_zone_at_point_gives_the_measures_of_the_finest_area(served):
    body = run(served, "zone-at-point", {"lon": 106.82, "lat": 10.975}).json()
    finest, measures = body["areas"][-1], body["measures"]
    assert (measures["code"], measures["admin_level"], measures["level"]) == (finest["code"], 4, finest["level"])
    assert measures["applies"] and measures["ruleset"]["id"] == "vn-128-2021"
    assert measures["items"] == DOC["levels"][str(finest["level"])]["measures"]
    # The commune (Tân Phong) is orange, its hamlet holding the point green: the finest area decides.
    assert (body["areas"][2]["code"], body["areas"][2]["level"], finest["level"]) == (TAN_PHONG, 3, 1)
    travel = next(m for m in measures["items"] if m["id"] == "travel_out")
    assert travel["citation"]["date"] == "2021-10-14" and travel["status"] == "confirmed"
    assert travel["value"]["en"] == "No test required for travel"


def test_zone_at_point_on_a_green_day_gives_level_1(served):
    body = run(served, "zone-at-point", {"lon": 106.82, "lat": 10.975, "date": str(DAYS[0])}).json()
    assert body["measures"]["level"] == 1
    gatherings = next(m for m in body["measures"]["items"] if m["id"] == "gatherings")
    assert "không hạn chế" in gatherings["value"]["vi"] and gatherings["citation"]["number"] == "128/NQ-CP"


def test_route_risk_gives_what_leaving_a_high_risk_area_needs(served):
    body = run(served, "route-risk", {"route": BIEN_HOA, "admin_level": 3}).json()
    codes = [c["code"] for c in body["crossings"]]
    assert TAN_PHONG in codes[:-1]  # crossed, then left
    items = body["requirements"]["items"]
    assert [r["id"] for r in items] == ["vaccinated_or_test_leaving_level34_by_coach"]  # no level-4 area crossed
    assert items[0]["zones"] == [TAN_PHONG] and items[0]["test_within_hours"] == 72
    assert items[0]["citation"]["issuer"].startswith("Bộ Giao thông vận tải")
    green = run(served, "route-risk", {"route": BIEN_HOA, "admin_level": 3, "date": str(DAYS[0])}).json()
    assert green["requirements"]["items"] == []
