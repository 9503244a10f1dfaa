"""The public map of a published snapshot (issue 15, item 2) in headless Chromium, served by nginx (the deploy
template) and by `python -m http.server` (no Range support): zones drawn from the PMTiles archive, legend, date,
accent-free search flying to a unit, "my zone" by geolocation and by a clicked point, English, data shown as text,
a clear message without a snapshot, and not one request outside the folder's origin."""

import datetime as dt
import html as html_module
import json
import re
import shutil
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "serve"))
from conftest import ROOT, free_port  # noqa: E402
from serve_support import filled  # noqa: E402, F401

from gis.levels import ADMIN_LEVEL_EN, ADMIN_LEVEL_VI, COLOURS, NO_ZONE_HEX  # noqa: E402
from gis.publish.snapshot import publish_snapshot  # noqa: E402
from gis.publish.staticmap import install_static_map, nginx_binary, running_nginx  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts" / "publish"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
WATCH_POLICY = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"""
XSS_NAME = '<img src=x onerror="window.__xss=1">Ấp <b>Độc</b>'
TAN_PHONG = "25996"  # Phường Tân Phong (Biên Hòa)


@pytest.fixture(scope="module")
def folder(filled, tmp_path_factory):
    """A published snapshot with the map installed; one hamlet renamed to markup first."""
    with filled.begin() as conn:
        xss = conn.execute(text("SELECT code FROM pub.zones WHERE admin_level = 4 ORDER BY code DESC LIMIT 1")).scalar()
        conn.execute(text("UPDATE admin.area SET name = :n WHERE code = :c"), {"n": XSS_NAME, "c": xss})
    out = tmp_path_factory.mktemp("published")
    publish_snapshot(filled, out, keep=3)
    install_static_map(out)

    latest = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert any(e["kind"] == "pmtiles" for e in latest["files"]), "publish wrote no PMTiles archive"
    return out


@pytest.fixture(scope="module")
def places(filled, folder):
    """Two hamlets (a plain one in Tân Phong and the renamed one) with a point well inside each, and Tân Phong."""

    def hamlet(where: str) -> dict:
        with filled.connect() as conn:
            row = (
                conn.execute(
                    text(f"""
                SELECT code, name, level, colour, label_vi, label_en,
                       ST_X(c) AS lon, ST_Y(c) AS lat
                FROM pub.zones, LATERAL (SELECT (ST_MaximumInscribedCircle(geom)).center AS c) m
                WHERE admin_level = 4 AND {where} ORDER BY code LIMIT 1""")
                )
                .mappings()
                .one()
            )
        return dict(row)

    with filled.connect() as conn:
        commune = dict(conn.execute(text("SELECT * FROM pub.zones WHERE code = :c"), {"c": TAN_PHONG}).mappings().one())
    return {"hamlet": hamlet(f"parent_code = '{TAN_PHONG}'"), "xss": hamlet(f"name = '{XSS_NAME}'"), "commune": commune}


def http_server(directory: Path):
    """`python -m http.server` over the folder: answers 200 with the whole file to a Range request."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.head(base, timeout=1)
            return process, base
        except requests.ConnectionError:
            assert process.poll() is None and time.monotonic() < deadline, "http.server did not start"
            time.sleep(0.05)


