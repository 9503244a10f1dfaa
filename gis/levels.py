"""The vocabulary of levels, defined once: administrative levels and zone colours, with Vietnamese and English names.

The ground floor: every stage, page and report reads these names from here (the map's script gets them in its
page data, never a copy of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class AdminLevel(IntEnum):
    """Administrative levels of Vietnam, as stored in `admin.area.level`."""

    province = 1  # tỉnh / thành phố trực thuộc trung ương
    district = 2  # huyện / quận / thị xã / thành phố thuộc tỉnh
    commune = 3  # xã / phường / thị trấn
    hamlet = 4  # ấp / khu phố / thôn / tổ dân phố


ADMIN_LEVEL_VI = {
    AdminLevel.province: "tỉnh",
    AdminLevel.district: "huyện",
    AdminLevel.commune: "xã",
    AdminLevel.hamlet: "ấp",
}
ADMIN_LEVEL_EN = {level: level.name for level in AdminLevel}
ADMIN_LEVELS = {level.name: int(level) for level in AdminLevel}  # "province" → 1, as rule sets and the CLI name them


@dataclass(frozen=True)
class Colour:
    """A zone colour: its key (as rule sets and `risk.zone.colour` store it), hex on maps and reports, names."""

    key: str
    hex: str
    vi: str
    en: str


COLOURS = {
    c.key: c
    for c in (
        Colour("green", "#2ca25f", "Xanh", "Green"),
        Colour("yellow", "#f7d417", "Vàng", "Yellow"),
        Colour("orange", "#f28e2b", "Cam", "Orange"),
        Colour("red", "#d62728", "Đỏ", "Red"),
        Colour("dark_red", "#7f0000", "Đỏ sẫm", "Dark red"),
        Colour("grey", "#9e9e9e", "Xám", "Grey"),
    )
}
NO_ZONE_HEX = "#ffffff"  # a unit without a zone on the day shown
