"""Observations batch → severity classes → transfer requests; offers, acceptance and placement of transfers.

`classify_batch` classifies every observation of an ingest batch with the clinical rule set (gis/care/classify.py's
one statement, run over the batch in place), records each beside the person's place at its instant (care.stay),
and opens a transfer request for each F0 whose observation needs a tier above their place's: all in one
transaction, so a batch's requests exist as soon as the batch is classified. `offers` ranks facilities of the
required tier with free staffed beds of the right room kind and sex, nearest first (great-circle distance × the
detour factor); `accept` takes one under row locks (the request's and the receiving facility's), so two
coordinators accepting the last bed serialise and the second is refused; `place` closes accepted requests when the
receiving facility's admit of the person lands.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg2 import sql
from sqlalchemy import Connection, Engine

from gis.care.classify import classification_sql
from gis.care.errors import CareError
from gis.care.rules import ClinicalRules
from gis.care.settings import CareSettings
from gis.sqlfiles import fragment, load
from gis.summary import Summary

SQL = load(Path(__file__).parent / "sql" / "transfers.sql")


class TransferRefused(CareError):
    """A transfer that cannot be accepted: unknown, already accepted or closed, or no free bed; says why."""


@dataclass
class ClassifySummary(Summary):
    """One observations batch classified: counts, the transfer requests it opened, the not-under-care findings."""

    batch_id: int
    ruleset_id: str
    classified: int = 0
    unclassified: int = 0  # neither a class nor a warning sign (vitals missing)
    requests_opened: int = 0
    requests_by_tier: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def _rows(conn: Connection, statement: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.exec_driver_sql(statement, params).mappings()]


def classify_batch(
    engine: Engine, rules: ClinicalRules, batch_id: int, timezone: str, province: str | None = None
) -> ClassifySummary:
    """Classify observations batch `batch_id` and open its transfer requests, in one transaction."""
    started = time.perf_counter()
    params = {"batch_id": batch_id, "ruleset_id": rules.id, "tz": timezone}
    batch = sql.SQL("(SELECT * FROM events.observations WHERE batch_id = %(batch_id)s)")
    with engine.begin() as conn:
        statement = fragment(SQL["classify_batch"], classification=classification_sql(rules, batch, province))
        conn.exec_driver_sql(statement.as_string(conn.connection.dbapi_connection), params)
        opened = _rows(conn, SQL["open_requests"], params)
        counts = _rows(conn, SQL["batch_counts"], params)[0]
        not_under_care = _rows(conn, SQL["not_under_care"], params)
    by_tier: dict[str, int] = {}
    for r in opened:
        by_tier[str(r["required_tier"])] = by_tier.get(str(r["required_tier"]), 0) + 1
    return ClassifySummary(
        batch_id=batch_id,
        ruleset_id=rules.id,
        classified=counts["classified"],
        unclassified=counts["unclassified"],
        requests_opened=len(opened),
        requests_by_tier=dict(sorted(by_tier.items())),
        findings=[{"finding": "not_under_care", "obs_id": r["obs_id"], "at": r["at"]} for r in not_under_care],
        seconds=round(time.perf_counter() - started, 3),
    )


def offers(
    conn: Connection,
    settings: CareSettings,
    lon: float | None,
    lat: float | None,
    tier: int,
    sex: str | None = None,
    room_kind: str = "f0",
    facility: str | None = None,
) -> list[dict[str, Any]]:
    """Facilities of `tier` with free staffed beds (now, less beds promised to accepted requests) in rooms of
    `room_kind` (or mixed) and `sex` (or any), nearest first by great-circle distance × the detour factor. No
    personal data: facility, name, tier, free staffed beds, distance (km)."""
    params = {
        "lon": lon,
        "lat": lat,
        "tier": tier,
        "sex": sex,
        "kind": room_kind,
        "facility": facility,
        "detour": settings.detour_factor,
    }
    return _rows(conn, SQL["free_rooms"], params)


@dataclass
class AcceptSummary(Summary):
    """A request accepted: where to, that facility's free staffed beds before this one, its distance."""

    request_id: int
    status: str
    to_facility: str
    free_staffed_beds: int
    distance_km: float | None


def accept(engine: Engine, settings: CareSettings, request_id: int, facility: str, by: str) -> AcceptSummary:
    """Accept transfer request `request_id` to `facility`, or raise TransferRefused with the reason. The request's
    row (FOR UPDATE) and then the facility (a transaction advisory lock) are locked before the free beds are
    counted, so of two acceptances of the last bed exactly one wins."""
    with engine.begin() as conn:
        found = _rows(conn, SQL["request"] + " FOR UPDATE OF t", {"request_id": request_id})
        if not found:
            raise TransferRefused(f"không có yêu cầu chuyển {request_id} — no transfer request {request_id}")
        request = found[0]
        if request["status"] != "open":
            raise TransferRefused(
                f"yêu cầu {request_id} đã ở trạng thái {request['status']} (đến {request['to_facility']}) — "
                f"request {request_id} is already {request['status']} (to {request['to_facility']})"
            )
        conn.exec_driver_sql(SQL["lock_facility"], {"facility": facility})
        target = _rows(conn, SQL["facility"], {"facility": facility})
        if not target:
            raise TransferRefused(f"không có cơ sở {facility!r} — unknown facility {facility!r}")
        if target[0]["kind"] != "treatment" or target[0]["tier"] != request["required_tier"]:
            raise TransferRefused(
                f"{facility} không phải cơ sở điều trị tầng {request['required_tier']} — {facility} is not a "
                f"tier {request['required_tier']} treatment facility (tier {target[0]['tier']})"
            )
        free = offers(conn, settings, request["lon"], request["lat"], request["required_tier"], facility=facility)
        if not free:
            raise TransferRefused(
                f"{facility} hết giường có nhân lực phù hợp — {facility} has no free staffed bed of the right kind"
            )
        conn.exec_driver_sql(SQL["accept"], {"request_id": request_id, "facility": facility, "by": by})
        return AcceptSummary(
            request_id=request_id,
            status="accepted",
            to_facility=facility,
            free_staffed_beds=free[0]["free_staffed_beds"],
            distance_km=free[0]["distance_km"],
        )