@pytest.fixture(scope="module", params=["nginx", "http.server"])
def served(request, folder, tmp_path_factory):
    """The folder's base URL, by nginx with the deploy config, then by python -m http.server."""
    if request.param == "nginx":
        if nginx_binary() is None:
            pytest.skip("nginx is not installed (scripts/system-deps.sh --test installs it)")
        with running_nginx(folder, free_port(), tmp_path_factory.mktemp("nginx")) as base:
            yield request.param, base
    else:
        process, base = http_server(folder)
        try:
            yield request.param, base
        finally:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class MapPage:
    """One page of the static map, with the console errors, policy violations and requests it made."""

    def __init__(self, browser, base: str, **context):
        self.context = browser.new_context(viewport={"width": 1200, "height": 800}, **context)
        self.context.add_init_script(WATCH_POLICY)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.statuses: dict[str, list[int]] = {}
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("response", lambda r: self.statuses.setdefault(r.url, []).append(r.status))

    def open(self, query: str = "", ready: str = "body.map-idle"):
        self.page.goto(f"{self.base}/{query}")
        self.page.wait_for_selector(ready, state="attached", timeout=30_000)
        return self.page

    def idle(self):
        """Wait until the map has stopped moving and drawn every tile it needs."""
        self.page.evaluate(
            """() => new Promise(resolve => { const m = window.covidgisMap;
                if (m.loaded() && !m.isMoving() && m.areTilesLoaded()) resolve(); else m.once('idle', resolve); })"""
        )

    def rendered_at(self, lon: float, lat: float) -> list[dict]:
        return self.page.evaluate(
            """([lon, lat]) => { const m = window.covidgisMap;
                return m.queryRenderedFeatures(m.project([lon, lat]), {layers: ['zones-fill']})
                        .map(f => f.properties); }""",
            [lon, lat],
        )

    def jump(self, lon: float, lat: float, zoom: float):
        """Jump, then wait for the map's next idle event: the page's own idle handler (which learns the legend from
        the drawn tiles) was registered first, so it has run by then. Polling loaded()/areTilesLoaded() right after
        jumpTo could resolve before that handler ran (a CI flake, stop 21)."""
        self.page.evaluate(
            """([lon, lat, z]) => new Promise(resolve => { const m = window.covidgisMap;
                m.once('idle', resolve); m.jumpTo({center: [lon, lat], zoom: z}); })""",
            [lon, lat, zoom],
        )

    def click_at(self, lon: float, lat: float):
        """A pointer click on the map canvas where the point is drawn."""
        x, y = self.page.evaluate(
            "(ll) => { const q = window.covidgisMap.project(ll); return [q.x, q.y]; }", [lon, lat]
        )
        self.page.locator("#map canvas").click(position={"x": x, "y": y})

    def close(self):
        assert self.errors == [], self.errors
        assert self.page.evaluate("window.__cspViolations") == []
        outside = [u for u in self.requests if not u.startswith((self.base + "/", "data:", "blob:"))]
        assert outside == [], outside
        self.context.close()


@pytest.fixture
def open_page(browser, served):
    pages: list[MapPage] = []

    def make(**context) -> MapPage:
        pages.append(MapPage(browser, served[1], **context))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def latest_of(folder: Path) -> dict:
    return json.loads((folder / "latest.json").read_text(encoding="utf-8"))


def blend(colour: str, opacity: float = 0.8, background: str = "#eef1f4") -> tuple[int, ...]:
    hex_colour = COLOURS[colour].hex
    rgb = [int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]
    bg = [int(background[i : i + 2], 16) for i in (1, 3, 5)]
    return tuple(round(opacity * c + (1 - opacity) * b) for c, b in zip(rgb, bg, strict=True))


