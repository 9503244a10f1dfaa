"""Stored XSS: hostile facility names, ids and area codes, area names and rejected rows, stored as an ingest would store
them, shown by every HTML page that shows them — pygeoapi's item lists and item pages (public, and restricted with a
token), and the /map page (layer popups, search, my zone) — in headless Chromium, popups opened by clicking.

Nothing may run (no dialog, no injected element or event handler, no javascript: link), every value must show as the
literal text it is, and every page must work offline under our Content-Security-Policy (no inline script, nothing
from another origin) with no policy violation: a violation would mean a value became markup that only the policy
stopped. Also: every HTML page pygeoapi serves carries the policy and loads nothing from a CDN.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import requests
from maps.test_map_page import CHROMIUM_ARGS  # tests/maps: a namespace package beside this folder
from serve_support import PUBLIC, RESTRICTED, TAN_PHONG, bearer, filled, run_cli, running_server  # noqa: F401
from sqlalchemy import text

from gis.serve.security import content_security_policy

# Names as businesses could type them when registering: breaking out of a script, of an attribute, event handlers,
# javascript:/data: URLs, comments and CDATA, entities that must stay literal, template syntax, and unicode tricks
# (JS line terminators, full-width brackets, right-to-left override, zero-width and combining characters).
# Every piece of markup carries `data-xss`, so an element parsed from a value is found in the page.
PAYLOADS = [
    "</script><script data-xss>alert(1)</script>",
    "<img src=x onerror=alert(1) data-xss>",
    '"><svg onload=alert(1) data-xss>',
    "'><img src=x onerror=alert(1) data-xss>",
    '" onmouseover="alert(1)" data-xss="',
    "' autofocus onfocus='alert(1)' data-xss='",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)" data-xss>bấm vào đây</a>',
    "data:text/html,<script>alert(1)</script>",
    'https://example.org/logo.png" onerror="alert(1)',
    "<!--<script>alert(1)//--><b data-xss>x</b>",
    "]]><script data-xss>alert(1)</script><![CDATA[",
    "\u2028\u2029</SCRIPT ><script data-xss>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;",
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",
    "\u202e<b data-xss>gnp.exe</b>\u200b\u0301",
    "{{7*7}} ${alert(1)} `-alert(1)-` {% raw %}",
    "';alert(1);// \";alert(1);// \\';alert(1)//",
    "<style data-xss>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1) data-xss>",
    '<iframe srcdoc="<script>parent.alert(1)</script>" data-xss></iframe>',
    '<base href="//evil.test/" data-xss><form action=javascript:alert(1) data-xss><button>x</button></form>',
    "Điểm tiêm \"Trảng Dài\" <b data-xss>&</b> 'Hố Nai'\ttab\nline",
]
# Facility ids (the public `id`, the restricted `facility_id`) and area codes get the markup-shaped payloads too.
HOSTILE_IDS = [
    "<img src=x onerror=alert(1) data-xss>",
    '"><svg onload=alert(1) data-xss>',
    "javascript:alert(1)",
    "' onmouseover='alert(1)' data-xss='",
    "a?b#c&d=<i data-xss>",
    "%3Cb data-xss%3E",
    "../../openapi",
]
HOSTILE_HAMLETS = {f"{TAN_PHONG}-0{i + 1}": name for i, name in enumerate(PAYLOADS[:4])}
BATCH = 30


def facility_rows() -> list[dict]:
    """One quarantine facility per payload (quarantine places are on the public and the restricted layers), on a
    grid ~3 km apart so that every marker can be clicked."""
    rows = []
    for i, name in enumerate(PAYLOADS):
        rows.append(
            {
                "id": HOSTILE_IDS[i] if i < len(HOSTILE_IDS) else f"XSS{i:02d}",
                "name": name,
                "area": name if i % 6 == 0 else TAN_PHONG,
                "lon": 106.80 + 0.03 * (i % 6),
                "lat": 10.90 + 0.03 * (i // 6),
            }
        )
    return rows


@pytest.fixture(scope="module")
def hostile(filled):  # noqa: F811  (the fixture, by name)
    with filled.begin() as conn:
        conn.execute(
            text("""
            INSERT INTO ingest.batch (id, feed, file_name, file_sha256, rows_read, accepted, rejected, started_at,
                                      finished_at)
            OVERRIDING SYSTEM VALUE VALUES (:b, 'facilities', '<img src=x onerror=alert(1) data-xss>.csv', 'cc',
                                            30, 23, 7, now(), now())"""),
            {"b": BATCH},
        )
        conn.execute(
            text("""
            INSERT INTO events.facilities (facility_id, kind, name, beds, rooms, occupied, geom, area_code,
                                           commune_code, batch_id, row_hash)
            VALUES (:id, 'quarantine', :name, 100, 50, 7, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :area,
                    :commune, :b, md5(:id))"""),
            [{**r, "commune": TAN_PHONG, "b": BATCH} for r in facility_rows()],
        )
        conn.execute(
            text("""
            INSERT INTO ingest.reject (batch_id, file_name, row_number, field, reason, message, record)
            VALUES (:b, 'facilities.csv', :n, :name, 'unknown_area', :name, CAST(:record AS jsonb))"""),
            [
                {
                    "b": BATCH,
                    "n": n + 2,
                    "name": name,
                    "record": json.dumps({"Tên cơ sở": name, name: HOSTILE_IDS[n % len(HOSTILE_IDS)]}),
                }
                for n, name in enumerate(PAYLOADS)
            ],
        )
        for code, name in HOSTILE_HAMLETS.items():
            conn.execute(
                text("UPDATE admin.area SET name = :n WHERE code = :c AND valid_to IS NULL"), {"n": name, "c": code}
            )
    return filled


@pytest.fixture(scope="module")
def base(hostile, db_url, tmp_path_factory):
    with running_server(db_url, tmp_path_factory.mktemp("serve-var")) as url:
        yield url


@pytest.fixture(scope="module")
def token(base, db_url):
    return run_cli("users", "add", "xss-analyst", "--role", "analyst", database_url=db_url).stdout.strip()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


# Run in the page after load and after every popup: what a value would leave behind had it become markup.
INJECTED = """() => {
  const all = [...document.querySelectorAll('*')];
  return {
    marked: document.querySelectorAll('[data-xss]').length,
    handlers: all.flatMap(el => [...el.attributes].filter(a => a.name.startsWith('on'))
      .map(a => el.tagName + ' ' + a.name)),
    jsLinks: [...document.querySelectorAll('a[href], form[action], iframe, base')]
      .map(el => el.getAttribute('href') || el.getAttribute('action') || el.tagName)
      .filter(v => /^\\s*(javascript|data):|^IFRAME$|^BASE$/i.test(v)),
  };
}"""
WATCH = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"""


