"""The delivery ledger: record a delivery, refusing a second one inside the programme's dedup scope at that moment.

A delivery claims its dedup keys in `welfare.delivery_claim` (programme, period, subject, key), in the transaction
that writes it: `person` scope claims every member of the household (a person listed in two households, in two
communes, is refused the second time), `household` the household, `both` both. The claim table's primary key is
the lock: of two officers recording the same household at once, the second's insert waits for the first's
transaction and, when it commits, finds the key taken, so exactly one delivery is written whatever process, commune
or connection records it. (An advisory lock would hold only among writers that remember to take it; the unique key
holds for every writer, the bulk feed to come included, and names the holder.) A reversing entry deletes its
delivery's claims: the scope is free again, and the ledger keeps both entries (it refuses UPDATE and DELETE).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2.errors
from sqlalchemy import Engine, PoolProxiedConnection
from sqlalchemy.exc import IntegrityError

from gis.sqlfiles import load
from gis.summary import Summary
from gis.welfare.errors import (
    DeliveryRefused,
    DuplicateDelivery,
    InvalidDelivery,
    OutsideScope,
    ProgrammeNotOpen,
    UnknownHousehold,
)
from gis.welfare.programmes import Programme
from gis.welfare.settings import WelfareSettings

SQL = load(Path(__file__).parent / "sql" / "welfare.sql")


@dataclass
class Delivery(Summary):
    """One ledger entry as recorded (a delivery or a reversing entry)."""

    distribution_id: str
    programme: str
    household_id: str
    at: dt.datetime
    officer: str
    amount_vnd: int | None = None
    kit: str | None = None
    warehouse_id: str | None = None
    receipt_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    kind: str = "delivery"
    reverses: str | None = None
    reason: str | None = None
    # filled when recorded
    day: dt.date | None = None
    period_start: dt.date | None = None
    area_code: str | None = None
    commune_code: str | None = None
    entry_id: int | None = None
    recorded_at: dt.datetime | None = None


def _local_day(at: dt.datetime, settings: WelfareSettings) -> dt.date:
    if at.tzinfo is None:
        raise InvalidDelivery("the delivery's time needs its time zone (`at` with an offset, e.g. +07:00)")
    return at.astimezone(ZoneInfo(settings.timezone)).date()


def _claims(programme: Programme, household_id: str, members: list[str]) -> list[tuple[str, str]]:
    """(subject, key) pairs the delivery holds, sorted."""
    claims: list[tuple[str, str]] = []
    if programme.dedup.scope in ("person", "both"):
        claims += [("person", key) for key in members]
    if programme.dedup.scope in ("household", "both"):
        claims.append(("household", household_id))
    return sorted(claims)


def _row(delivery: Delivery) -> dict[str, Any]:
    return {
        k: getattr(delivery, k)
        for k in (
            "distribution_id",
            "kind",
            "reverses",
            "programme",
            "period_start",
            "household_id",
            "area_code",
            "commune_code",
            "amount_vnd",
            "kit",
            "at",
            "day",
            "officer",
            "warehouse_id",
            "receipt_code",
            "reason",
            "lon",
            "lat",
        )
    }


def _check(programme: Programme, delivery: Delivery) -> None:
    if delivery.programme != programme.id:
        raise InvalidDelivery(f"the delivery names programme {delivery.programme!r}, not {programme.id!r}")
    if (delivery.amount_vnd is None) == (delivery.kit is None):
        raise InvalidDelivery("a delivery gives either an amount in VND or a kit, not both and not neither")
    if delivery.amount_vnd is not None and delivery.amount_vnd <= 0:
        raise InvalidDelivery(f"the amount must be positive (got {delivery.amount_vnd} VND)")
    if delivery.kit is not None and programme.benefit.kind != "kit":
        raise InvalidDelivery(f"programme {programme.id} pays cash, not a kit")
    if delivery.amount_vnd is not None and programme.benefit.kind != "cash":
        raise InvalidDelivery(f"programme {programme.id} gives a kit, not cash")
    if (delivery.lon is None) != (delivery.lat is None):
        raise InvalidDelivery("give both lon and lat, or neither")
    if not delivery.officer.strip():
        raise InvalidDelivery("the officer who hands it over is required")


def _cursor(conn: PoolProxiedConnection) -> Any:
    """A psycopg2 cursor on the pooled connection (the engine's driver)."""
    driver = conn.driver_connection
    assert driver is not None, "a connection checked out of the pool has its driver connection"
    return driver.cursor()


def new_distribution_id() -> str:
    return f"D-{uuid.uuid4().hex[:16]}"


def record_delivery(
    engine: Engine,
    programme: Programme,
    delivery: Delivery,
    settings: WelfareSettings,
    scope: str | None = None,
) -> Delivery:
    """Write the delivery, or raise DeliveryRefused (nothing written): unknown household, household outside the
    officer's `scope` (their commune or district code; None: not scoped, the CLI's operator), programme not open on
    the delivery's day, or a duplicate inside the programme's dedup scope (naming the earlier delivery)."""
    _check(programme, delivery)
    day = _local_day(delivery.at, settings)
    if not programme.is_open(day):
        raise ProgrammeNotOpen(
            f"chương trình {programme.id} không mở ngày {day:%d/%m/%Y} / programme {programme.id} is not open on "
            f"{day} (period {programme.period.from_} to {programme.period.to})"
        )
    delivery.day, delivery.period_start = day, programme.period_start(day)
    conn = engine.raw_connection()
    try:
        with _cursor(conn) as cur:
            cur.execute(SQL["household"], {"household_id": delivery.household_id})
            found = cur.fetchone()
            if found is None:
                raise UnknownHousehold(
                    f"không có hộ {delivery.household_id!r} / unknown household {delivery.household_id!r}: "
                    "not in the households feed (welfare.household)"
                )
            delivery.area_code, delivery.commune_code = found[1], found[2]
            if scope is not None and scope not in (found[2], found[3]):
                raise OutsideScope(
                    f"hộ {delivery.household_id} thuộc xã {found[2]}, ngoài địa bàn {scope} của cán bộ "
                    f"{delivery.officer} / household {delivery.household_id} is in commune {found[2]}, outside "
                    f"officer {delivery.officer}'s area {scope}"
                )
            cur.execute(SQL["members"], {"household_id": delivery.household_id})
            claims = _claims(programme, delivery.household_id, [r[0] for r in cur.fetchall()])
            cur.execute(SQL["insert_delivery"], _row(delivery))
            stored = cur.fetchone()
            if stored is None:
                raise InvalidDelivery(f"distribution_id {delivery.distribution_id!r} is recorded already")
            params = {
                "programme": programme.id,
                "period_start": delivery.period_start,
                "distribution_id": delivery.distribution_id,
                "subjects": [s for s, _ in claims],
                "keys": [k for _, k in claims],
            }
            cur.execute(SQL["claim"], params)
            if cur.rowcount < len(claims):
                conn.rollback()  # nothing of this delivery is written
                cur.execute(SQL["earlier"], params)
                earlier = cur.fetchone()
                conn.rollback()
                raise _duplicate(programme, delivery, earlier, [d.name for d in cur.description])
            delivery.entry_id, delivery.recorded_at = stored
        conn.commit()
        return delivery
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


def _duplicate(programme: Programme, delivery: Delivery, row: Any, names: list[str]) -> DeliveryRefused:
    if row is None:  # the holder was reversed between our claim and this look-up: the officer may try again
        return DeliveryRefused(f"a concurrent delivery of {programme.id} held the scope; record it again")
    earlier = dict(zip(names, row))
    commune = f"{earlier['commune_name'] or ''} ({earlier['commune_code']})".strip()
    who = "người" if earlier["subject"] == "person" else "hộ"
    same = earlier["household_id"] == delivery.household_id
    where = "" if same else f" ở hộ {earlier['household_id']}"
    message = (
        f"đã nhận {programme.id} trong kỳ này: {who}{where} đã nhận ngày {earlier['day']:%d/%m/%Y} tại {commune}, "
        f"cán bộ {earlier['officer']} ({earlier['distribution_id']}) / already received in this period: "
        f"{earlier['subject']}{'' if same else ' of household ' + earlier['household_id']} on {earlier['day']} in "
        f"{commune}, officer {earlier['officer']} ({earlier['distribution_id']})"
    )
    earlier["day"] = earlier["day"].isoformat()
    earlier["at"] = earlier["at"].isoformat()
    earlier.pop("subject_key")  # a person key says nothing to an officer and need not travel
    return DuplicateDelivery(message, earlier)


def record_reversal(
    engine: Engine,
    distribution_id: str,
    officer: str,
    reason: str,
    at: dt.datetime,
    settings: WelfareSettings,
    reversal_id: str | None = None,
) -> Delivery:
    """A reversing entry for a delivery (a correction: wrong household, not handed over): the ledger keeps both and
    the delivery's dedup scope is free again. Refused when the delivery is unknown or reversed already."""
    if not reason.strip():
        raise InvalidDelivery("a reversal says why (reason)")
    day = _local_day(at, settings)
    conn = engine.raw_connection()
    try:
        with _cursor(conn) as cur:
            cur.execute(SQL["delivery_for_reversal"], {"distribution_id": distribution_id})
            row = cur.fetchone()
            if row is None:
                raise InvalidDelivery(f"no delivery {distribution_id!r} in the ledger")
            d = dict(zip([c.name for c in cur.description], row))
            if d["kind"] != "delivery":
                raise InvalidDelivery(f"{distribution_id} is a reversal; it cannot be reversed")
            if d["reversed_by"] is not None:
                raise InvalidDelivery(f"{distribution_id} was reversed already by {d['reversed_by']}")
            entry = Delivery(
                distribution_id=reversal_id or new_distribution_id(),
                programme=d["programme"],
                household_id=d["household_id"],
                at=at,
                officer=officer,
                amount_vnd=d["amount_vnd"],
                kit=d["kit"],
                warehouse_id=d["warehouse_id"],
                kind="reversal",
                reverses=distribution_id,
                reason=reason,
                day=day,
                period_start=d["period_start"],
                area_code=d["area_code"],
                commune_code=d["commune_code"],
            )
            cur.execute(SQL["insert_delivery"], _row(entry))
            stored = cur.fetchone()
            if stored is None:
                raise InvalidDelivery(f"distribution_id {entry.distribution_id!r} is recorded already")
            entry.entry_id, entry.recorded_at = stored
            cur.execute(SQL["release_claims"], {"distribution_id": distribution_id})
        conn.commit()
        return entry
    except (psycopg2.errors.UniqueViolation, IntegrityError):
        conn.rollback()
        raise InvalidDelivery(f"{distribution_id} was reversed already") from None
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
