"""F1 quarantine orders derived from the quarantine stays and the tracing contacts, followed up on a day (issue 13
item 5): `refresh_orders` re-derives care.f1_order and care.f1_test_day (migration 0025) whole, so re-running
gives the same rows and a withdrawn stay or contact withdraws its order.

- **Orders** (sql/quarantine.sql `sources`): a quarantine stay of reason f1_contact, or of a person traced as a close
  contact (trace.exposure, risk close) whose stay starts within that contact's window, is an order starting on the
  stay's first day, centralised when the stay names a facility, else at home; a close contact with no stay in the
  window is a home order from the day of the last close exposure to that F0 (our reading, stated in
  CareSettings.f1_orders_from_contacts; off with COVIDGIS_CARE_F1_ORDERS_FROM_CONTACTS=false). One per person and
  start.
- **Rule** (gis/care/f1rules.py): the row in force on the start for the place and the person's vaccination status
  then; `end_on` = start + days − 1, `monitor_until` = end + monitor_days, the due dates = start + test day − 1. No
  row in force (a home order before 14 Jul 2021): kept, with no end and no due test (counted `without_rule`); a row
  without test days (the centralised rows: not in the texts read) gives no due test, so such an order is never
  overdue or lost here — the facility follows it up.
- **Follow-up on D**: a due test day is met by any test of the person collected on it or within
  `f1_test_grace_days` after (a provincial parameter, not from a decision); missed once that passed; lost to
  follow-up after `f1_lost_after_missed` consecutive missed due days, or past the end (plus the grace) with the final
  test missed; a positive test or a case during the quarantine (start … end) makes the order `became_f0`.
- **F1 turned F0 in quarantine**: when the person is under care in a quarantine facility now (care.current_stay),
  `request_transfer` to tier 1 with the reason below, once: the request id is kept on the order (a refresh keeps
  it), and a person who already has a live request gets that one recorded instead of a second.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from gis.care.f1rules import COURSE_DOSES, Doses, F1Rules, rule_for, vaccination_status
from gis.care.settings import CareSettings
from gis.care.transfers import TransferRefused, request_transfer
from gis.db.frames import escape_text, write_text
from gis.sqlfiles import load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "quarantine.sql")
TRANSFER_REASON = "F1 chuyển F0 — F1 turned F0 in quarantine"
TRANSFER_TIER = 1  # an F0 from quarantine is received at tier 1 first, its class decides any step up after
TRANSFER_BY = "covidgis care f1-orders"
ATTENTION_LIMIT = 200  # orders listed to act on (turned F0, lost, overdue); the counts cover all


@dataclass
class F1OrdersSummary(Summary):
    """The orders on a day: counts by status, overdue, WHO's follow-up indicators, transfers opened."""

    day: dt.date
    ruleset: str
    orders: int = 0
    active: int = 0
    completed: int = 0
    became_f0: int = 0
    overdue: int = 0  # active orders with a due test day missed
    lost: int = 0
    without_rule: int = 0  # no rule row in force at the start: no end, no due test
    under_follow_up_share: float | None = None  # of the orders in force on the day (None: none in force)
    lost_share: float | None = None  # of the orders started by the day
    transfers_requested: int = 0  # opened by this refresh
    grace_days: int = 0
    lost_after_missed: int = 0
    attention: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _rows(conn: Connection, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.exec_driver_sql(statement, params).mappings()]


def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, list):
        return "{" + ",".join(v.isoformat() for v in value) + "}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape_text(str(value))


COLUMNS = ("order_id", "person_key", "stay_id", "case_id", "start_on", "place", "facility_id", "commune_code",
           "registered_end_on", "vaccination", "rule_id", "end_on", "monitor_until", "test_days")  # fmt: skip