class Browser:
    """One page in its own context: dialogs, script errors, CSP violations and requests to other origins."""

    def __init__(self, browser, base: str, token: str | None = None):
        self.base = base
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 900}, extra_http_headers=bearer(token) if token else None
        )
        self.context.add_init_script(WATCH)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route):
        if route.request.url.startswith((self.base, "data:", "blob:")):
            route.continue_()
        else:  # offline: the basemap (and anything else outside) is not there
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: str, ready: str | None = None):
        response = self.page.goto(self.base + path)
        assert response.status == 200, f"{path}: {response.status}"
        self.page.wait_for_load_state("load")
        if ready:
            self.page.wait_for_selector(ready, state="attached")
        return response

    def assert_clean(self, where: str):
        found = self.page.evaluate(INJECTED)
        assert found == {"marked": 0, "handlers": [], "jsLinks": []}, where
        assert self.dialogs == [], where
        assert self.errors == [], where
        assert self.page.evaluate("window.__cspViolations") == [], where

    def close(self):
        basemaps = [u for u in self.outside if "tile.openstreetmap.org" not in u]
        assert basemaps == [], basemaps  # only the configured basemap is ever asked for outside
        self.context.close()


@pytest.fixture
def open_browser(browser, base):
    opened = []

    def make(token: str | None = None) -> Browser:
        opened.append(Browser(browser, base, token))
        return opened[-1]

    yield make
    for b in opened:
        b.close()


def click_every_marker(b: Browser, texts: dict[str, str]):
    """Click each marker of the items map; its popup must hold exactly one expected label, as text."""
    page = b.page
    page.wait_for_selector("#items-map .leaflet-marker-icon")
    seen = set()
    for marker in page.query_selector_all("#items-map .leaflet-marker-icon"):
        # dispatched, not a pointer click: under load the map's fitBounds animation can still be moving the marker
        # (the container then takes the pointer); what is tested is the popup's text, not the pointer
        marker.dispatch_event("click")
        popup = page.wait_for_selector(".leaflet-popup-content a")
        label = popup.evaluate("a => a.textContent")
        assert label in texts.values(), label
        href = popup.get_attribute("href")
        assert href.startswith(b.base + "/collections/") and href.endswith("?f=html"), href
        seen.add(label)
        b.assert_clean(f"popup {label!r}")
        page.click(".leaflet-popup-close-button")
        page.wait_for_selector(".leaflet-popup", state="detached")
    assert seen == set(texts.values())


