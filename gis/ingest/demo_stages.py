"""The SYNTHETIC demo's records after its feeds are in: through the functions a user's command or request calls.

- care: the transfer requests the demo's patients were moved for (a low SpO2 in a field hospital, then a move to a
  tier-2 hospital in the admissions feed) accepted to the facility they went to, so they are placed; the few with
  a low SpO2 in the period's last days stay open (gis/care/transfers.py `accept`, `place`);
- welfare: Decision 4346's payment to poor and near-poor households of Biên Hòa recorded in the ledger
  (gis/welfare/ledger.py `record_delivery`) for part of the eligible households, a second officer's attempt at an
  already paid household and the members listed in two households refused by the dedup, one delivery reversed;
- hotline: a dozen 1022 requests in Vietnamese (gis/hotline/open311.py `Hotline.create`), some within 50 m of each
  other or from the same caller so they link as duplicates, two moved on in status.

Every text says "dữ liệu mô phỏng / synthetic". Each part is skipped when its records exist, so a second
`covidgis demo` adds nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine

from gis.care.settings import CareSettings
from gis.ingest.demo_data import SEED_COMMUNES
from gis.ingest.pseudonym import Pseudonymiser
from gis.summary import Summary
from gis.welfare.settings import WelfareSettings

log = logging.getLogger(__name__)

MARK = "dữ liệu mô phỏng / synthetic"
BY = f"demo ({MARK})"
PROGRAMME = "dongnai-4346-2021-poor-near-poor"
DELIVERY_PREFIX = "D-DEMO-"
DELIVERED_SHARE = 0.6  # of the eligible households of Biên Hòa: the rest are not reached yet
PAID_FROM, PAID_DAYS = dt.date(2021, 8, 16), 30  # the demo's payment round (its dates, not the decision's)
SEED = 2021


@dataclass
class DemoStagesSummary(Summary):
    """What the demo recorded after ingest (zero for a part whose records were there already)."""

    transfers_accepted: int = 0
    transfers_placed: int = 0
    deliveries: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    reversals: int = 0
    hotline_requests: int = 0
    hotline_linked: int = 0


def accept_demo_transfers(engine: Engine, settings: CareSettings) -> tuple[int, int]:
    """Accept each open request whose person the admissions feed later admits or moves to a facility of the
    required tier, to that facility (`accept`), then place them (`place`): (accepted, placed)."""
    from gis.care.transfers import TransferRefused, accept, place

    with engine.connect() as conn:
        moved = conn.exec_driver_sql(
            "SELECT t.request_id, m.facility_id FROM care.transfer_request t "
            "CROSS JOIN LATERAL (SELECT a.facility_id FROM events.admissions a "
            "JOIN events.facilities f ON f.facility_id = a.facility_id "
            "WHERE a.person_key = t.person_key AND a.event IN ('admit', 'move') AND a.at >= t.requested_at "
            "AND f.tier = t.required_tier ORDER BY a.at, a.event_id LIMIT 1) m "
            "WHERE t.status = 'open' ORDER BY t.request_id"
        ).all()
    accepted = placed = 0
    for request_id, facility in moved:
        try:
            accept(engine, settings, request_id, facility, BY)
        except TransferRefused as refused:  # the facility is full now: the request stays open
            log.info("demo transfer %s not accepted: %s", request_id, refused)
            continue
        accepted += 1
        placed += place(engine)  # placed at once (the move is in the feed), so no promise holds a bed for the next
    return accepted, placed


def record_demo_deliveries(engine: Engine, settings: WelfareSettings) -> tuple[int, dict[str, int], int]:
    """Decision 4346's payment to part of Biên Hòa's eligible households, the dedup's refusals and one reversal;
    nothing when the demo's deliveries are in the ledger. (deliveries, refused by reason, reversals)."""
    from gis.welfare.errors import DeliveryRefused
    from gis.welfare.ledger import Delivery, record_delivery, record_reversal
    from gis.welfare.programmes import eligible, load_programme

    with engine.connect() as conn:
        if conn.exec_driver_sql(
            "SELECT 1 FROM welfare.delivery WHERE distribution_id LIKE %(p)s LIMIT 1", {"p": DELIVERY_PREFIX + "%"}
        ).first():
            return 0, {}, 0
        city = conn.exec_driver_sql(
            "SELECT code FROM admin.area WHERE level = 3 AND valid_to IS NULL AND parent_code = "
            "(SELECT parent_code FROM admin.area WHERE code = %(c)s AND valid_to IS NULL) ORDER BY code",
            {"c": SEED_COMMUNES[0]},
        ).scalars()
        communes = set(city)
        # Members listed in more than one household (a migrant worker at home and where they rent, a case's contact
        # who became a case): each household they are listed in.
        listed = conn.exec_driver_sql(
            "SELECT m.person_key, h.household_id, h.commune_code FROM welfare.member m "
            "JOIN welfare.household h USING (household_id) "
            "WHERE m.person_key IN (SELECT person_key FROM welfare.member GROUP BY 1 HAVING count(*) > 1) "
            "ORDER BY m.person_key, h.household_id"
        ).all()
    programme = load_programme(PROGRAMME)
    zone = ZoneInfo(settings.timezone)
    rng = np.random.default_rng(SEED)
    found = eligible(engine, programme, PAID_FROM)
    chosen = [h for h in found.households if h["eligible"] and h["commune_code"] in communes]
    chosen = [h for h in chosen if rng.random() < DELIVERED_SHARE]
    amount = programme.benefit.amount_vnd
    serial = 0
    delivered: list[Delivery] = []
    refused: dict[str, int] = {}

    def record(household_id: str, commune: str, day: int, officer: str) -> Delivery | None:
        nonlocal serial
        serial += 1
        at = dt.datetime.combine(PAID_FROM + dt.timedelta(days=day), dt.time(9, serial % 60), zone)
        delivery = Delivery(
            distribution_id=f"{DELIVERY_PREFIX}{serial:06d}",
            programme=programme.id,
            household_id=household_id,
            at=at,
            officer=f"{officer} xã {commune} ({MARK})",
            amount_vnd=amount,
            receipt_code=f"BN-DEMO-{serial:06d}",
        )
        try:
            return record_delivery(engine, programme, delivery, settings)
        except DeliveryRefused as why:
            reason = type(why).__name__
            refused[reason] = refused.get(reason, 0) + 1
            return None

    for h in chosen:
        if stored := record(h["household_id"], h["commune_code"], int(rng.integers(0, PAID_DAYS)), "Cán bộ A"):
            delivered.append(stored)
    for d in delivered[:: max(1, len(delivered) // 5)][:5]:  # a second officer pays the same household again
        record(d.household_id, d.commune_code or "", PAID_DAYS, "Cán bộ B")
    paid = {d.household_id for d in delivered}
    by_person: dict[str, list[tuple[str, str]]] = {}
    for person, household_id, commune in listed:
        by_person.setdefault(person, []).append((household_id, commune))
    for households in by_person.values():  # a member already paid for in another household they are listed in
        if any(h in paid for h, _ in households):
            for household_id, commune in households:
                if household_id not in paid:
                    record(household_id, commune, PAID_DAYS, "Cán bộ C")
    reversals = 0
    if delivered:
        last = delivered[-1]
        at = dt.datetime.combine(PAID_FROM + dt.timedelta(days=PAID_DAYS + 1), dt.time(10), zone)
        reason = f"Ghi nhầm hộ, chưa trao tiền ({MARK})"
        record_reversal(engine, last.distribution_id, last.officer, reason, at, settings, f"{DELIVERY_PREFIX}R00001")
        reversals = 1
    return len(delivered), dict(sorted(refused.items())), reversals


# (service, where, description, caller): where is ("point", k, metres east) near the k-th seed commune's first
# hamlet, ("hamlet", k, 0) or ("commune", k, 0) by code, or ("address", k, 0) by the commune's name.
HOTLINE: list[tuple[str, tuple[str, int, int], str, int]] = [
    (
        "food_support",
        ("point", 0, 0),
        "Gia đình 5 người đang cách ly tại nhà, đã hết gạo và thực phẩm, xin hỗ trợ gấp.",
        1,
    ),
    ("food_support", ("point", 0, 25), "Dãy nhà trọ công nhân bên cạnh cũng hết lương thực, khoảng 12 người.", 2),
    ("food_support", ("point", 0, 40), "Xóm trọ phía sau cần rau, mì gói và sữa cho trẻ nhỏ.", 3),
    (
        "medical_help",
        ("hamlet", 1, 0),
        "Người nhà là F0 điều trị tại nhà, khó thở, SpO2 đo được 92%, cần nhân viên y tế.",
        4,
    ),
    ("medical_help", ("hamlet", 1, 0), "Gọi lại: người bệnh vẫn khó thở, chưa có ai đến.", 4),
    ("violation", ("point", 2, 0), "Quán cà phê vẫn mở bán tại chỗ, tụ tập đông người trong thời gian giãn cách.", 5),
    ("violation", ("address", 3, 0), "Sân bóng đá mini vẫn cho thuê buổi tối, nhiều người không đeo khẩu trang.", 6),
    ("other", ("commune", 0, 0), "Hỏi thủ tục cấp giấy đi đường cho công nhân đi làm ca đêm.", 7),
    ("food_support", ("hamlet", 2, 0), "Cụ bà sống một mình, không đi chợ được, cần hỗ trợ thực phẩm.", 8),
    ("medical_help", ("point", 3, 0), "Cần xe đưa sản phụ sắp sinh đi bệnh viện, nhà ở trong khu phong tỏa.", 9),
    ("other", ("point", 1, 0), "Đề nghị phun khử khuẩn khu nhà trọ sau khi có ca F0.", 10),
    ("food_support", ("commune", 2, 0), "Hộ nghèo trong ấp chưa nhận được túi an sinh.", 11),
]


def file_demo_hotline(engine: Engine, pseudonymiser: Pseudonymiser, tolerance_m: float) -> tuple[int, int]:
    """The demo's 1022 requests through the Open311 code, two of them moved on in status; nothing when they are
    there already. (requests, linked as duplicates)."""
    from gis.hotline.open311 import Hotline, Open311Error

    with engine.connect() as conn:
        if conn.exec_driver_sql(
            "SELECT 1 FROM hotline.request WHERE description LIKE %(m)s LIMIT 1", {"m": f"%{MARK}%"}
        ).first():
            return 0, 0
        places = conn.exec_driver_sql(
            "SELECT DISTINCT ON (c.code) c.code, c.name, h.code, ST_X(ST_PointOnSurface(h.geom)), "
            "ST_Y(ST_PointOnSurface(h.geom)) FROM admin.area c JOIN admin.area h ON h.parent_code = c.code "
            "AND h.level = 4 AND h.valid_to IS NULL WHERE c.code = ANY(%(codes)s) AND c.valid_to IS NULL "
            "ORDER BY c.code, h.code",
            {"codes": SEED_COMMUNES},
        ).all()
    if not places:
        return 0, 0
    hotline = Hotline(engine, pseudonymiser, tolerance_m)
    made, linked = [], 0
    for service, where, text, caller in HOTLINE:
        commune, name, hamlet, lon, lat = places[where[1] % len(places)]
        fields = {"service_code": service, "description": f"{text} ({MARK})", "phone": f"00000000{caller:02d}"}
        if where[0] == "point":
            fields |= {"long": f"{lon + where[2] / 109_000:.6f}", "lat": f"{lat:.6f}"}  # ~109 km per degree here
        elif where[0] == "hamlet":
            fields["area_code"] = hamlet
        elif where[0] == "commune":
            fields["area_code"] = commune
        else:
            fields["address_string"] = name
        try:
            answer = hotline.create(fields)
        except Open311Error as error:
            log.info("demo hotline request not filed: %s", error.description)
            continue
        made.append(int(answer["service_request_id"]))
        linked += bool(answer["service_notice"])
    operator = f"Tổng đài viên ({MARK})"
    if len(made) > 6:
        hotline.update_status(made[3], "assigned", operator, f"Đã giao trạm y tế xã ({MARK})")
        hotline.update_status(made[7], "closed", operator, f"Đã hướng dẫn thủ tục ({MARK})")
    return len(made), linked


def demo_stages(
    engine: Engine,
    care: CareSettings,
    welfare: WelfareSettings,
    pseudonymiser: Pseudonymiser,
    tolerance_m: float,
) -> DemoStagesSummary:
    """The three parts in order; each adds nothing when its records are there."""
    summary = DemoStagesSummary()
    summary.transfers_accepted, summary.transfers_placed = accept_demo_transfers(engine, care)
    summary.deliveries, summary.refused, summary.reversals = record_demo_deliveries(engine, welfare)
    summary.hotline_requests, summary.hotline_linked = file_demo_hotline(engine, pseudonymiser, tolerance_m)
    return summary
