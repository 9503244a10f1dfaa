"""The coordinator page /care in headless Chromium against `covidgis serve` (issue 13, item 9): a coordinator signs in
with a token and sees the open requests with their offers in Vietnamese; accepts the nearest (the status line says
so, the request shows accepted and the facility's free beds drop by one); a stale page accepting the now full
facility shows the 409 reason; an analyst's token gets the 403 message and the sign-in box again; markup in a
facility's name or a reason stays text; the English toggle changes the headings and is remembered; the tables reload
every 30 s. Under the server's Content-Security-Policy, with no violation, no script error and nothing fetched from
elsewhere on any page."""

from __future__ import annotations

import pytest
from care_page_support import COMMUNE, FACILITIES, MARKUP_NAME, MARKUP_REASON, P1, P7, seed
from care_support import ROOMS, ingest, person_key, write_csv
from conftest import ROOT, run_cli, running_server
from maps.test_map_page import CHROMIUM_ARGS, WATCH_POLICY  # tests/maps: a namespace package beside this folder
from sqlalchemy import text

from gis.care.transfers import request_transfer

ARTIFACTS = ROOT / "test-artifacts" / "care"
DENIED_403 = "không phải của điều phối viên"


@pytest.fixture(scope="module")
def seeded(engine, tmp_path_factory):
    return seed(engine, tmp_path_factory.mktemp("care-page"))


@pytest.fixture(scope="module")
def served(seeded, db_url, tmp_path_factory):
    with running_server(db_url, tmp_path_factory.mktemp("care-page-var"), COVIDGIS_SERVE_TOKEN_TTL_SECONDS="0") as base:
        yield base


@pytest.fixture(scope="module")
def tokens(served, db_url):
    return {
        name: run_cli("users", "add", name, "--role", role, database_url=db_url).stdout.strip()
        for name, role in (("ca-truc-a", "coordinator"), ("ca-truc-b", "coordinator"), ("an-analyst", "analyst"))
    }


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


class CarePage:
    """One tab of /care with what it logged and fetched; `refused` are the HTTP statuses the test expects the
    browser to log as failed loads (a 403 for an analyst, a 409 refusal)."""

    def __init__(self, browser, base: str, refused: tuple[int, ...] = ()):
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.context.add_init_script(WATCH_POLICY)
        self.page = self.context.new_page()
        self.base = base
        self.refused = refused
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, query: str = ""):
        self.page.goto(f"{self.base}/care{'?' + query if query else ''}")
        self.page.wait_for_selector("body[data-care-ready='1']")
        return self.page

    def loads(self) -> int:
        return int(self.page.evaluate("Number(document.body.dataset.careLoads || 0)"))

    def after_load(self, action) -> None:
        """Run `action` and wait until the page has finished one more load of its tables."""
        before = self.loads()
        action()
        self.page.wait_for_function(f"() => Number(document.body.dataset.careLoads || 0) > {before}")

    def sign_in(self, token: str) -> None:
        self.page.fill("#care-token", token)
        self.after_load(lambda: self.page.click("#care-signin-button"))

    def cells(self, request_id: int) -> list[str]:
        return [
            c.text_content() or ""
            for c in self.page.query_selector_all(f"#care-requests-body tr[data-request='{request_id}'] > td")
        ]

    def facility(self, facility_id: str, column: str) -> str:
        return self.page.text_content(f"#care-facilities-body tr[data-facility='{facility_id}'] .care-{column}") or ""

    def status(self) -> str:
        return self.page.text_content("#care-status") or ""

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        expected = tuple(f"status of {s}" for s in self.refused)
        errors = [e for e in self.errors if not (e.startswith("Failed to load resource") and e.endswith(")") and
                                                 any(s in e for s in expected))]  # fmt: skip
        assert errors == [], self.errors
        assert self.page.evaluate("window.__cspViolations") == []
        outside = [u for u in self.requests if not u.startswith((self.base, "data:"))]
        assert outside == [], outside
        self.context.close()