def rgb(colour: str) -> str:
    """A zone colour key's hex as getComputedStyle reports it."""
    r, g, b = (int(COLOURS[colour].hex[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def read_legend(page) -> dict[int, tuple[str, str]]:
    """The legend as shown: level → (swatch colour, label)."""
    rows = page.eval_on_selector_all(
        "#legend .legend-item",
        """items => items.map(i => [Number(i.dataset.level),
            getComputedStyle(i.querySelector('.swatch')).backgroundColor, i.innerText.trim()])""",
    )
    return {level: (colour, label) for level, colour, label in rows}


def pixel(page, lon: float, lat: float) -> tuple[int, ...]:
    """The colour Chromium painted at a point of the map (a screenshot of the canvas, decoded in the page)."""
    x, y = page.evaluate(
        """([lon, lat]) => { const m = window.covidgisMap, p = m.project([lon, lat]);
            const r = m.getCanvas().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
        [lon, lat],
    )
    shot = page.screenshot(clip={"x": round(x), "y": round(y), "width": 1, "height": 1})
    return tuple(
        page.evaluate(
            """async (bytes) => { const blob = new Blob([new Uint8Array(bytes)], {type: 'image/png'});
                const bitmap = await createImageBitmap(blob); const c = new OffscreenCanvas(1, 1);
                const g = c.getContext('2d'); g.drawImage(bitmap, 0, 0);
                return Array.from(g.getImageData(0, 0, 1, 1).data.slice(0, 3)); }""",
            list(shot),
        )
    )


def test_the_map_draws_the_zones_with_legend_and_date(open_page, served, folder, places, filled):
    p = open_page()
    page = p.open()
    assert page.title().startswith("Bản đồ cấp độ dịch COVID-19")
    assert page.evaluate("document.documentElement.lang") == "vi"
    latest = latest_of(folder)
    changed = dt.datetime.fromisoformat(latest["snapshot_changed_at"]).astimezone(zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh"))
    date_text = page.inner_text("#snapshot-date")
    assert date_text.startswith("Dữ liệu cấp độ thay đổi lúc") and changed.strftime("%H:%M") in date_text
    assert str(changed.year) in date_text and "xuất bản lúc" in date_text
    day = dt.date.fromisoformat(latest["zones_day"])  # the zones' data day, as a date (no time zone moves it)
    assert f"số liệu ngày {day.day} thg {day.month}, {day.year}" in date_text, date_text
    # the hamlet at the hamlets' zoom: rendered from the archive, painted in its colour
    hamlet = places["hamlet"]
    p.jump(hamlet["lon"], hamlet["lat"], 12.5)
    rendered = p.rendered_at(hamlet["lon"], hamlet["lat"])
    assert [r["code"] for r in rendered] == [hamlet["code"]]
    assert rendered[0]["colour"] == hamlet["colour"] and rendered[0]["level"] == hamlet["level"]
    assert (
        max(abs(a - b) for a, b in zip(pixel(page, hamlet["lon"], hamlet["lat"]), blend(hamlet["colour"]), strict=True))
        <= 8
    )
    # at the communes' zoom the same point is Tân Phong
    p.jump(hamlet["lon"], hamlet["lat"], 10.5)
    assert [r["code"] for r in p.rendered_at(hamlet["lon"], hamlet["lat"])] == [TAN_PHONG]
    # legend: the levels drawn so far, in their colour, with the rule set's label the tiles carry; once the search
    # index is loaded (first use of the search box), every level of the snapshot
    with filled.connect() as conn:
        levels = {
            r.level: (r.colour, r.label_vi) for r in conn.execute(text("SELECT level, colour, label_vi FROM pub.zones"))
        }
    legend = read_legend(page)
    assert {hamlet["level"], places["commune"]["level"]} <= set(legend) <= set(levels)
    for level, (colour, label) in legend.items():
        assert colour == rgb(levels[level][0]) and label == levels[level][1]
    page.focus("#search")
    page.wait_for_selector(f"#legend .legend-item:nth-child({len(levels)})", state="attached")
    legend = read_legend(page)
    assert list(legend) == sorted(levels)
    for level, (colour, label) in legend.items():
        assert colour == rgb(levels[level][0]) and label in (levels[level][1], f"Cấp độ {level}")
    page.screenshot(path=str(ARTIFACTS / f"static-map-{served[0]}.png"))


def test_the_archive_is_read_by_ranges_or_once_whole(open_page, served, folder):
    p = open_page()
    p.open()
    archive = next(e["path"] for e in latest_of(folder)["files"] if e["kind"] == "pmtiles")
    statuses = p.statuses[f"{p.base}/{archive}"]
    if served[0] == "nginx":
        assert statuses and set(statuses) == {206}
    else:  # http.server ignores Range: the page fetched the whole archive once and sliced it
        assert statuses == [200]


def test_search_is_accent_free_and_flies_to_the_unit(open_page, places):
    p = open_page()
    page = p.open()
    page.fill("#search", "TAN PHONG")
    page.wait_for_selector(f"#results button[data-code='{TAN_PHONG}']")
    names = page.eval_on_selector_all("#results .name", "ns => ns.map(n => n.textContent)")
    assert places["commune"]["name"] in names and all("Tân Phong" in n for n in names)
    page.fill("#search", TAN_PHONG)  # by code too
    page.click(f"#results button[data-code='{TAN_PHONG}']")
    p.idle()
    zoom, lon, lat = page.evaluate(
        "(() => { const m = window.covidgisMap, c = m.getCenter(); return [m.getZoom(), c.lng, c.lat]; })()"
    )
    assert 10 <= zoom < 12  # the communes' zooms: the unit found is what is drawn
    assert TAN_PHONG in [r["code"] for r in p.rendered_at(lon, lat)]
    page.fill("#search", "khong co noi nay")
    assert page.inner_text("#results") == "Không tìm thấy đơn vị nào."


def test_my_zone_by_geolocation_and_by_a_clicked_point(open_page, places):
    hamlet = places["hamlet"]
    p = open_page(geolocation={"longitude": hamlet["lon"], "latitude": hamlet["lat"]}, permissions=["geolocation"])
    page = p.open()
    page.click("#locate")
    page.wait_for_selector(f"#my-zone[data-code='{hamlet['code']}']", timeout=30_000)
    text_shown = page.inner_text("#my-zone")
    assert (
        hamlet["name"] in text_shown and hamlet["label_vi"] in text_shown and f"Cấp độ {hamlet['level']}" in text_shown
    )
    # a clicked point: the Tân Phong hamlet, seen from the provinces' zoom
    xss = places["xss"]
    p.jump(xss["lon"], xss["lat"], 7)
    page.click("#pick")
    p.click_at(xss["lon"], xss["lat"])
    page.wait_for_selector(f"#my-zone[data-code='{xss['code']}']", timeout=30_000)
    # a name made of markup is shown as text
    assert page.inner_text("#my-zone .name") == XSS_NAME
    assert page.evaluate("window.__xss") is None and page.locator("#my-zone img, #my-zone b").count() == 0


def test_markup_in_the_data_is_shown_as_text(open_page, places):
    xss = places["xss"]
    p = open_page()
    page = p.open()
    page.fill("#search", "doc")
    page.wait_for_selector(f"#results button[data-code='{xss['code']}']")
    assert XSS_NAME in page.eval_on_selector_all("#results .name", "ns => ns.map(n => n.textContent)")
    p.jump(xss["lon"], xss["lat"], 12.5)
    p.click_at(xss["lon"], xss["lat"])
    page.wait_for_selector(".maplibregl-popup .name")
    assert page.inner_text(".maplibregl-popup .name") == XSS_NAME
    assert page.inner_text(".maplibregl-popup .meta") == f"ấp · Mã {xss['code']}"  # admin level names: gis/levels
    assert page.locator("img, b").count() == 0 and page.evaluate("window.__xss") is None


def test_english_toggle(open_page, places):
    hamlet = places["hamlet"]
    p = open_page(geolocation={"longitude": hamlet["lon"], "latitude": hamlet["lat"]}, permissions=["geolocation"])
    page = p.open()
    page.click("#locate")
    page.wait_for_selector(f"#my-zone[data-code='{hamlet['code']}']", timeout=30_000)
    page.click("#lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("h1") == "COVID-19 risk levels" and page.inner_text("#lang") == "Tiếng Việt"
    assert page.inner_text("#snapshot-date").startswith("Risk levels changed at")
    assert hamlet["label_en"] in page.inner_text("#my-zone") and f"Level {hamlet['level']}" in page.inner_text(
        "#my-zone"
    )
    assert page.get_attribute("#search", "placeholder") == "e.g. Tan Phong"
    page.fill("#search", TAN_PHONG)
    assert "commune" in page.inner_text(f"#results button[data-code='{TAN_PHONG}'] .meta")
    page.click("#lang")
    assert (
        page.evaluate("document.documentElement.lang") == "vi"
        and page.inner_text("h1") == "Bản đồ cấp độ dịch COVID-19"
    )
    assert "xã" in page.inner_text(f"#results button[data-code='{TAN_PHONG}'] .meta")


@pytest.mark.parametrize(
    ("latest", "vi", "en"),
    [
        (None, "Chưa có bản dữ liệu nào được xuất bản", "No snapshot has been published here yet"),
        (b'{"format": 1, "files": [', "Bản dữ liệu xuất bản không hợp lệ", "The published snapshot is not valid"),
        (b'{"format": 1, "files": []}', "Bản dữ liệu xuất bản không hợp lệ", "The published snapshot is not valid"),
    ],
    ids=["absent", "truncated", "no-archive"],
)
def test_no_or_a_bad_snapshot_shows_a_bilingual_message(browser, tmp_path, latest, vi, en):
    install_static_map(tmp_path)
    if latest is not None:
        (tmp_path / "latest.json").write_bytes(latest)
    process, base = http_server(tmp_path)
    try:
        p = MapPage(browser, base)
        page = p.open(ready="#message:not([hidden])")
        message = page.inner_text("#message")
        assert vi in message and en in message
        assert page.locator("#message p[lang='vi']").count() == 1 and page.locator("#message p[lang='en']").count() == 1
        p.errors = [e for e in p.errors if "404" not in e]  # the browser logs the missing latest.json
        p.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_install_replaces_only_what_changed(tmp_path):
    first = install_static_map(tmp_path)
    assert {"index.html", "map.js", "map.css"} <= set(first)
    assert any(f.startswith("vendor/maplibre-gl-") and f.endswith("/LICENSE.txt") for f in first)
    assert install_static_map(tmp_path) == []
    (tmp_path / "map.css").write_text("/* someone's edit */")
    before = (tmp_path / "index.html").stat().st_ino
    assert install_static_map(tmp_path) == ["map.css"]
    assert (tmp_path / "index.html").stat().st_ino == before  # untouched, not rewritten
    assert not [p for p in tmp_path.rglob(".*")]  # no scratch file left
    # the page names only files that are there, the vendored ones under a versioned folder
    html = (tmp_path / "index.html").read_text(encoding="utf-8")
    named = [n for n in re.findall(r'(?:src|href|data-worker)="([^"]+)"', html) if n != "data:,"]
    assert len(named) == 6 and all((tmp_path / n).is_file() for n in named)
    assert all(re.match(r"(vendor/[a-z.-]+-\d+\.\d+\.\d+/|map\.)", n) for n in named)
    colours = json.loads(html_module.unescape(re.search(r'data-colours="([^"]+)"', html).group(1)))  # type: ignore[union-attr]
    assert colours == {"": NO_ZONE_HEX, **{key: c.hex for key, c in COLOURS.items()}}
    admin_levels = json.loads(html_module.unescape(re.search(r'data-admin-levels="([^"]+)"', html).group(1)))  # type: ignore[union-attr]
    assert admin_levels == {str(int(k)): {"vi": v, "en": ADMIN_LEVEL_EN[k]} for k, v in ADMIN_LEVEL_VI.items()}
    shutil.rmtree(tmp_path / "vendor")
    assert len(install_static_map(tmp_path)) == len(first) - 3


def test_my_zone_outside_the_data_says_so(open_page):
    p = open_page(geolocation={"longitude": 100.0, "latitude": 20.0}, permissions=["geolocation"])
    page = p.open()
    page.click("#locate")
    page.wait_for_selector("#my-zone:has-text('không thuộc đơn vị nào')", timeout=30_000)
    assert page.inner_text("#my-zone") == "Điểm này không thuộc đơn vị nào có dữ liệu."
    assert page.get_attribute("#my-zone", "data-code") is None


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (scripts/system-deps.sh --test installs it)")
def test_the_first_paint_benchmark_runs_on_a_published_folder(folder):
    """benchmarks/static_map.py keeps working (one run over this module's folder; its numbers are not asserted)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "static_map.py"), "--runs", "1", "--folder", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "reference, the empty map" in done.stdout and "FIRST PAINT of the national zones" in done.stdout
