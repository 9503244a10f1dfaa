"""`/open311/v2/`: the 1022 hotline as Open311 GeoReport v2 (services, requests GET/POST, one request, tokens).

A POST (form-encoded as the spec, or JSON) is located to a current hamlet by `lat`/`long` (the containing hamlet,
else the nearest within ingest's snap tolerance), else by `area_code` (a hamlet or commune code), else by an
`address_string` naming a hamlet or commune; it is routed to that commune's queue with the service's deadline
(services.yml; NULL while no deadline is cited). The caller's `phone` is kept only as its HMAC key. A duplicate
(same service within 72 h, same caller or within 50 m) is linked to the first request, whose `persons_affected`
grows. Public GETs show service, status, hamlet, commune and times: never the description, the phone or the point.
Errors are the spec's array `[{"code": 400, "description": "..."}]` with 400 or 404. Status updates
(`POST /open311/v2/requests/{id}/status`) need a bearer token of role `hotline`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from gis.context import AppContext
from gis.ingest.pseudonym import Pseudonymiser, load_secret
from gis.serve.auth import USER_KEY
from gis.sqlfiles import load

SQL = load(Path(__file__).parent / "sql" / "hotline.sql")
SERVICES_FILE = Path(__file__).parent / "services.yml"
MAX_BODY = 16_384  # bytes
MAX_DESCRIPTION = 4000  # characters (the table's check constraint)
MAX_ADDRESS = 500
MAX_LIMIT = 1000
STATUSES = ("open", "assigned", "in_progress", "closed", "reopened")
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")  # still to act on
# Allowed moves: open → assigned → in_progress → closed; closed → reopened → assigned / in_progress / closed.
MOVES = {
    "open": {"assigned", "in_progress", "closed"},
    "assigned": {"in_progress", "closed"},
    "in_progress": {"closed"},
    "closed": {"reopened"},
    "reopened": {"assigned", "in_progress", "closed"},
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


@cache
def services() -> list[dict[str, Any]]:
    return yaml.safe_load(SERVICES_FILE.read_text(encoding="utf-8"))["services"]


def _error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _public(row: Any) -> dict[str, Any]:
    names = {s["service_code"]: s["service_name"] for s in services()}
    return {
        "service_request_id": str(row["request_id"]),
        "status": row["status"],
        "service_code": row["service_code"],
        "service_name": names.get(row["service_code"]),
        "agency_responsible": row["commune_name"],
        "commune_code": row["commune_code"],
        "hamlet_code": row["area_code"],
        "hamlet_name": row["hamlet_name"],
        "duplicate_of": str(row["duplicate_of"]) if row["duplicate_of"] is not None else None,
        "persons_affected": row["persons_affected"],
        "requested_datetime": _iso(row["requested_at"]),
        "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["expected_at"]),
    }


def _text(fields: dict[str, Any], name: str, limit: int) -> str | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Open311Error(400, f"{name} must be text")
    value = value.strip()
    if len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters")
    return value or None


def _coordinate(fields: dict[str, Any], name: str, bound: float) -> float | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Open311Error(400, f"{name} is not a number") from None
    if not -bound <= number <= bound:  # also refuses nan
        raise Open311Error(400, f"{name} is out of range")
    return number


class Hotline:
    """The requests' reads and writes over one engine."""

    def __init__(self, engine: Engine, pseudonymiser: Pseudonymiser, tolerance_m: float):
        self.engine = engine
        self.caller_key = pseudonymiser.keyer()
        self.tolerance_m = tolerance_m

    def locate(self, conn, lon, lat, area_code, address) -> tuple[str | None, str, str]:
        if lon is not None and lat is not None:
            row = conn.exec_driver_sql(
                SQL["hamlet_at_point"],
                {"lon": lon, "lat": lat, "tolerance_m": self.tolerance_m, "tolerance_deg": self.tolerance_m / 50_000},
            ).first()
            if row is None:
                raise Open311Error(400, f"the point ({lon}, {lat}) is outside the province")
            return row[0], row[1], "point"
        if area_code is not None:
            row = conn.exec_driver_sql(SQL["area_by_code"], {"code": area_code}).first()
            if row is None:
                raise Open311Error(400, f"area_code {area_code!r} is not a current hamlet or commune")
            return row[0], row[1], "code"
        if address is not None:
            row = conn.exec_driver_sql(SQL["area_by_name"], {"address": address}).first()
            if row is None:
                raise Open311Error(400, "address_string names no hamlet or commune of the province")
            return row[0], row[1], "address"
        raise Open311Error(400, "no location: give lat and long, address_string or area_code")

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        code = _text(fields, "service_code", 100)
        by_code = {s["service_code"]: s for s in services()}
        if code is None:
            raise Open311Error(400, "service_code is required")
        if code not in by_code:
            raise Open311Error(400, f"unknown service_code {code!r}")
        lat = _coordinate(fields, "lat", 90)
        lon = _coordinate(fields, "long", 180)
        if (lat is None) != (lon is None):
            raise Open311Error(400, "give both lat and long")
        description = _text(fields, "description", MAX_DESCRIPTION)
        address = _text(fields, "address_string", MAX_ADDRESS)
        area_code = _text(fields, "area_code", 50)
        phone = _text(fields, "phone", 50)
        caller = self.caller_key(phone) if phone else None
        hours = by_code[code]["deadline"]["hours"]
        with self.engine.begin() as conn:
            area, commune, located_by = self.locate(conn, lon, lat, area_code, address)
            # One writer at a time per service, so two duplicates arriving together link to the same first request.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('hotline:' || %(c)s))", {"c": code})
            params = {"service_code": code, "caller_key": caller, "lon": lon, "lat": lat}
            first = conn.exec_driver_sql(SQL["find_duplicate"], params).scalar()
            token = secrets.token_urlsafe(16)
            request_id = conn.exec_driver_sql(
                SQL["insert_request"],
                {
                    **params,
                    "token": token,
                    "description": description,
                    "address_string": address,
                    "area_code": area,
                    "commune_code": commune,
                    "located_by": located_by,
                    "duplicate_of": first,
                    "deadline_hours": hours,
                },
            ).scalar_one()
            if first is not None:
                conn.exec_driver_sql(SQL["count_duplicate"], {"duplicate_of": first})
        notice = f"liên kết với yêu cầu {first} / linked to request {first}" if first is not None else ""
        return {"service_request_id": str(request_id), "token": token, "service_notice": notice, "account_id": None}

    def read(self, **filters: Any) -> list[dict[str, Any]]:
        return read_requests(self.engine, **filters)

    def update_status(self, request_id: int, to: str, operator: str, note: str | None) -> dict[str, Any]:
        return update_status(self.engine, request_id, to, operator, note)