@pytest.fixture
def open_page(browser, served, tokens):
    pages: list[CarePage] = []

    def make(refused: tuple[int, ...] = ()) -> CarePage:
        pages.append(CarePage(browser, served, refused))
        return pages[-1]

    yield make
    for p in pages:
        p.close()


def test_a_coordinator_signs_in_and_sees_the_open_requests_and_offers_in_vietnamese(open_page, tokens, seeded):
    p = open_page()
    page = p.open()
    assert page.evaluate("document.documentElement.lang") == "vi"
    assert page.is_visible("#care-signin") and not page.is_visible("#care-main")
    assert page.text_content("label[for='care-token']") == "Mã truy cập (token) của điều phối viên"
    p.sign_in(tokens["ca-truc-a"])
    assert page.is_visible("#care-main") and not page.is_visible("#care-signin")
    assert page.text_content("h1") == "Điều phối chuyển tầng F0"
    assert page.text_content("#care-requests-title") == "Yêu cầu chuyển tầng đang chờ"
    assert page.text_content("#care-facilities-title") == "Công suất các cơ sở"
    rows = page.eval_on_selector_all("#care-requests-body tr", "rs => rs.map(r => Number(r.dataset.request))")
    assert rows == [seeded.r1, seeded.r2, seeded.r3]
    request_id, key, origin, tier, reason, at, waiting, _ = p.cells(seeded.r1)
    assert (request_id, key, origin, tier) == (str(seeded.r1), person_key(P1), "T1 — Trạm y tế lưu động", "2")
    assert reason == MARKUP_REASON and at[:2].isdigit() and waiting == "0"
    offers = page.query_selector_all(f"tr[data-request='{seeded.r1}'] li.care-offer")
    assert [o.get_attribute("data-facility") for o in offers] == ["H2A", "H2B"]  # nearest first
    assert offers[0].query_selector(".care-offer-free").text_content() == "1 giường trống"
    assert offers[0].query_selector(".care-offer-km").text_content() == "1,42 km"
    button = offers[0].query_selector("button.care-accept")
    assert button.text_content() == "Nhận / Accept"
    assert button.get_attribute("aria-label") == f"Nhận yêu cầu {seeded.r1} tại H2A — Bệnh viện tầng 2 A"
    assert p.cells(seeded.r3)[-1] == "Không có cơ sở nào của tầng này còn giường có nhân lực phù hợp."
    kpis = page.eval_on_selector_all("#care-kpis-body tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))")
    assert kpis == [["Tầng 2", "2", "0", "0 %", "—"], ["Tầng 3", "1", "0", "0 %", "—"]]
    h2a = [p.facility("H2A", c) for c in ("staffed-beds", "occupied", "promised", "free-staffed-beds")]
    assert h2a == ["1", "0", "0", "1"]
    assert page.get_attribute("#care-status", "aria-live") == "polite"
    assert page.evaluate("sessionStorage.getItem('covidgis.care.token')") == tokens["ca-truc-a"]
    p.shot("care-signed-in")


def test_markup_in_a_facility_name_or_a_reason_stays_text(open_page, tokens, seeded):
    p = open_page()
    page = p.open()
    p.sign_in(tokens["ca-truc-a"])
    names = page.eval_on_selector_all(
        f"tr[data-request='{seeded.r1}'] li[data-facility='H2B'] .care-offer-name", "ns => ns.map(n => n.textContent)"
    )
    assert names == [f"H2B — {MARKUP_NAME}"]
    assert page.text_content("#care-facilities-body tr[data-facility='H2B'] .care-name") == MARKUP_NAME
    assert page.query_selector_all("#care-main img, #care-main b") == []
    assert page.evaluate("window.__pwned") is None


def test_an_analyst_token_gets_the_403_message_and_the_sign_in_box_again(open_page, tokens):
    p = open_page(refused=(403,))
    page = p.open()
    p.sign_in(tokens["an-analyst"])
    assert DENIED_403 in p.status() and "This token is not a coordinator's" in p.status()
    assert page.is_visible("#care-signin") and not page.is_visible("#care-main")
    assert page.evaluate("sessionStorage.getItem('covidgis.care.token')") is None
    assert page.query_selector_all("#care-requests-body tr") == []
    p.shot("care-analyst-403")