def assert_list_shows(b: Browser, titles: list[str]):
    """The items table links every title, the title attribute holding it exactly."""
    shown = b.page.eval_on_selector_all("table a[title]", "links => links.map(a => a.getAttribute('title'))")
    assert sorted(shown) == sorted(titles)


def item_path(collection: str, ident: str) -> str:
    return f"/collections/{collection}/items/{quote(ident, safe='')}?f=html"


def test_public_facility_list_and_popups(open_browser, base):
    b = open_browser()
    b.open(
        f"/collections/facilities-public/items?f=html&limit=1000&kind=quarantine&commune_code={TAN_PHONG}", "#items-map"
    )
    b.assert_clean("facilities-public list")
    rows = facility_rows()
    assert_list_shows(b, [r["name"] for r in rows])
    click_every_marker(b, {r["id"]: r["name"] for r in rows})


@pytest.mark.parametrize("row", facility_rows(), ids=lambda r: r["id"][:12])
def test_public_facility_page(open_browser, row):
    if "/" in row["id"]:
        pytest.skip("an id holding '/' has no item URL (a path segment cannot hold it)")
    b = open_browser()
    b.open(item_path("facilities-public", row["id"]), "#items-map .leaflet-marker-icon")
    b.assert_clean(row["id"])
    assert b.page.eval_on_selector("h1", "h => h.textContent") == row["name"]
    cells = b.page.eval_on_selector_all("table td", "tds => tds.map(td => td.textContent.trim())")
    assert row["id"] in cells and row["area"].strip() in cells


def test_restricted_quarantine_list_and_popups(open_browser, token):
    b = open_browser(token)
    b.open("/collections/quarantine-facilities/items?f=html&limit=1000&commune_code=" + TAN_PHONG, "#items-map")
    b.assert_clean("quarantine-facilities list")
    rows = facility_rows()
    assert_list_shows(b, [r["name"] for r in rows])
    click_every_marker(b, {r["id"]: r["name"] for r in rows})


@pytest.mark.parametrize("row", facility_rows()[: len(HOSTILE_IDS) + 3], ids=lambda r: r["id"][:12])
def test_restricted_quarantine_page(open_browser, token, row):
    if "/" in row["id"]:
        pytest.skip("an id holding '/' has no item URL (a path segment cannot hold it)")
    b = open_browser(token)
    b.open(item_path("quarantine-facilities", row["id"]), "#items-map .leaflet-marker-icon")
    b.assert_clean(row["id"])
    assert b.page.eval_on_selector("h1", "h => h.textContent") == row["name"]


def test_restricted_rejects_list_and_pages(open_browser, token, base):
    """Rejected rows hold the raw record of a file: every key and value in it is hostile."""
    b = open_browser(token)
    b.open(f"/collections/ingest-rejects/items?f=html&limit=1000&batch_id={BATCH}", "table")
    b.assert_clean("ingest-rejects list")
    ids = [
        f["id"]
        for f in requests.get(
            f"{base}/collections/ingest-rejects/items",
            headers=bearer(token),
            timeout=30,
            params={"f": "json", "batch_id": str(BATCH), "limit": "1000"},
        ).json()["features"]
    ]
    assert len(ids) == len(PAYLOADS)
    for ident in ids:
        b.open(item_path("ingest-rejects", str(ident)), "table")
        b.assert_clean(f"reject {ident}")
        shown = b.page.eval_on_selector("table", "t => t.textContent")
        assert any(p.split("\n")[0] in shown for p in PAYLOADS)


def test_hostile_area_names_on_pygeoapi_pages(open_browser):
    b = open_browser()
    b.open(f"/collections/areas/items?f=html&parent_code={TAN_PHONG}&limit=100", "#items-map")
    b.assert_clean("areas list")
    titles = b.page.eval_on_selector_all("table a[title]", "links => links.map(a => a.getAttribute('title'))")
    assert set(HOSTILE_HAMLETS.values()) <= set(titles)
    for code, name in HOSTILE_HAMLETS.items():
        b.open(item_path("areas", code), "#items-map path")
        b.assert_clean(code)
        assert b.page.eval_on_selector("h1", "h => h.textContent") == name