def read_requests(engine: Engine, **filters: Any) -> list[dict[str, Any]]:
    """Requests as the public GETs show them (no description, phone or point), newest first; filters: ids,
    services, statuses, start, end, token, limit (≤ MAX_LIMIT)."""
    params: dict[str, Any] = {"ids": None, "services": None, "statuses": None, "start": None, "end": None}
    params["token"] = None
    params.update(filters)
    params["limit"] = min(params.get("limit") or MAX_LIMIT, MAX_LIMIT)
    with engine.connect() as conn:
        return [_public(r) for r in conn.exec_driver_sql(SQL["public_requests"], params).mappings()]


def update_status(engine: Engine, request_id: int, to: str, operator: str, note: str | None) -> dict[str, Any]:
    """Move a request to status `to` (MOVES: open → assigned → in_progress → closed, closed → reopened …), kept in
    hotline.status_change with the operator and note; the one transition rule of the Open311 status route and of
    `covidgis hotline update`. Open311Error 400 for an unknown status or a move not allowed, 404 for no request."""
    if to not in STATUSES:
        raise Open311Error(400, f"unknown status {to!r}: one of {', '.join(STATUSES)}")
    if note is not None and len(note) > MAX_DESCRIPTION:
        raise Open311Error(400, f"note is longer than {MAX_DESCRIPTION} characters")
    with engine.begin() as conn:
        current = conn.exec_driver_sql(SQL["lock_request"], {"id": request_id}).scalar()
        if current is None:
            raise Open311Error(404, f"no request {request_id}")
        if to not in MOVES[current]:
            raise Open311Error(400, f"a request {current} cannot become {to}")
        args = {"id": request_id, "from": current, "to": to, "operator": operator, "note": note}
        conn.exec_driver_sql(SQL["set_status"], args)
        conn.exec_driver_sql(SQL["log_status"], args)
    return read_requests(engine, ids=[request_id])[0]