@dataclass
class RequestSummary(Summary):
    """A transfer request a coordinator opened: from where (the person's place now), to which tier."""

    request_id: int
    status: str
    from_facility: str
    from_tier: int
    required_tier: int
    requested_at: Any


def request_transfer(engine: Engine, person_key: str, tier: int, reason: str, by: str) -> RequestSummary:
    """Open a transfer request for the person under care now (care.current_stay) to `tier`, from their place; or
    raise TransferRefused: not under care, already at that tier or above, or a live request exists (named)."""
    if tier not in (1, 2, 3):
        raise CareError(f"tầng phải là 1, 2 hoặc 3 — tier must be 1, 2 or 3, not {tier!r}")
    reason = " ".join(str(reason).split())[:REASON_CHARS]
    if not reason:
        raise CareError("cần lý do chuyển — a reason is required")
    params = {"person_key": person_key, "tier": tier, "reason": reason, "by": by}
    with engine.begin() as conn:
        place_now = _rows(conn, SQL["place_now"], params)
        if not place_now:
            raise TransferRefused(
                "người này hiện không được tiếp nhận ở cơ sở nào — the person is not under care now (no open stay)"
            )
        if place_now[0]["tier"] >= tier:
            raise TransferRefused(
                f"đang ở tầng {place_now[0]['tier']} ({place_now[0]['facility_id']}), không thấp hơn tầng {tier} — "
                f"already at tier {place_now[0]['tier']} ({place_now[0]['facility_id']}), not below tier {tier}"
            )
        opened = _rows(conn, SQL["open_request"], params)
        if not opened:
            live = _rows(conn, SQL["live_request"], params)
            which = f"{live[0]['request_id']} ({live[0]['status']})" if live else "?"
            raise TransferRefused(
                f"đã có yêu cầu chuyển {which} cho người này — the person already has a live request {which}"
            )
    row = opened[0]
    return RequestSummary(
        request_id=row["request_id"],
        status="open",
        from_facility=row["from_facility"],
        from_tier=row["from_tier"],
        required_tier=row["required_tier"],
        requested_at=row["requested_at"],
    )


REASON_CHARS = 500  # a coordinator's reason is kept to this


def place(engine: Engine) -> int:
    """Accepted requests whose receiving facility's admit of the person has landed become placed; how many."""
    with engine.begin() as conn:
        return conn.exec_driver_sql(SQL["place"]).rowcount


@dataclass
class TransfersSummary(Summary):
    """Transfer requests (all, or open and accepted only) with the offers of the open ones, and the KPIs by tier:
    share placed, median minutes from request to placement."""

    open_only: bool
    requests: list[dict[str, Any]] = field(default_factory=list)
    kpis: list[dict[str, Any]] = field(default_factory=list)


def transfers(engine: Engine, settings: CareSettings, open_only: bool = False) -> TransfersSummary:
    """The requests, placements first brought up to date (`place`), each open one with its offers."""
    place(engine)
    with engine.begin() as conn:
        requests = _rows(conn, SQL["requests"], {"open": open_only})
        for r in requests:
            if r["status"] == "open":
                o = _rows(conn, SQL["request"], {"request_id": r["request_id"]})[0]
                r["offers"] = offers(conn, settings, o["lon"], o["lat"], r["required_tier"])[:5]
        kpis = _rows(conn, SQL["kpis"], {})
    return TransfersSummary(open_only=open_only, requests=requests, kpis=kpis)


@dataclass
class NearestFreeBed(Summary):
    """The facilities of a tier with a free staffed bed nearest a point, nearest first (public: no personal data)."""

    lon: float
    lat: float
    tier: int
    sex: str | None
    room_kind: str
    detour_factor: float
    facilities: list[dict[str, Any]] = field(default_factory=list)


ROOM_KINDS = ("f0", "f1")
SEXES = ("m", "f")


def nearest_free_bed(
    engine: Engine,
    settings: CareSettings,
    lon: float,
    lat: float,
    tier: int,
    sex: str | None = None,
    room_kind: str = "f0",
    limit: int = 5,
) -> NearestFreeBed:
    """`nearest-free-bed`: facility, tier, free staffed beds and distance (km, great-circle × the detour factor) of
    the `limit` nearest facilities of `tier` with a free staffed bed in a room of `room_kind` (or mixed) for `sex`."""
    if tier not in (1, 2, 3):
        raise CareError(f"tầng phải là 1, 2 hoặc 3 — tier must be 1, 2 or 3, not {tier!r}")
    if room_kind not in ROOM_KINDS or (sex is not None and sex not in SEXES):
        raise CareError(f"room_kind is one of {ROOM_KINDS}, sex one of {SEXES} or none")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise CareError(f"({lon}, {lat}) is not a longitude and latitude")
    with engine.connect() as conn:
        found = offers(conn, settings, lon, lat, tier, sex=sex, room_kind=room_kind)[:limit]
    return NearestFreeBed(
        lon=lon,
        lat=lat,
        tier=tier,
        sex=sex,
        room_kind=room_kind,
        detour_factor=settings.detour_factor,
        facilities=found,
    )
