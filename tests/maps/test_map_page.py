"""The /map page in headless Chromium against `covidgis serve`: offline assets, every commune in its zone colour,
popup with reasons, date control, accent-free search, my zone by location, layers, sign-in, live redraw; all of it
under a Content-Security-Policy without 'unsafe-inline', with no violation reported on any page."""

import datetime as dt
import re
import time

import pytest
import requests
from conftest import ROOT, run_cli
from sqlalchemy import text
from support import put_quiet_indicators

from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, COLOURS, NO_ZONE_HEX
from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones
from gis.serve.version import DataVersion

DAY1, DAY2 = dt.date(2021, 9, 4), dt.date(2021, 9, 5)
HEX = {key: colour.hex for key, colour in COLOURS.items()}  # what the map fills a unit of each zone colour with
TAN_PHONG, FAR_COMMUNE = "25996", "26008"  # Phường Tân Phong (Biên Hòa); a commune of Tân Phú
ARTIFACTS = ROOT / "test-artifacts" / "maps"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Every refusal of the policy, whatever its directive (an inline script, a style attribute in built markup, …).
WATCH_POLICY = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(
    e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));"""


def put_indicators(engine, day, per_100k: dict[str, float]):
    """Every area quiet and well vaccinated; the given communes get that many community cases per 100,000 in 7 days
    and no first doses, so that Decision 4800 gives band = level (25 → yellow, 60 → orange, 200 → red)."""
    with engine.begin() as conn:
        put_quiet_indicators(conn, day)
        for code, rate in per_100k.items():
            conn.execute(
                text("""
                UPDATE stats.indicator SET community_cases_7d = ceil(population * :r / 100000.0),
                       vaccinated_18plus_1dose = 0
                WHERE day = :d AND area_code = :c"""),
                {"r": rate, "d": day, "c": code},
            )


def compute(engine, days):
    return compute_zones(engine, days, load_ruleset("vn-4800-2021"), RiskSettings())


def zone_colours(engine, day, level=3) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text(
                    "SELECT area_code, colour FROM risk.zone WHERE day = :d AND admin_level = :l "
                    "AND ruleset_id = 'vn-4800-2021'"
                ),
                {"d": day, "l": level},
            ).all()
        )


@pytest.fixture(scope="module")
def communes(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT code FROM pub.areas WHERE level = 3 ORDER BY code")).scalars().all()


@pytest.fixture(scope="module")
def zones(engine, communes):
    """Two days of zones: on the 4th a few communes yellow and orange, on the 5th Tân Phong red too; a testing site."""
    yellow, orange = communes[10:15], communes[40:43]
    put_indicators(engine, DAY1, {**{c: 25 for c in yellow}, **{c: 60 for c in orange}})
    put_indicators(engine, DAY2, {**{c: 60 for c in yellow}, **{c: 60 for c in orange}, TAN_PHONG: 200})
    compute(engine, [DAY1, DAY2])
    with engine.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO events.facilities (facility_id, kind, name, area_code, commune_code, batch_id, row_hash, geom)
            SELECT 'XN-' || code, 'testing', 'Điểm xét nghiệm ' || name, code, code, 0, 'h', ST_PointOnSurface(geom)
            FROM pub.areas WHERE code IN ('25996', '26008')""")
        )
    return {DAY1: zone_colours(engine, DAY1), DAY2: zone_colours(engine, DAY2)}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class Page:
    """A page of the map with what it logged and asked for."""

    def __init__(self, browser, base, **context):
        self.context = browser.new_context(viewport={"width": 1280, "height": 860}, **context)
        self.context.add_init_script(WATCH_POLICY)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.zone_statuses: list[int] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", lambda r: self.zone_statuses.append(r.status) if "/map/api/zones" in r.url else None)

    def open(self, query: str):
        self.page.goto(f"{self.base}/map?basemap=0&{query}")
        self.page.wait_for_selector("body[data-cg-ready='1']")
        return self.page

    def fills(self) -> dict[str, str]:
        return self.page.evaluate("window.covidgis.fills()")

    def shot(self, name: str):
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def close(self):
        assert self.errors == [], self.errors
        assert self.page.evaluate("window.__cspViolations") == []
        outside = [u for u in self.requests if not u.startswith((self.base, "data:"))]
        assert outside == [], outside
        self.context.close()


@pytest.fixture
def open_page(browser, server, zones):
    pages = []

    def make(**context) -> Page:
        pages.append(Page(browser, server, **context))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def expected_fills(colours: dict[str, str], codes) -> dict[str, str]:
    return {c: HEX[colours[c]] if c in colours else NO_ZONE_HEX for c in codes}