def _list(value: str | None, allowed: tuple[str, ...] | None, name: str) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if allowed is not None and (bad := [v for v in items if v not in allowed]):
        raise Open311Error(400, f"unknown {name} {bad[0]!r}")
    return items


def _when(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} is not a W3C date-time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _request_id(value: str) -> int:
    if not value.isdigit() or len(value) > 18:
        raise Open311Error(404, f"no request {value[:50]!r}")
    return int(value)


async def _fields(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Open311Error(400, f"the request body is larger than {MAX_BODY} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            fields = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise Open311Error(400, "the body is not JSON") from None
        if not isinstance(fields, dict):
            raise Open311Error(400, "the body is not a JSON object")
        return fields
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (ValueError, UnicodeDecodeError):  # a malformed form body is the caller's error, never a 500
        raise Open311Error(400, "the body is not form-encoded UTF-8") from None
    return dict(pairs)


def hotline_routes(ctx: AppContext) -> list[BaseRoute]:
    """The Open311 routes; the primary database is reached at the first request."""
    state: dict[str, Hotline] = {}

    def hotline() -> Hotline:
        if "h" not in state:
            state["h"] = Hotline(ctx.engine, Pseudonymiser(load_secret(ctx.settings)), ctx.ingest.snap_tolerance_m)
        return state["h"]

    def handled(handler):
        async def endpoint(request: Request):
            try:
                return await handler(request)
            except Open311Error as error:
                return _error(error.status, error.description)

        return endpoint

    async def service_list(request: Request) -> JSONResponse:
        return JSONResponse(
            [
                {
                    "service_code": s["service_code"],
                    "service_name": s["service_name"],
                    "description": s["description"],
                    "metadata": False,
                    "type": "realtime",
                    "keywords": s["service_code"],
                    "group": s["group"],
                }
                for s in services()
            ]
        )

    async def requests_json(request: Request) -> JSONResponse:
        if request.method == "POST":
            fields = await _fields(request)
            return JSONResponse([await run_in_threadpool(hotline().create, fields)], status_code=201)
        q = request.query_params
        codes = tuple(s["service_code"] for s in services())
        filters: dict[str, Any] = {
            "services": _list(q.get("service_code"), codes, "service_code"),
            "statuses": _list(q.get("status"), STATUSES, "status"),
            "start": _when(q.get("start_date"), "start_date"),
            "end": _when(q.get("end_date"), "end_date"),
            "ids": None,
        }
        if ids := q.get("service_request_id"):
            filters["ids"] = [_request_id(v) for v in ids.split(",")[:MAX_LIMIT]]
        return JSONResponse(await run_in_threadpool(hotline().read, **filters))

    async def one_request(request: Request) -> JSONResponse:
        found = await run_in_threadpool(hotline().read, ids=[_request_id(request.path_params["id"])])
        if not found:
            raise Open311Error(404, f"no request {request.path_params['id'][:50]!r}")
        return JSONResponse(found)

    async def token(request: Request) -> JSONResponse:
        value = request.path_params["token"][:100]
        found = await run_in_threadpool(hotline().read, token=value)
        if not found:
            raise Open311Error(404, "no request has this token")
        return JSONResponse([{"service_request_id": found[0]["service_request_id"], "token": value}])

    async def status(request: Request) -> JSONResponse:
        user = request.scope.get(USER_KEY)
        if user is None:
            return JSONResponse([{"code": 401, "description": "send a bearer token of role hotline"}], status_code=401)
        if user.role != "hotline":
            return JSONResponse(
                [{"code": 403, "description": f"role {user.role!r} may not update requests"}], status_code=403
            )
        fields = await _fields(request)
        to = _text(fields, "status", 20)
        if to is None:
            raise Open311Error(400, "status is required")
        note = _text(fields, "note", MAX_DESCRIPTION)
        stored = await run_in_threadpool(
            hotline().update_status, _request_id(request.path_params["id"]), to, user.name, note
        )
        return JSONResponse([stored])

    base = "/open311/v2"
    return [
        Route(f"{base}/services.json", handled(service_list)),
        Route(f"{base}/requests.json", handled(requests_json), methods=["GET", "POST"]),
        Route(f"{base}/requests/{{id}}.json", handled(one_request)),
        Route(f"{base}/requests/{{id}}/status", handled(status), methods=["POST"]),
        Route(f"{base}/tokens/{{token}}.json", handled(token)),
    ]
