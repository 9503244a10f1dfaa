"""The coordinator page's scenario: facilities, rooms and admissions through the real ingest, and transfer requests
opened by gis/care/transfers.py's `request_transfer` (as a coordinator would); shared by the page's Chromium tests
and the API's HTTP tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from care_support import ADMISSIONS, ROOMS, ingest, person_key, write_csv
from sqlalchemy import Engine

from gis.care.transfers import request_transfer

COMMUNE = "25993"  # Phường Trảng Dài (Biên Hòa)
FACILITIES = ["Mã cơ sở", "Loại cơ sở", "Tên cơ sở", "Tầng điều trị", "Số giường", "Mã địa bàn", "Kinh độ", "Vĩ độ"]
P1, P2, P5, P7 = "999000000501", "999000000502", "999000000505", "999000000507"
# A field hospital's name as a clerk might have typed it: markup that must stay text on the page.
MARKUP_NAME = '<img src=x onerror="window.__pwned=1">Bệnh viện dã chiến số 2'
MARKUP_REASON = "SpO2 93 % <b>khó thở</b>"


@dataclass(frozen=True)
class Seeded:
    r1: int  # P1 at T1 → tier 2 (offers: H2A 1 bed, nearest; H2B 2 beds)
    r2: int  # P5 at T1 → tier 2 (the same offers)
    r3: int  # P2 at H2B → tier 3 (no tier-3 facility: no offer)


def seed(engine: Engine, folder: Path) -> Seeded:
    facilities = [
        ["T1", "Cơ sở điều trị", "Trạm y tế lưu động", 1, 10, COMMUNE, 106.860, 10.980],
        ["H2A", "Cơ sở điều trị", "Bệnh viện tầng 2 A", 2, 1, COMMUNE, 106.870, 10.980],
        ["H2B", "Cơ sở điều trị", MARKUP_NAME, 2, 3, COMMUNE, 106.950, 10.980],
        ["Q1", "Khu cách ly tập trung", "Khu cách ly ký túc xá", None, 20, COMMUNE, 106.900, 10.990],
    ]
    rooms = [
        ["T1", "R1", "F0", "Chung", 10, 10, 1],
        ["H2A", "W", "F0", "Nam", 1, 1, 1],  # the last bed
        ["H2B", "W", "Hỗn hợp", "Chung", 3, 3, 1],
        ["Q1", "K1", "F1", "Chung", 20, 20, 1],
    ]
    admissions = [
        ["C1", P1, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 08:00", None],
        ["C2", P2, "F0", "Tiếp nhận", "H2B", "W", "20/10/2021 08:00", None],
        ["C5", P5, "F0", "Tiếp nhận", "T1", "R1", "20/10/2021 09:00", None],
        ["C7", P7, "F1", "Tiếp nhận", "Q1", "K1", "20/10/2021 09:00", None],
    ]
    assert ingest(engine, "facilities", write_csv(folder / "facilities.csv", FACILITIES, facilities))["accepted"] == 4
    assert ingest(engine, "rooms", write_csv(folder / "rooms.csv", ROOMS, rooms))["accepted"] == 4
    assert ingest(engine, "admissions", write_csv(folder / "admissions.csv", ADMISSIONS, admissions))["accepted"] == 4
    r1 = request_transfer(engine, person_key(P1), 2, MARKUP_REASON, "seed").request_id
    r2 = request_transfer(engine, person_key(P5), 2, "Nhịp thở 24 lần/phút", "seed").request_id
    r3 = request_transfer(engine, person_key(P2), 3, "SpO2 88 %", "seed").request_id
    return Seeded(r1=r1, r2=r2, r3=r3)