def test_an_unknown_token_gets_the_401_message_and_the_sign_in_box_again(open_page):
    p = open_page(refused=(401,))
    page = p.open()
    p.sign_in("cgis_not-a-real-token")
    assert "không hợp lệ, đã bị thu hồi" in p.status() and "The token is invalid, revoked or missing" in p.status()
    assert page.is_visible("#care-signin") and not page.is_visible("#care-main")
    assert page.evaluate("sessionStorage.getItem('covidgis.care.token')") is None


def test_the_english_toggle_changes_the_headings_and_is_remembered(open_page, tokens, seeded):
    p = open_page()
    page = p.open()
    p.sign_in(tokens["ca-truc-a"])
    page.click("#care-lang")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.text_content("h1") == "F0 transfer coordination"
    assert page.text_content("#care-requests-title") == "Transfer requests waiting"
    assert page.text_content("#care-kpis-title") == "KPIs by tier"
    assert page.text_content("#care-lang") == "Tiếng Việt"
    assert page.query_selector(f"tr[data-request='{seeded.r1}'] button.care-accept").text_content() == "Accept / Nhận"
    assert p.facility("T1", "occupied") == "2"
    page.reload()  # the same tab: still signed in, still English
    page.wait_for_function("() => Number(document.body.dataset.careLoads || 0) > 0")
    assert page.text_content("h1") == "F0 transfer coordination" and page.is_visible("#care-main")
    page.click("#care-lang")
    assert page.text_content("h1") == "Điều phối chuyển tầng F0"
    assert page.evaluate("localStorage.getItem('covidgis.care.lang')") == "vi"


def test_the_tables_reload_every_30_seconds(open_page, tokens, engine, seeded):
    p = open_page()
    p.page.clock.install()
    page = p.open()
    p.sign_in(tokens["ca-truc-a"])
    assert len(page.query_selector_all("#care-requests-body tr")) == 3
    opened = request_transfer(engine, person_key(P7), 1, "F1 dương tính", "ca-truc-a")  # an F1 in quarantine
    p.page.clock.run_for(20_000)
    assert page.query_selector(f"tr[data-request='{opened.request_id}']") is None  # not yet
    p.after_load(lambda: p.page.clock.run_for(11_000))
    assert p.cells(opened.request_id)[2] == "Q1 — Khu cách ly ký túc xá"
    with engine.begin() as conn:  # withdrawn again, so the next test sees the three seeded requests
        conn.execute(
            text("UPDATE care.transfer_request SET status = 'cancelled' WHERE request_id = :r"),
            {"r": opened.request_id},
        )


def test_accept_the_nearest_then_a_stale_page_gets_the_409_reason(open_page, tokens, seeded, engine):
    stale = open_page(refused=(409,))
    stale.open()
    stale.sign_in(tokens["ca-truc-b"])  # a second coordinator, whose page still offers H2A's last bed below
    p = open_page()
    page = p.open()
    p.sign_in(tokens["ca-truc-a"])
    nearest = f"tr[data-request='{seeded.r1}'] li[data-facility='H2A'] button.care-accept"
    p.after_load(lambda: page.click(nearest))
    assert p.status() == f"Đã nhận yêu cầu {seeded.r1} tại H2A (1,42 km)."
    row = page.query_selector(f"tr[data-request='{seeded.r1}']")
    assert row.get_attribute("data-status") == "accepted"
    assert p.cells(seeded.r1)[-1] == "Đã nhận — chuyển đến H2A — Bệnh viện tầng 2 A"
    assert (p.facility("H2A", "promised"), p.facility("H2A", "free-staffed-beds")) == ("1", "0")  # was 0 and 1
    others = page.query_selector_all(f"tr[data-request='{seeded.r2}'] li.care-offer")
    assert [o.get_attribute("data-facility") for o in others] == ["H2B"]  # H2A's last bed is promised
    p.shot("care-accepted")

    last_bed = f"tr[data-request='{seeded.r2}'] li[data-facility='H2A'] button.care-accept"
    stale.after_load(lambda: stale.page.click(last_bed))
    assert stale.status() == (
        f"Không nhận được yêu cầu {seeded.r2}: H2A hết giường có nhân lực phù hợp — "
        "H2A has no free staffed bed of the right kind"
    )
    assert stale.page.get_attribute("#care-status", "data-kind") == "error"
    assert stale.page.query_selector(last_bed) is None  # reloaded: H2A is no longer offered
    stale.shot("care-refused-409")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT request_id, status, accepted_by FROM care.transfer_request WHERE request_id IN (:a, :b)"),
            {"a": seeded.r1, "b": seeded.r2},
        ).all()
    assert sorted(tuple(r) for r in rows) == [(seeded.r1, "accepted", "ca-truc-a"), (seeded.r2, "open", None)]