def derive(rules: F1Rules, source: dict[str, Any]) -> dict[str, Any]:
    """One source row (sql `sources`) as an order: place, vaccination status, the governing row and its dates."""
    start: dt.date = source["start_on"]
    place = "centralised" if source["facility_id"] else "home"
    doses = Doses(source["last_course_on"], source["last_two_dose_on"], source["last_case_on"])
    vaccination = vaccination_status(rules, start, doses)
    row = rule_for(rules, start, vaccination, place)
    order = {k: source.get(k) for k in COLUMNS}
    order.update(place=place, vaccination=vaccination, rule_id=None, end_on=None, monitor_until=None, test_days=[])
    if row is not None:
        end = start + dt.timedelta(days=row.days - 1)
        order.update(
            rule_id=row.id,
            end_on=end,
            monitor_until=end + dt.timedelta(days=row.monitor_days or 0),
            test_days=[start + dt.timedelta(days=d - 1) for d in row.test_days or []],
        )
    return order


def _copy_lines(orders: list[dict[str, Any]]) -> Iterator[str]:
    chunk: list[str] = []
    for o in orders:
        chunk.append("\t".join(_cell(o[c]) for c in COLUMNS) + "\n")
        if len(chunk) >= 10_000:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def refresh_orders(
    engine: Engine, settings: CareSettings, rules: F1Rules, day: dt.date, timezone: str
) -> F1OrdersSummary:
    """Re-derive every F1 order and its follow-up on local day `day`, open the transfers of F1 turned F0 in a
    quarantine facility, and count."""
    started = time.perf_counter()
    label = f"{rules.id} ({rules.version})"
    params = {
        "day": day,
        "tz": timezone,
        "grace": settings.f1_test_grace_days,
        "lost_after": settings.f1_lost_after_missed,
        "ruleset": label,
        "from_contacts": settings.f1_orders_from_contacts,
        "three_dose": [v for v, n in COURSE_DOSES.items() if n == 3],
    }
    with engine.begin() as conn:
        orders = [derive(rules, s) for s in _rows(conn, SQL["sources"], params)]
        conn.exec_driver_sql(SQL["create_new"])
        write_text(conn, f"COPY f1_new ({', '.join(COLUMNS)}) FROM STDIN", _copy_lines(orders))
        conn.exec_driver_sql(SQL["follow_up"], params)
        conn.exec_driver_sql(SQL["write"], params)
    requested = 0
    with engine.connect() as conn:
        candidates = _rows(conn, SQL["transfer_candidates"])
    for c in candidates:
        try:
            request_id: int | None = request_transfer(
                engine, c["person_key"], TRANSFER_TIER, TRANSFER_REASON, TRANSFER_BY
            ).request_id
            requested += 1
        except TransferRefused:  # a live request exists (recorded: once only), or the stay closed meanwhile
            with engine.connect() as conn:
                live = conn.exec_driver_sql(SQL["live_request"], {"person_key": c["person_key"]}).scalar()
            request_id = live
        if request_id is not None:
            with engine.begin() as conn:
                conn.exec_driver_sql(SQL["record_transfer"], {"request_id": request_id, "order_id": c["order_id"]})
    with engine.connect() as conn:
        k = _rows(conn, SQL["kpis"], params)[0]
        attention = _rows(conn, SQL["attention"], {"limit": ATTENTION_LIMIT})
    return F1OrdersSummary(
        day=day,
        ruleset=label,
        orders=k["orders"],
        active=k["active"],
        completed=k["completed"],
        became_f0=k["became_f0"],
        overdue=k["overdue"],
        lost=k["lost"],
        without_rule=k["without_rule"],
        under_follow_up_share=round(k["followed_up"] / k["in_force"], 3) if k["in_force"] else None,
        lost_share=round(k["lost"] / k["started"], 3) if k["started"] else None,
        transfers_requested=requested,
        grace_days=settings.f1_test_grace_days,
        lost_after_missed=settings.f1_lost_after_missed,
        attention=attention,
        seconds=round(time.perf_counter() - started, 3),
    )