def test_page_is_offline_and_draws_every_commune_in_its_colour(open_page, zones, communes):
    p = open_page()
    page = p.open(f"level=3&date={DAY1}")
    assert page.title().startswith("Bản đồ cấp độ dịch COVID-19")
    assert page.evaluate("document.documentElement.lang") == "vi"
    fills = p.fills()
    assert len(communes) == 170 and sorted(fills) == communes
    assert fills == expected_fills(zones[DAY1], communes)
    assert len(set(fills.values())) == 3  # green, yellow, orange on the 4th
    # What Leaflet painted: the SVG path of a commune carries the fill.
    assert page.get_attribute(f"path.cg-zone-{communes[40]}", "fill") == HEX["orange"]
    legend = {
        row.get_attribute("data-colour"): int(row.inner_text().split()[-1])
        for row in page.query_selector_all(".cg-legend-row")
    }
    assert legend == {"green": 162, "yellow": 5, "orange": 3, "red": 0}
    p.shot("communes-2021-09-04")


def rgb(hex_colour: str) -> str:
    """A #rrggbb colour as getComputedStyle reports it."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


SWATCHES = "(nodes) => nodes.map(n => [n.dataset.colour || '', getComputedStyle(n).backgroundColor])"


def test_page_runs_under_a_policy_without_unsafe_inline(open_page, server, zones):
    """/map has no inline script or style, so its policy allows none; the page still starts, and every swatch (legend,
    popup level and two-week strip, my-zone card) has its colour: set through element.style, which the policy allows,
    where a style attribute in built markup would be refused (a violation, checked on close) and stay uncoloured."""
    response = requests.get(f"{server}/map", timeout=10)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert "style=" not in response.text and "<style" not in response.text
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    legend = page.eval_on_selector_all(
        ".cg-legend-row",
        "rows => rows.map(r => [r.dataset.colour, getComputedStyle(r.querySelector('.cg-swatch')).backgroundColor])",
    )
    assert len(legend) == 4 and all(shown == rgb(HEX.get(colour, NO_ZONE_HEX)) for colour, shown in legend)
    page.click(f"path.cg-zone-{TAN_PHONG}")
    page.wait_for_selector(f".cg-popup[data-code='{TAN_PHONG}']")
    assert page.eval_on_selector(".cg-popup .cg-level .cg-swatch", "n => getComputedStyle(n).backgroundColor") == rgb(
        HEX["red"]
    )
    strip = page.eval_on_selector_all(".cg-popup .cg-day", SWATCHES)
    assert len(strip) == 14 and strip[-1] == ["red", rgb(HEX["red"])]
    assert all(shown == rgb(HEX[colour] if colour else NO_ZONE_HEX) for colour, shown in strip)
    page.click("#cg-lang")  # the popup is rebuilt in English: coloured again
    assert page.eval_on_selector_all(".cg-popup .cg-day", SWATCHES) == strip
    page.fill("#cg-search", "tan phong")
    page.click(f"button.cg-result[data-code='{TAN_PHONG}']")
    card = page.wait_for_selector(f"#cg-myzone [data-code='{TAN_PHONG}'] .cg-swatch")
    assert card.evaluate("n => getComputedStyle(n).backgroundColor") == rgb(HEX["red"])


def test_popup_shows_level_rule_set_reasons_and_two_weeks(open_page, engine, zones):
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.click(f"path.cg-zone-{TAN_PHONG}")
    popup = page.wait_for_selector(".cg-popup")
    body = popup.inner_text()
    with engine.connect() as conn:
        reasons = conn.execute(
            text("SELECT reasons FROM pub.zones_history WHERE code = :c AND day = :d"), {"c": TAN_PHONG, "d": DAY2}
        ).scalar_one()
    assert "Phường Tân Phong" in body and "Cấp 4 – Nguy cơ rất cao" in body and "vn-4800-2021" in body
    assert "Ca cộng đồng 7 ngày / 100.000 dân" in body  # a decisive indicator, by its Vietnamese name
    assert reasons and all(r in body for r in reasons)
    strip = page.query_selector_all(".cg-popup .cg-day")
    assert len(strip) == 14
    assert [s.get_attribute("data-colour") for s in strip[-2:]] == [zones[DAY1][TAN_PHONG], "red"]
    p.shot("popup-tan-phong")


def test_date_control_changes_the_colours(open_page, zones, communes):
    p = open_page()
    page = p.open(f"level=3&date={DAY1}")
    assert p.fills()[TAN_PHONG] == HEX["green"]
    page.fill("#cg-date", DAY2.isoformat())
    page.wait_for_function(f"() => window.covidgis.fills()['{TAN_PHONG}'] === '{HEX['red']}'")
    assert p.fills() == expected_fills(zones[DAY2], communes)
    # the page marks the day shown two animation frames after it painted: wait for it rather than race it
    page.wait_for_selector(f"body[data-cg-day='{DAY2.isoformat()}']", state="attached", timeout=5000)
    p.shot("communes-2021-09-05")


def test_level_selector_and_english_toggle(open_page, engine):
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.select_option("#cg-level", "4")
    page.wait_for_selector("body[data-cg-level='4']")
    hamlets = zone_colours(engine, DAY2, level=4)
    assert len(p.fills()) == 1735 and p.fills() == {c: HEX[v] for c, v in hamlets.items()}
    options = "nodes => nodes.map(n => [n.value, n.textContent])"
    vietnamese = [[str(int(level)), name.capitalize()] for level, name in ADMIN_LEVEL_VI.items()]
    assert page.eval_on_selector_all("#cg-level option", options) == vietnamese  # names from the page's data
    page.click("#cg-lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    english = [[str(int(level)), name.capitalize()] for level, name in ADMIN_LEVEL_EN.items()]
    assert page.eval_on_selector_all("#cg-level option", options) == english
    assert "Level 1 – Low risk" in page.inner_text("#cg-legend") and "Hamlet" in page.inner_text("#cg-legend")
    assert page.inner_text("#cg-lang") == "Tiếng Việt"
    p.shot("hamlets-english")


def test_search_finds_a_name_typed_without_accents(open_page, server, zones):
    found = requests.get(f"{server}/map/api/search", params={"q": "bien hoa"}, timeout=10).json()["results"]
    assert found[0]["name"] == "Thành phố Biên Hòa"
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.fill("#cg-search", "tan phong")
    button = page.wait_for_selector(f"button.cg-result[data-code='{TAN_PHONG}']")
    assert "Phường Tân Phong" in button.inner_text()
    button.click()
    card = page.wait_for_selector(f"#cg-myzone [data-code='{TAN_PHONG}']")
    assert "Phường Tân Phong" in card.inner_text() and "Cấp 4" in card.inner_text()
    page.wait_for_selector(f".cg-popup[data-code='{TAN_PHONG}']")
    p.shot("search-tan-phong")


def test_my_zone_by_the_browsers_location(open_page, engine, zones):
    with engine.connect() as conn:
        lon, lat, hamlet = conn.execute(
            text(
                "SELECT ST_X(p), ST_Y(p), code FROM (SELECT ST_PointOnSurface(geom) p, code FROM pub.areas "
                "WHERE parent_code = :c ORDER BY code LIMIT 1) s"
            ),
            {"c": TAN_PHONG},
        ).one()
    p = open_page(geolocation={"longitude": lon, "latitude": lat}, permissions=["geolocation"])
    page = p.open(f"level=3&date={DAY2}")
    page.click("#cg-locate")
    card = page.wait_for_selector(f"#cg-myzone [data-code='{hamlet}']")
    assert "Phường Tân Phong" in card.inner_text()
    page.wait_for_selector("body[data-cg-level='4']", state="attached", timeout=5000)  # set just after painting


def test_layers_toggle(open_page):
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.check("#cg-layer-sites")
    page.wait_for_function(
        "() => window.covidgis.state.overlays.sites && window.covidgis.state.overlays.sites.getLayers().length === 2"
    )
    page.check("#cg-layer-data-quality")
    page.wait_for_function("() => !!window.covidgis.state.overlays['data-quality']")
    page.uncheck("#cg-layer-sites")
    p.shot("layers")


def test_restricted_layers_only_after_signing_in(open_page, db_url):
    p = open_page()
    page = p.open(f"level=3&date={DAY2}")
    page.click("#cg-signin-box summary")
    page.fill("#cg-token", "not-a-token")
    # The server answers 401 for the restricted collections: the browser logs those as errors, expected here.
    page.click("#cg-signin")
    page.wait_for_function("() => document.getElementById('cg-signin-msg').textContent.includes('không hợp lệ')")
    assert page.query_selector_all("[data-restricted]") == []
    token = run_cli("users", "add", "map-test", "--role", "committee", database_url=db_url).stdout.strip()
    page.fill("#cg-token", token)
    page.click("#cg-signin")
    page.wait_for_selector("[data-restricted='quarantine-facilities']")
    assert page.query_selector("[data-restricted='cases']") is not None
    p.shot("signed-in")
    p.errors = [e for e in p.errors if "401" not in e]


def test_zones_revalidate_with_etag(server, zones):
    url = f"{server}/map/api/zones"
    first = requests.get(url, params={"level": 3}, timeout=10)
    assert first.json()["day"] == DAY2.isoformat() and first.headers["ETag"]
    again = requests.get(url, params={"level": 3}, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304


# Every answer of the map: the page and each API route (a unit, a search, a place, the layers).
MAP_PATHS = [
    "/map",
    "/map/api/meta",
    "/map/api/areas?level=2",
    "/map/api/zones?level=3",
    f"/map/api/zones?level=4&date={DAY1}",
    f"/map/api/zone/{TAN_PHONG}",
    "/map/api/search?q=bien+hoa",
    "/map/api/locate?lon=106.82&lat=10.95",
    "/map/api/layers/sites",
    "/map/api/layers/data-quality",
]


@pytest.mark.parametrize("path", MAP_PATHS)
def test_map_answers_carry_the_servers_one_etag(server, engine, zones, path):
    """One ETag path: the map's answers are tagged by the server's cache with the data version it shares with the
    map (the version's tag, then a hash of the request), revalidate to 304 without a body, and say the same
    snapshot in their body as in their tag."""
    version = DataVersion(engine, 0).current()
    deadline = time.monotonic() + 5  # the server reads the version at most once a second
    while True:
        first = requests.get(server + path, timeout=10)
        if first.headers.get("etag", "").startswith(f'W/"{version.tag}-') or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert first.status_code == 200, first.text[:200]
    etag = first.headers["etag"]
    assert re.fullmatch(rf'W/"{re.escape(version.tag)}-[0-9a-f]{{16}}"', etag), etag
    assert first.headers["last-modified"] == version.last_modified
    assert first.headers["cache-control"].startswith("public, max-age=")
    if "snapshot" in first.text:
        assert first.json()["snapshot"] == version.zones
    again = requests.get(server + path, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and not again.content and again.headers["etag"] == etag


def test_a_new_snapshot_is_drawn_without_a_reload(open_page, engine, zones, communes):
    p = open_page()
    page = p.open("level=3&refresh=1")  # the latest day, revalidated every second
    assert page.get_attribute("body", "data-cg-day") == DAY2.isoformat()
    assert p.fills()[FAR_COMMUNE] == HEX["green"]
    page.evaluate("window.__sameDocument = true")
    page.wait_for_timeout(2500)
    assert 304 in p.zone_statuses  # nothing changed yet: the server said so without a body
    snapshot = int(page.get_attribute("body", "data-cg-snapshot"))
    yellow, orange = communes[10:15], communes[40:43]
    put_indicators(
        engine, DAY2, {**{c: 60 for c in yellow}, **{c: 60 for c in orange}, TAN_PHONG: 200, FAR_COMMUNE: 200}
    )
    compute(engine, [DAY2])
    page.wait_for_function(
        f"() => window.covidgis.fills()['{FAR_COMMUNE}'] === '{HEX['red']}' && "
        f"Number(document.body.dataset.cgSnapshot) > {snapshot}",
        timeout=15000,
    )
    assert page.evaluate("window.__sameDocument") is True
    assert p.fills() == expected_fills(zone_colours(engine, DAY2), communes)
    legend = {
        row.get_attribute("data-colour"): int(row.inner_text().split()[-1])
        for row in page.query_selector_all(".cg-legend-row")
    }
    assert legend["red"] == 2
    p.shot("live-redraw")


def test_api_rejects_bad_parameters_with_the_reason(server, zones):
    bad_level = requests.get(f"{server}/map/api/zones", params={"level": 9}, timeout=10)
    assert bad_level.status_code == 400 and "level" in bad_level.json()["error"]
    bad_date = requests.get(f"{server}/map/api/zones", params={"level": "3", "date": "5/9/2021"}, timeout=10)
    assert bad_date.status_code == 400 and "2021-09-05" in bad_date.json()["error"]
    assert requests.get(f"{server}/map/api/zone/nope", timeout=10).status_code == 404
    assert requests.get(f"{server}/map/api/layers/nope", timeout=10).status_code == 404
    outside = requests.get(f"{server}/map/api/locate", params={"lon": 105.8, "lat": 21.0}, timeout=10)  # Hà Nội
    assert outside.status_code == 404
