"""Tracing on the /map page in headless Chromium against `covidgis serve` (issue 12, item 6): the public layer
"Địa điểm F0 đã đến / Locations of interest" shows the published locations of the days up to the map's day, its popup
carries the venue's name as text (a name that is markup stays text), and the restricted exposure venues, sized by
contacts, exist only for a signed-in tracer."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from conftest import run_cli
from sqlalchemy import text
from support import put_quiet_indicators
from test_map_page import ARTIFACTS, CHROMIUM_ARGS, Page

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones
from gis.trace.engine import trace_cases
from gis.trace.rules import DEFAULT_TRACE_RULESET, load_trace_rules
from gis.trace.settings import TraceSettings

DAY = dt.date(2021, 9, 5)  # zones computed for it: the map's day
MARKET_NAME = '<img src=x onerror="window.__pwned=1">Chợ Tân Phong'
CONTACTS = {"VEN-MAP-CHO": 6, "VEN-MAP-KCN": 3}  # people who checked in within ±60 minutes of the F0


@pytest.fixture(scope="module")
def traced(engine):
    """Zones for DAY; an F0 detected on DAY who was at a market (6 others around, so published) and at an industrial
    zone (3 others: never public) on the 4th; traced by the engine."""
    with engine.begin() as conn:
        put_quiet_indicators(conn, DAY)
        for venue, name, kind, code in [
            ("VEN-MAP-CHO", MARKET_NAME, "market", "25996"),
            ("VEN-MAP-KCN", "Khu công nghiệp Amata", "industrial_zone", "26008"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO events.venues (venue_id, name, kind, area_code, commune_code, geom, batch_id, "
                    "row_hash) SELECT :v, :n, :k, code, code, ST_PointOnSurface(geom), 0, 'seed' FROM pub.areas "
                    "WHERE code = :c"
                ),
                {"v": venue, "n": name, "k": kind, "c": code},
            )
        conn.execute(
            text(
                "INSERT INTO events.cases (case_id, person_key, detected_on, batch_id, row_hash) "
                "VALUES ('MAP-F0', 'map-f0', :d, 0, 'seed')"
            ),
            {"d": DAY},
        )
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS events.checkins_20210904 PARTITION OF events.checkins "
            "FOR VALUES FROM ('2021-09-04 00:00+07') TO ('2021-09-05 00:00+07')"
        )
        rows = [("map-f0", "VEN-MAP-CHO", "10:00"), ("map-f0", "VEN-MAP-KCN", "14:00")]
        rows += [(f"map-p{i}", "VEN-MAP-CHO", f"10:{10 + i:02d}") for i in range(CONTACTS["VEN-MAP-CHO"])]
        rows += [(f"map-w{i}", "VEN-MAP-KCN", f"14:{20 + i:02d}") for i in range(CONTACTS["VEN-MAP-KCN"])]
        for person, venue, hhmm in rows:
            conn.execute(
                text(
                    "INSERT INTO events.checkins (checkin_id, checked_in_at, person_key, venue_id, batch_id, "
                    "row_hash) VALUES (:i, CAST(:t AS timestamptz), :p, :v, 0, 'seed')"
                ),
                {"i": f"{person}-{venue}", "t": f"2021-09-04 {hhmm}+07", "p": person, "v": venue},
            )
    compute_zones(engine, [DAY], load_ruleset("vn-4800-2021"), RiskSettings())
    summary = trace_cases(engine, load_trace_rules(DEFAULT_TRACE_RULESET), TraceSettings(), cases=["MAP-F0"])
    assert summary.contacts == sum(CONTACTS.values())
    return summary


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server, traced):
    pages = []

    def make() -> Page:
        pages.append(Page(browser, server))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def test_api_serves_the_published_locations_of_the_days_up_to_the_map_day(server, traced):
    got = requests.get(f"{server}/map/api/locations", params={"date": DAY.isoformat()}, timeout=10)
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/geo+json")
    features = got.json()["features"]
    assert [f["properties"]["venue_name"] for f in features] == [MARKET_NAME]  # the industrial zone is not public
    p = features[0]["properties"]
    assert (p["start_local"], p["end_local"]) == ("09:00 04/09/2021", "11:00 04/09/2021")  # ±60 min, local time
    assert p["exposure_type"] == "casual" and p["advice_vi"] and p["advice_en"]
    assert "person_key" not in p and "visitors" not in p
    later = requests.get(f"{server}/map/api/locations", params={"date": "2021-10-30"}, timeout=10).json()
    assert later["features"] == []  # more than history_days later
    bad = requests.get(f"{server}/map/api/locations", params={"date": "5/9/2021"}, timeout=10)
    assert bad.status_code == 400 and "2021-09-05" in bad.json()["error"]


def test_loi_layer_markers_and_a_popup_with_the_name_as_text(open_page):
    p = open_page()
    page = p.open(f"level=3&date={DAY}")
    assert page.text_content("label:has(#cg-layer-loi)").strip() == "Địa điểm F0 đã đến"
    assert page.query_selector_all("path.cg-loi-marker") == []
    page.check("#cg-layer-loi")
    page.wait_for_function("() => document.querySelectorAll('path.cg-loi-marker').length === 1")
    page.evaluate("window.covidgis.state.overlays.loi.getLayers()[0].openPopup()")
    popup = page.wait_for_selector(".leaflet-popup-content .cg-loi")
    assert popup.query_selector(".cg-venue").text_content() == MARKET_NAME
    assert popup.query_selector("img") is None and page.evaluate("window.__pwned") is None
    body = popup.text_content()
    assert "09:00 04/09/2021 – 11:00 04/09/2021" in body and "có nguy cơ tiếp xúc" in body
    assert "theo dõi sức khỏe 14 ngày" in body and "monitor your health" in body  # advice, Vietnamese first
    p.shot("trace-loi")
    page.uncheck("#cg-layer-loi")
    page.wait_for_function("() => document.querySelectorAll('path.cg-loi-marker').length === 0")


def test_exposure_venues_only_for_a_signed_in_tracer_sized_by_contacts(open_page, db_url):
    p = open_page()
    page = p.open(f"level=3&date={DAY}")
    assert page.query_selector("[data-restricted='exposure-venues']") is None
    assert page.evaluate("Object.keys(window.covidgis.state.restricted)") == []
    anonymous = requests.get(f"{p.base}/collections/exposure-venues/items?f=json", timeout=10)
    assert anonymous.status_code == 401
    token = run_cli("users", "add", "map-tracer", "--role", "tracer", database_url=db_url).stdout.strip()
    page.click("#cg-signin-box summary")
    page.fill("#cg-token", token)
    page.click("#cg-signin")
    page.wait_for_selector("[data-restricted='exposure-venues']")
    assert page.query_selector("[data-restricted='cases']") is None  # a tracer reads no cases
    assert page.query_selector_all("path.cg-exposure") == []  # until the layer is ticked
    page.check("[data-restricted='exposure-venues']")
    page.wait_for_function("() => document.querySelectorAll('path.cg-exposure').length === 2")
    radius = page.evaluate(
        "() => Object.fromEntries(window.covidgis.state.restricted['exposure-venues'].getLayers()"
        ".map(l => [l.feature.properties.venue_id, l.getRadius()]))"
    )
    assert radius["VEN-MAP-CHO"] > radius["VEN-MAP-KCN"] > 4  # sized by contacts (6 and 3)
    page.evaluate(
        "window.covidgis.state.restricted['exposure-venues'].getLayers()"
        ".find(l => l.feature.properties.venue_id === 'VEN-MAP-KCN').openPopup()"
    )
    popup = page.wait_for_selector(".leaflet-popup-content .cg-exposure-popup")
    assert popup.query_selector(".cg-venue").text_content() == "Khu công nghiệp Amata"
    assert "không công bố" in popup.text_content() and "3" in popup.query_selector(".cg-row-contacts").text_content()
    p.shot("trace-exposure-venues")
    p.errors = [e for e in p.errors if "403" not in e]  # the collections a tracer may not read answer 403