def test_map_popups_search_and_my_zone(open_browser, token):
    """/map (gis/maps) with the same values: the quarantine layer's popups, the restricted layer after sign-in,
    and a search for a hostile hamlet name, its result, its zone popup and the 'my zone' card."""
    b = open_browser()
    page = b.page
    policy = b.open("/map?basemap=0&level=4", "body[data-cg-ready='1']").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy and "'unsafe-inline'" not in policy
    b.assert_clean("/map")
    page.check("#cg-layer-quarantine")
    # A function, not an expression: Playwright evaluates expressions with eval, which the policy refuses.
    page.wait_for_function(
        "n => window.covidgis.state.overlays.quarantine && "
        "window.covidgis.state.overlays.quarantine.getLayers().length >= n",
        arg=len(PAYLOADS),
    )
    texts = page.evaluate("""() => {
      const out = [];
      window.covidgis.state.overlays.quarantine.eachLayer(layer => {
        layer.openPopup();
        out.push(layer.getPopup().getElement().querySelector('.leaflet-popup-content strong').textContent);
        layer.closePopup();
      });
      return out;
    }""")
    assert set(PAYLOADS) <= set(texts)
    b.assert_clean("/map quarantine popups")
    for code, name in HOSTILE_HAMLETS.items():
        page.fill("#cg-search", name)
        button = page.wait_for_selector(f"button.cg-result[data-code='{code}']")
        assert button.evaluate("b => b.firstChild.textContent").strip() == name.strip()
        b.assert_clean(f"/map search {code}")
        button.click()
        card = page.wait_for_selector(f"#cg-myzone [data-code='{code}'] strong")
        assert card.text_content() == name
        page.wait_for_selector(f".cg-popup[data-code='{code}']")
        b.assert_clean(f"/map zone {code}")


@pytest.mark.parametrize("collection", [*PUBLIC, *RESTRICTED])
def test_every_collections_item_pages(open_browser, base, token, collection):
    """Each collection's item list and its first item render (no template error) clean under the policy."""
    query = "&admin_level=2" if collection == "zones-history" else ""  # one day of every area is a big page
    b = open_browser(token)
    b.open(f"/collections/{collection}/items?f=html&limit=50{query}", "main")
    b.assert_clean(collection)
    first = requests.get(
        f"{base}/collections/{collection}/items?f=json&limit=1{query}", headers=bearer(token), timeout=30
    ).json()["features"]
    if first:
        b.open(item_path(collection, str(first[0]["id"])), "main")
        b.assert_clean(f"{collection} item")


# Every HTML page of the OGC API, as an anonymous caller: the policy, no CDN, no violation, the page's script ran.
PAGES = {
    "/?f=html": "main",
    "/conformance?f=html": "main",
    "/collections?f=html": "main",
    "/collections/zones?f=html": "#collection-map .leaflet-interactive",
    "/collections/zones/queryables?f=html": "main",
    "/collections/zones/schema?f=html": "main",
    "/collections/zones/items?f=html&admin_level=2": "#items-map .leaflet-interactive",
    "/collections/zones-history/items?f=html&admin_level=2": "#items-map .leaflet-interactive",
    "/collections/zones/tiles?f=html": "#items-map canvas",
    "/collections/zones/tiles?f=html&scheme=WorldCRS84Quad": "#tiles-projection-warning:not([hidden])",
    "/collections/data-quality/items?f=html": "main",
    "/TileMatrixSets?f=html": "main",
    "/processes?f=html": "main",
    "/processes/zone-at-point?f=html": "main",
    "/jobs?f=html": "#limits",
    "/openapi?f=html": ".swagger-ui .info",
    "/openapi?f=html&ui=redoc": ".swagger-ui .info",
}


@pytest.mark.parametrize("path", PAGES)
def test_every_html_page_works_offline_under_the_policy(open_browser, path):
    b = open_browser()
    response = b.open(path, PAGES[path])
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    b.assert_clean(path)
    assert b.outside == [] or all("tile.openstreetmap.org" in u for u in b.outside)


def test_policy_on_every_response(base, token):
    """JSON, errors, restricted answers, static files and the map carry the headers; none may run inline script."""
    for path, headers in [
        ("/collections/zones/items?f=json", {}),
        ("/collections/nope", {}),
        ("/health", {}),
        ("/collections/cases/items", {}),
        ("/collections/cases/items", bearer(token)),
        ("/static/covidgis/pages.js", {}),
        ("/map/api/search?q=x", {}),
        ("/map", {}),
        ("/map/", {}),
        ("/map?level=4", {}),
        ("/map/static/map.js", {}),
    ]:
        response = requests.get(base + path, headers=headers, timeout=30)
        policy = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in policy and "object-src 'none'" in policy, path
        assert "frame-ancestors 'none'" in policy and "base-uri 'none'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin", path


def test_policy_allows_images_only_from_the_basemaps():
    policy = content_security_policy(
        ["https://{s}.tile.example.org/{z}/{x}/{y}.png", "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", ""]
    )
    assert "img-src 'self' data: http://127.0.0.1:8080 https://*.tile.example.org;" in policy
    assert "'unsafe-inline'" not in policy and "script-src 'self';" in policy and "style-src 'self';" in policy
