"""The map's zone popup shows the cited travel measures of the clicked zone's level (text nodes only, in Chromium)."""

import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "maps"))
from test_map_page import DAY2, TAN_PHONG, browser, communes, open_page, zones  # noqa: E402, F401

from gis.travel.measures import travel_measures_document  # noqa: E402

LEVEL_4 = travel_measures_document("vn-128-2021")["levels"]["4"]["measures"]


def test_zone_api_carries_the_measures_of_the_level(server, zones):
    z = requests.get(f"{server}/map/api/zone/{TAN_PHONG}?date={DAY2}", timeout=30).json()
    assert z["level"] == 4 and z["measures"]["applies"] and z["measures"]["items"] == LEVEL_4


def test_popup_lists_the_measures_of_the_clicked_level(open_page, zones):
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.click(f"path.cg-zone-{TAN_PHONG}")
    page.wait_for_selector(".cg-popup .cg-measures")
    items = page.eval_on_selector_all(
        ".cg-popup .cg-measure-list li", "ns => ns.map(n => [n.dataset.measure, n.innerText])"
    )
    assert [i for i, _ in items] == [m["id"] for m in LEVEL_4]
    travel = dict(items)["travel_out"]
    assert "Đi lại ra khỏi địa bàn" in travel and "Phải xét nghiệm" in travel
    assert "128/NQ-CP" in dict(items)["gatherings"] and "chưa xác minh" in dict(items)["gatherings"]  # open
    page.click("#cg-lang")
    page.wait_for_selector(".cg-popup .cg-measures")
    english = page.inner_text(".cg-popup .cg-measures")
    assert "Measures at this level" in english and "A test is required when travelling elsewhere" in english