# A few of tests/serve/test_serve_xss.py's payloads (that module needs tests/serve's helpers on the path).
HOSTILE_NAMES = [
    "</script><script data-xss>alert(1)</script>",
    "'><img src=x onerror=alert(1) data-xss>",
    '<a href="javascript:alert(1)" data-xss>bấm vào đây</a>',
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#60;b&#62;",
    "\u202e<b data-xss>gnp.exe</b>\u200b\u0301",
    "<style data-xss>body{display:none}</style>",
]
HOSTILE_ID = '"><svg onload=alert(1) data-xss>'


def test_hostile_facility_names_and_ids_stay_text_and_can_be_accepted(open_page, tokens, seeded, engine, tmp_path):
    # Tier-3 facilities for r3 (from H2B at 106.950, 10.980): the one with a hostile id nearest, then the names.
    facilities = [[HOSTILE_ID, "Cơ sở điều trị", "Bệnh viện tầng 3", 3, 2, COMMUNE, 106.951, 10.980]]
    facilities += [
        [f"X3-{i}", "Cơ sở điều trị", name, 3, 2, COMMUNE, 106.960 + i * 0.01, 10.980]
        for i, name in enumerate(HOSTILE_NAMES)
    ]
    rooms = [[f[0], "W", "F0", "Chung", 2, 2, 1] for f in facilities]
    assert ingest(engine, "facilities", write_csv(tmp_path / "f.csv", FACILITIES, facilities))["accepted"] == 7
    assert ingest(engine, "rooms", write_csv(tmp_path / "r.csv", ROOMS, rooms))["accepted"] == 7
    p = open_page()
    dialogs: list[str] = []

    def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    p.page.on("dialog", dismiss)
    page = p.open()
    p.sign_in(tokens["ca-truc-a"])
    offered = page.eval_on_selector_all(
        f"tr[data-request='{seeded.r3}'] li.care-offer",
        "os => os.map(o => [o.dataset.facility, o.querySelector('.care-offer-name').textContent])",
    )
    assert offered == [[HOSTILE_ID, f"{HOSTILE_ID} — Bệnh viện tầng 3"]] + [
        [f"X3-{i}", f"X3-{i} — {name}"] for i, name in enumerate(HOSTILE_NAMES[:4])
    ]  # the nearest five
    names = page.eval_on_selector_all("#care-facilities-body .care-name", "ns => ns.map(n => n.textContent)")
    assert set(HOSTILE_NAMES) <= set(names)
    assert page.query_selector_all("[data-xss]") == [] and page.evaluate("window.__pwned") is None
    p.after_load(lambda: page.click(f"tr[data-request='{seeded.r3}'] li.care-offer >> nth=0 >> button.care-accept"))
    assert p.status() == f"Đã nhận yêu cầu {seeded.r3} tại {HOSTILE_ID} (0,14 km)."
    assert p.cells(seeded.r3)[-1] == f"Đã nhận — chuyển đến {HOSTILE_ID} — Bệnh viện tầng 3"
    assert page.query_selector_all("[data-xss]") == [] and dialogs == []
    p.shot("care-hostile-names")
