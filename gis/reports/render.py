"""Write a WeeklyReport as an HTML page (map embedded) and an XLSX workbook, both in Vietnamese, same columns."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gis.levels import COLOURS
from gis.reports.weekly import UNIT_LEVEL_VI, WeeklyReport, colour_vi
from gis.summary import Summary

TEMPLATES = Path(__file__).parent / "templates"

# (header, column, kind) — kind: text | int | pct | num. The HTML and the workbook use the same lists.
DISTRICT_COLUMNS = [
    ("Mã", "code", "text"),
    ("Huyện, thành phố", "name", "text"),
    ("Ca mới cộng đồng", "community_cases_7d", "int"),
    ("Ca mới trong khu cách ly, phong tỏa", "quarantine_cases_7d", "int"),
    ("Tổng ca mới", "cases_7d", "int"),
    ("Số mẫu xét nghiệm", "tests_7d", "int"),
    ("Số mẫu dương tính", "positive_tests_7d", "int"),
    ("Tỷ lệ dương tính", "positivity", "pct"),
    ("Tiêm ≥1 mũi (18 tuổi trở lên)", "coverage_18plus_1dose", "pct"),
    ("Tiêm đủ liều (50 tuổi trở lên)", "coverage_50plus_full", "pct"),
    ("Tiêm đủ liều (65 tuổi trở lên)", "coverage_65plus_full", "pct"),
    ("Cấp độ dịch của huyện", "label_vi", "text"),
]
TRANSITION_COLUMNS = [
    ("Huyện, thành phố", "district_name", "text"),
    ("Đơn vị", "unit_level", "text"),
    ("Tuần trước", "prev_colour_vi", "text"),
    ("Tuần này", "colour_vi", "text"),
    ("Số đơn vị", "units", "int"),
]
HOT_COLUMNS = [
    ("Huyện, thành phố", "district_name", "text"),
    ("Xã, phường, thị trấn", "commune_name", "text"),
    ("Đơn vị", "name", "text"),
    ("Cấp hành chính", "unit_level", "text"),
    ("Mã", "code", "text"),
    ("Tuần trước", "prev_colour_vi", "text"),
    ("Tuần này", "label_vi", "text"),
    ("Chỉ số quyết định", "decisive_text", "text"),
    ("Lý do", "reasons_text", "text"),
]

# The tracing section (restricted.trace_indicators of the ISO week): Vietnamese first, English after the slash.
TRACE_COLUMNS = [
    ("Loại địa điểm / Venue kind", "kind_text", "text"),
    ("Số F0 / F0", "f0", "int"),
    ("Tỷ lệ F0 có quét mã QR / Share of F0 with a check-in", "share_f0_with_checkin", "pct"),
    ("Số người tiếp xúc mỗi F0 / Contacts per F0", "contacts_per_f0", "num"),
    ("Địa điểm công bố / Locations published", "locations_published", "int"),
    ("Số giây đến khi công bố (trung vị) / Median seconds to publish", "seconds_to_publish_median", "num"),
    ("Người tiếp xúc / Contacts", "contacts", "int"),
    ("Cách ly trong 24 giờ / Quarantined within 24 h", "share_quarantined_24h", "pct"),
    ("Cách ly trong 72 giờ / Quarantined within 72 h", "share_quarantined_72h", "pct"),
    ("Trở thành F0 / Became F0", "became_f0", "int"),
    ("Tỷ lệ trở thành F0 / Yield", "yield_share", "pct"),
]
TRACE_SHEET = "Truy vết"
NO_DATA = "Không có dữ liệu / no data"
VENUE_KIND_VI = {
    "all": "Tất cả / All",
    "market": "Chợ",
    "supermarket": "Siêu thị",
    "restaurant": "Nhà hàng, quán ăn",
    "industrial_zone": "Khu công nghiệp",
    "school": "Trường học",
    "hospital": "Bệnh viện",
    "office": "Văn phòng",
    "other": "Khác",
    "unknown": "Chưa rõ",
}


def venue_kind_text(kind: str) -> str:
    """A venue kind as the report shows it: Vietnamese first, the feed's value after ('Chợ / market')."""
    if kind == "all":
        return VENUE_KIND_VI["all"]
    return f"{VENUE_KIND_VI[kind]} / {kind}" if kind in VENUE_KIND_VI else kind


