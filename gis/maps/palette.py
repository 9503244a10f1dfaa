"""Zone colours as drawn on the map and in the reports, and their names in Vietnamese and English."""

from __future__ import annotations

HEX = {
    "green": "#2ca25f",
    "yellow": "#f7d417",
    "orange": "#f28e2b",
    "red": "#d62728",
    "dark_red": "#7f0000",
    "grey": "#9e9e9e",
}
NAME_VI = {"green": "Xanh", "yellow": "Vàng", "orange": "Cam", "red": "Đỏ", "dark_red": "Đỏ sẫm", "grey": "Xám"}
NAME_EN = {
    "green": "Green",
    "yellow": "Yellow",
    "orange": "Orange",
    "red": "Red",
    "dark_red": "Dark red",
    "grey": "Grey",
}
NO_ZONE = "#ffffff"  # a unit without a zone on the day shown

ADMIN_LEVEL_VI = {1: "tỉnh", 2: "huyện", 3: "xã", 4: "ấp"}
ADMIN_LEVEL_EN = {1: "province", 2: "district", 3: "commune", 4: "hamlet"}
