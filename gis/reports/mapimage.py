"""The report's province map: communes filled with their zone colour, district boundaries on top, as a PNG."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")  # no display: the report is written on servers
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from gis import sqlfiles  # noqa: E402
from gis.levels import COLOURS, NO_ZONE_HEX, AdminLevel  # noqa: E402
from gis.reports.weekly import WeeklyReport  # noqa: E402

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "weekly.sql")


def province_map_png(engine: Engine, report: WeeklyReport, dpi: int = 110) -> bytes:
    """Communes coloured by their zone on the report's day, with a legend counting communes per level."""
    with engine.connect() as conn:
        shapes = gpd.read_postgis(
            SQL["map_units"], conn, geom_col="geom", params={"rs": report.ruleset.id, "day": report.day}
        )
    communes = shapes[shapes["admin_level"] == AdminLevel.commune]
    districts = shapes[shapes["admin_level"] == AdminLevel.district]
    fig, ax = plt.subplots(figsize=(7.5, 7.5))
    fills = communes["colour"].map({key: c.hex for key, c in COLOURS.items()}).fillna(NO_ZONE_HEX)
    communes.plot(ax=ax, color=fills, edgecolor="#555555", linewidth=0.3)
    districts.boundary.plot(ax=ax, color="#222222", linewidth=1.0)
    counts = communes["colour"].value_counts()
    handles = [
        Patch(
            facecolor=COLOURS[lv.colour].hex,
            edgecolor="#555555",
            label=f"{lv.label_vi} — {counts.get(lv.colour, 0)} xã",
        )
        for lv in report.ruleset.levels
    ]
    missing = int(communes["colour"].isna().sum())
    if missing:
        handles.append(Patch(facecolor=NO_ZONE_HEX, edgecolor="#555555", label=f"Chưa có số liệu — {missing} xã"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8, frameon=False)
    ax.set_title(
        f"Cấp độ dịch theo xã, phường, thị trấn — tuần {report.week} (ngày {report.day:%d/%m/%Y})", fontsize=10
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