def file_stem(report: WeeklyReport) -> str:
    return f"bao-cao-tuan-{report.week}"


def colour_columns(report: WeeklyReport) -> list[tuple[str, str, str]]:
    """Columns of the units-per-colour table: one per level of the rule set, then no data, up, down."""
    levels = [*report.ruleset.levels, *([report.ruleset.not_available] if report.ruleset.not_available else [])]
    return [
        ("Huyện, thành phố", "district_name", "text"),
        ("Đơn vị", "unit_level", "text"),
        *[(f"{lv.label_vi.split(' – ')[0]} ({colour_vi(lv.colour).lower()})", lv.colour, "int") for lv in levels],
        ("Chưa có số liệu", "none", "int"),
        ("Tăng cấp so với tuần trước", "up", "int"),
        ("Giảm cấp so với tuần trước", "down", "int"),
    ]


def _tables(report: WeeklyReport) -> dict[str, tuple[list, pd.DataFrame]]:
    """The report's tables with display columns added, by sheet name."""
    counts = report.colour_counts.assign(unit_level=report.colour_counts["admin_level"].map(UNIT_LEVEL_VI))
    moves = report.transitions.assign(
        unit_level=report.transitions["admin_level"].map(UNIT_LEVEL_VI),
        prev_colour_vi=report.transitions["prev_colour"].map(colour_vi),
        colour_vi=report.transitions["colour"].map(colour_vi),
    )
    hot = report.turned_hot.assign(
        unit_level=report.turned_hot["admin_level"].map(UNIT_LEVEL_VI),
        prev_colour_vi=report.turned_hot["prev_colour"].map(colour_vi),
        decisive_text=report.turned_hot["decisive"].map(_decisive_text),
        reasons_text=report.turned_hot["reasons"].map(lambda rs: "; ".join(rs or [])),
    )
    trace = report.trace if not report.trace.empty else pd.DataFrame(columns=["venue_kind"])
    trace = trace.assign(kind_text=trace["venue_kind"].map(venue_kind_text))
    for _, c, _ in TRACE_COLUMNS:
        if c not in trace:
            trace[c] = pd.Series(dtype="object")
    return {
        "Theo huyện": (DISTRICT_COLUMNS, report.districts),
        "Số đơn vị theo màu": (colour_columns(report), counts),
        "Chuyển màu": (TRANSITION_COLUMNS, moves),
        "Lên cam, đỏ": (HOT_COLUMNS, hot),
        TRACE_SHEET: (TRACE_COLUMNS, trace),
    }


def _decisive_text(decisive) -> str:
    if isinstance(decisive, str):
        decisive = json.loads(decisive)
    return "; ".join(f"{k} = {_fmt_num(v)}" for k, v in (decisive or {}).items())


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _fmt_num(value) -> str:
    if _missing(value):
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}".replace(".", ",")
    return f"{int(value):,}".replace(",", ".") if isinstance(value, (int, float)) else str(value)


def display(value, kind: str) -> str:
    """A cell as the HTML shows it, Vietnamese style: 1.234 and 12,3 %."""
    if _missing(value):
        return "—"
    if kind == "int":
        return f"{int(value):,}".replace(",", ".")
    if kind == "pct":
        return f"{float(value) * 100:.1f} %".replace(".", ",")
    if kind == "num":
        return _fmt_num(float(value))
    return str(value)


def write_html(report: WeeklyReport, png: bytes, path: Path) -> None:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))

    def cells(record: dict, cols: list) -> list:
        """(text, kind, colour of a swatch) per column; the zone label gets its colour."""
        return [
            (display(record[c], kind), kind, record.get("colour") if c == "label_vi" else None) for _, c, kind in cols
        ]

    tables = {
        name: {"columns": cols, "rows": [cells(r, cols) for r in frame.to_dict("records")]}
        for name, (cols, frame) in _tables(report).items()
    }
    html = env.get_template("weekly.html.j2").render(
        report=report,
        tables=tables,
        hex={key: c.hex for key, c in COLOURS.items()},
        trace_sheet=TRACE_SHEET,
        no_data=NO_DATA,
        map_png=base64.b64encode(png).decode("ascii"),
        generated=dt.datetime.now().astimezone(),
    )
    path.write_text(html, encoding="utf-8")


def write_xlsx(report: WeeklyReport, png: bytes, path: Path) -> None:
    wb = Workbook()
    info = wb.active
    info.title = "Thông tin"
    for row in [
        ("Báo cáo tuần", report.week),
        ("Từ ngày", report.monday),
        ("Đến ngày", report.sunday),
        ("Số liệu tính đến ngày", report.day),
        ("So sánh với ngày", report.previous_day if report.has_previous else "không có số liệu"),
        ("Bộ tiêu chí", f"{report.ruleset.id} ({report.ruleset.version}) — {report.ruleset.title}"),
        ("Nguồn", "stats.indicator (chỉ số 7 ngày) và risk.zone (vùng nguy cơ) — cùng số liệu với bản đồ"),
        (
            "Truy vết / Tracing",
            f"restricted.trace_indicators ({report.trace_ruleset})" if report.trace_ruleset else NO_DATA,
        ),
        *[("Ghi chú", n) for n in report.notes],
    ]:
        _append(info, row)
    info.column_dimensions["A"].width, info.column_dimensions["B"].width = 24, 100
    for name, (cols, frame) in _tables(report).items():
        _sheet(wb.create_sheet(name), cols, frame)
        if name == TRACE_SHEET and frame.empty:
            _append(wb[name], [NO_DATA])
    sheet = wb.create_sheet("Bản đồ")
    image = XlImage(io.BytesIO(png))
    sheet.add_image(image, "A1")
    wb.save(path)


def _append(ws, values: Sequence) -> None:
    """Append a row; every text is a string cell, never a formula.

    Names come from boundary files and feeds: openpyxl would store `=HYPERLINK(…)` as a live formula and raise
    IllegalCharacterError on control characters XML cannot hold. Those characters become U+FFFD (visible, so the
    reader sees that something was there); the cell is typed 's' and quote-prefixed, so Excel and LibreOffice keep
    it as text even when someone edits it. Numbers and dates keep their types.
    """
    ws.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = True


def _sheet(ws, cols: list, frame: pd.DataFrame) -> None:
    _append(ws, [header for header, _, _ in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for record in frame.to_dict("records"):
        _append(
            ws,
            [
                None
                if _missing(record[c])
                else (
                    int(record[c]) if kind == "int" else float(record[c]) if kind in ("pct", "num") else str(record[c])
                )
                for _, c, kind in cols
            ],
        )
        colour = record.get("colour")
        for i, (_, c, kind) in enumerate(cols, start=1):
            cell = ws.cell(row=ws.max_row, column=i)
            if kind == "pct":
                cell.number_format = "0.0%"
            if c == "label_vi" and colour in COLOURS:
                cell.fill = PatternFill("solid", fgColor=COLOURS[colour].hex.lstrip("#"))
    for i, (header, _, kind) in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = 14 if kind != "text" else max(14, min(60, len(header) + 8))
    ws.freeze_panes = "A2"


@dataclass
class WeeklySummary(Summary):
    """A written weekly report: its week, last day of data and rule set, the three files, and the report's notes."""

    week: str
    day: dt.date
    ruleset: str
    html: Path
    xlsx: Path
    png: Path
    notes: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [self.html, self.xlsx, self.png]


def write_weekly(report: WeeklyReport, png: bytes, out_dir: Path) -> WeeklySummary:
    """Write the HTML, the XLSX and the map PNG into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(report)
    summary = WeeklySummary(
        week=report.week,
        day=report.day,
        ruleset=report.ruleset.id,
        html=out_dir / f"{stem}.html",
        xlsx=out_dir / f"{stem}.xlsx",
        png=out_dir / f"ban-do-{report.week}.png",
        notes=list(report.notes),
    )
    summary.png.write_bytes(png)
    write_html(report, png, summary.html)
    write_xlsx(report, png, summary.xlsx)
    return summary
