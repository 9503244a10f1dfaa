"""OGC API Processes: `zone-at-point` and `route-risk` (pygeoapi processors, by dotted path in the config).

Both read the public views only (pub.zones, pub.zones_history) through the connection in the processor's `data`
(the public role). Bad input raises BadInput (400 with the message). A process must never hold the server: a route
has at most MAX_ROUTE_POINTS positions and MAX_ROUTE_KM, every statement has a timeout (a slower answer is a 503
saying so), and at most `concurrency` processes run at once — pygeoapi runs them in the thread pool the feature
endpoints share, so a process that finds no free slot answers 503 "busy" at once instead of queueing workers.
ProcessManager (the `server.manager` of pygeoapi-config.yml) gives those errors their own HTTP status.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import threading
import uuid
from pathlib import Path

import psycopg2.errors
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError
from pygeoapi.process.manager.dummy import DummyManager
from pygeoapi.util import JobStatus, RequestedProcessExecutionMode, RequestedResponse
from pyproj import Geod
from sqlalchemy import Connection, Engine, create_engine, exc
from sqlalchemy.engine import URL

from gis import sqlfiles
from gis.travel.measures import measures_at, route_requirements
from gis.travel.settings import TravelSettings

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "processes.sql")
# A route from a phone or a GIS client, simplified: 400 positions draw a road trip across the country well.
MAX_ROUTE_POINTS = 400
# The longest trip in Việt Nam by road, National Route 1 from Hữu Nghị to Năm Căn, is ~2,360 km; a longer route
# is no journey to check, and the work of a route grows with its length (the areas it crosses).
MAX_ROUTE_KM = 2_500
ZONE_FIELDS = ["code", "name", "level", "colour", "label_vi", "label_en"]
SHOWN_CHARS = 40  # a value echoed in a message is cut to this
WGS84 = Geod(ellps="WGS84")


class ProcessSettings(BaseSettings):
    """How long a process may take and how many may run at once (COVIDGIS_SERVE_PROCESS_*)."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_SERVE_PROCESS_", env_file=".env", extra="ignore")

    # Each statement of a process is cancelled after this (a 400-position route across Đồng Nai takes ~0.2 s).
    statement_timeout_seconds: float = Field(default=10.0, gt=0)
    # Processes running at once in one server; pygeoapi's thread pool has min(32, cores + 4) workers for everything.
    concurrency: int = Field(default=2, ge=1)


@functools.cache
def _slots(concurrency: int) -> threading.BoundedSemaphore:
    """The processes' slots: one bound for every API and thread (pygeoapi makes a processor per request)."""
    return threading.BoundedSemaphore(concurrency)


class BadInput(ProcessorExecuteError):
    """The request cannot be answered as given; the message says why."""

    http_status_code = 400
    ogc_exception_code = "InvalidParameterValue"


class Unavailable(ProcessorExecuteError):
    """The request is fine but cannot be answered now (busy, or it took too long); the message says what to do."""

    http_status_code = 503
    ogc_exception_code = "ServiceUnavailable"


class ProcessManager(DummyManager):
    """pygeoapi's synchronous manager, except that a processor's error keeps its HTTP status and message.

    The Dummy manager answers every exception as 400 "Error executing process: …" (a busy server would look like a
    bad request, a driver's text would reach the caller) and POSTs to any `subscriber` URL a caller names, without a
    timeout. Here a ProcessorExecuteError reaches pygeoapi, which answers its status (400, 503) with its message;
    anything else is a fault of ours and propagates; subscriber URLs are never called.
    """

    def execute_process(
        self,
        process_id: str,
        data_dict: dict,
        execution_mode=None,
        requested_outputs=None,
        subscriber=None,
        requested_response=RequestedResponse.raw.value,
    ):
        mime_type, outputs = self.get_processor(process_id).execute(data_dict, outputs=requested_outputs)
        if requested_response == RequestedResponse.document.value:
            outputs = {"outputs": [outputs]}
        applied = None if execution_mode is None else {"Preference-Applied": RequestedProcessExecutionMode.wait.value}
        return str(uuid.uuid1()), mime_type, outputs, JobStatus.successful, applied


def _output(name: str, description: str) -> dict:
    return {
        name: {
            "title": name,
            "description": description,
            "schema": {"type": "object", "contentMediaType": "application/json"},
        }
    }


ZONE_AT_POINT = {
    "version": "1.0.0",
    "id": "zone-at-point",
    "title": {"en": "Zone at a point", "vi": "Vùng nguy cơ tại một điểm"},
    "description": {
        "en": "The area containing a point at each administrative level, with its zone (level, colour, "
        "reasons) on a date (default: the latest computed day).",
        "vi": "Đơn vị hành chính chứa điểm ở mỗi cấp, với cấp độ nguy cơ, màu và lý do.",
    },
    "jobControlOptions": ["sync-execute"],
    "keywords": ["zone", "risk", "point"],
    "inputs": {
        "lon": {
            "title": "Longitude",
            "description": "WGS 84 longitude, degrees",
            "schema": {"type": "number", "minimum": -180, "maximum": 180},
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "lat": {
            "title": "Latitude",
            "description": "WGS 84 latitude, degrees",
            "schema": {"type": "number", "minimum": -90, "maximum": 90},
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "date": {
            "title": "Date",
            "description": "ISO date (YYYY-MM-DD); default the latest computed day",
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": _output(
        "zones",
        "the point, the date, one entry per administrative level and the travel measures (Resolution 128) of "
        "the level of the finest area, each cited",
    ),
    "example": {"inputs": {"lon": 106.82, "lat": 10.95}},
}

ROUTE_RISK = {
    "version": "1.0.0",
    "id": "route-risk",
    "title": {"en": "Risk along a route", "vi": "Nguy cơ dọc lộ trình"},
    "description": {
        "en": "The zones a route (GeoJSON LineString, WGS 84) crosses in order, the highest level met and "
        "the length travelled in each colour.",
        "vi": "Các vùng mà lộ trình đi qua theo thứ tự, cấp cao nhất và chiều dài trong mỗi màu.",
    },
    "jobControlOptions": ["sync-execute"],
    "keywords": ["zone", "risk", "route", "PC-Covid"],
    "inputs": {
        "route": {
            "title": "Route",
            "description": f"GeoJSON LineString in WGS 84 (lon, lat), or a Feature holding one: 2 to "
            f"{MAX_ROUTE_POINTS} positions, at most {MAX_ROUTE_KM:,} km long, no step of more "
            "than 180° of longitude",
            "schema": {
                "type": "object",
                "contentMediaType": "application/geo+json",
                "properties": {
                    "type": {"enum": ["LineString", "Feature"]},
                    "coordinates": {
                        "type": "array",
                        "minItems": 2,
                        "maxItems": MAX_ROUTE_POINTS,
                        "items": {"type": "array", "minItems": 2, "items": {"type": "number"}},
                    },
                },
            },
            "minOccurs": 1,
            "maxOccurs": 1,
        },
        "date": {
            "title": "Date",
            "description": "ISO date; default the latest computed day",
            "schema": {"type": "string", "format": "date"},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
        "admin_level": {
            "title": "Administrative level",
            "description": "1 province … 4 hamlet (default 4)",
            "schema": {"type": "integer", "minimum": 1, "maximum": 4},
            "minOccurs": 0,
            "maxOccurs": 1,
        },
    },
    "outputs": _output("route", "crossings in order, highest level, metres per colour, what a traveller needs (cited)"),
    "example": {"inputs": {"route": {"type": "LineString", "coordinates": [[106.80, 10.95], [106.90, 10.97]]}}},
}


@functools.cache
def _engine(host: str, port: int, dbname: str, user: str, password: str | None, timeout_seconds: float) -> Engine:
    url = URL.create(
        "postgresql+psycopg2", username=user, password=password or None, host=host, port=int(port), database=dbname
    )
    # JIT off: PostGIS costs ST_Intersection so high that a route query can be JIT-compiled (seen: 158 of 182 ms).
    timeout_ms = max(1, round(timeout_seconds * 1000))
    return create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "application_name": "covidgis-processes",
            "options": f"-c statement_timeout={timeout_ms} -c jit=off",
        },
    )


class _ZoneProcessor(BaseProcessor):
    """Checks the inputs, then answers in one of the slots (or 503 busy), within the statement timeout."""

    too_slow: str  # the 503 answer when a statement is cancelled, with {seconds}

    def __init__(self, processor_def: dict, metadata: dict):
        super().__init__(processor_def, metadata)
        # pygeoapi makes a processor per request from its dotted path; the settings are read here, not at import.
        self.settings = ProcessSettings()
        self.travel_ruleset = TravelSettings().ruleset
        self.slots = _slots(self.settings.concurrency)
        data = processor_def["data"]
        self.engine = _engine(
            data["host"],
            data["port"],
            data["dbname"],
            data["user"],
            data.get("password"),
            self.settings.statement_timeout_seconds,
        )

    def execute(self, data: dict, outputs=None):
        request = self.parse(data or {})
        if not self.slots.acquire(blocking=False):
            raise Unavailable(user_msg="the server is busy with other zone and route requests; retry in a few seconds")
        try:
            with self.engine.connect() as conn:
                return self.answer(conn, request)
        except exc.OperationalError as error:
            if isinstance(error.orig, psycopg2.errors.QueryCanceled):
                seconds = self.settings.statement_timeout_seconds
                raise Unavailable(user_msg=self.too_slow.format(seconds=seconds)) from error
            raise
        finally:
            self.slots.release()

    def parse(self, data: dict) -> dict:
        """The checked inputs (BadInput when they are wrong), before the database is asked anything."""
        raise NotImplementedError

    def answer(self, conn: Connection, request: dict) -> tuple[str, dict]:
        raise NotImplementedError


class ZoneAtPointProcessor(_ZoneProcessor):
    """zone-at-point: lon, lat, optional date → the area at each level with its colour and reasons."""

    too_slow = "the zone lookup took too long (over {seconds:g} s); retry in a few seconds"

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, ZONE_AT_POINT)

    def parse(self, data: dict) -> dict:
        return {
            "lon": _coordinate(data.get("lon"), "lon", 180),
            "lat": _coordinate(data.get("lat"), "lat", 90),
            "day": _date(data.get("date")),
        }

    def answer(self, conn: Connection, request: dict) -> tuple[str, dict]:
        day = request["day"] or _latest_day(conn)
        rows = conn.exec_driver_sql(SQL["zone_at_point"], {**request, "day": day}).mappings().all()
        if not rows:
            raise BadInput(
                user_msg=f"no zone contains ({request['lon']}, {request['lat']}) on {day}: the point is "
                "outside the served areas, or no zones were computed that day"
            )
        finest = rows[-1]  # ordered by admin level: the finest area with a zone decides the measures
        return "application/json", {
            "id": "zones",
            "lon": request["lon"],
            "lat": request["lat"],
            "date": day.isoformat(),
            "areas": [_plain(row) for row in rows],
            "measures": {
                "code": finest["code"],
                "admin_level": finest["admin_level"],
                **measures_at(finest["level"], finest["ruleset_id"], self.travel_ruleset),
            },
        }


class RouteRiskProcessor(_ZoneProcessor):
    """route-risk: a LineString → the zones crossed in order, the highest level, the length in each colour."""

    too_slow = "the route took too long (over {seconds:g} s); send a shorter route"

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, ROUTE_RISK)

    def parse(self, data: dict) -> dict:
        route = _linestring(data.get("route"))
        admin_level = data.get("admin_level", 4)
        if (
            isinstance(admin_level, bool)
            or not isinstance(admin_level, (int, str))
            or str(admin_level) not in ("1", "2", "3", "4")
        ):
            raise BadInput(user_msg=f"admin_level: expected 1, 2, 3 or 4, got {_shown(admin_level)}")
        lons, lats = zip(*route["coordinates"])
        length_m = WGS84.line_length(lons, lats)
        if length_m > MAX_ROUTE_KM * 1000:
            raise BadInput(
                user_msg=f"route: {length_m / 1000:,.0f} km long; at most {MAX_ROUTE_KM:,} km are "
                "accepted, send a shorter route"
            )
        return {"route": route, "admin_level": int(admin_level), "day": _date(data.get("date")), "length_m": length_m}

    def answer(self, conn: Connection, request: dict) -> tuple[str, dict]:
        day = request["day"] or _latest_day(conn)
        pieces = (
            conn.exec_driver_sql(
                SQL["route_pieces"],
                {"route": json.dumps(request["route"]), "day": day, "admin_level": request["admin_level"]},
            )
            .mappings()
            .all()
        )
        if not pieces:
            raise BadInput(
                user_msg=f"the route crosses no zone on {day}: it is outside the served areas, "
                "or no zones were computed that day"
            )
        crossings: list[dict] = []
        rulesets: list[str] = []
        per_colour: dict[str, float] = {}
        for piece in pieces:
            per_colour[piece["colour"]] = per_colour.get(piece["colour"], 0.0) + piece["length_m"]
            if crossings and crossings[-1]["code"] == piece["code"]:
                crossings[-1]["length_m"] += piece["length_m"]
                continue
            crossings.append({**{k: piece[k] for k in ZONE_FIELDS}, "length_m": piece["length_m"]})
            rulesets.append(piece["ruleset_id"])
        for crossing in crossings:
            crossing["length_m"] = round(crossing["length_m"], 1)
        inside, total = sum(per_colour.values()), request["length_m"]
        highest = max(crossings, key=lambda c: c["level"])
        return "application/json", {
            "id": "route",
            "date": day.isoformat(),
            "admin_level": request["admin_level"],
            "crossings": crossings,
            "highest_level": highest["level"],
            "highest_colour": highest["colour"],
            "length_m_by_colour": {k: round(v, 1) for k, v in per_colour.items()},
            "length_m": round(total, 1),
            "outside_m": round(max(total - inside, 0.0), 1),
            "requirements": route_requirements(
                [{**c, "ruleset_id": r} for c, r in zip(crossings, rulesets, strict=True)], self.travel_ruleset
            ),
        }


def _latest_day(conn: Connection) -> dt.date:
    day = conn.exec_driver_sql(SQL["latest_day"]).scalar()
    if day is None:
        raise BadInput(user_msg="no zones have been computed yet")
    return day


def _date(raw) -> dt.date | None:
    """The requested day, or None for the latest computed one."""
    if raw in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise BadInput(user_msg=f"date: {_shown(raw)} is not an ISO date (YYYY-MM-DD)") from None


def _shown(value) -> str:
    """A caller's value as a message may echo it: its repr, cut to SHOWN_CHARS."""
    shown = repr(value)
    return shown if len(shown) <= SHOWN_CHARS else shown[:SHOWN_CHARS] + "…"


def _coordinate(value, name: str, bound: float) -> float:
    if value is None or isinstance(value, bool):
        raise BadInput(user_msg=f"{name}: required, a number of degrees")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(user_msg=f"{name}: {_shown(value)} is not a number") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise BadInput(user_msg=f"{name}: {_shown(value)} is outside -{bound}..{bound}")
    return number


def _linestring(value) -> dict:
    """A GeoJSON LineString (object, Feature or JSON text) of 2 to MAX_ROUTE_POINTS finite lon/lat positions, no step
    over 180° of longitude (a route is drawn straight in lon/lat, so such a step would circle the Earth), or
    BadInput."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadInput(user_msg="route: not valid JSON; send a GeoJSON LineString") from None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") != "LineString":
        kind = value.get("type") if isinstance(value, dict) else type(value).__name__
        raise BadInput(user_msg=f"route: expected a GeoJSON LineString, got {_shown(kind)}")
    coords = value.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2 or len(coords) > MAX_ROUTE_POINTS:
        count = f"{len(coords)} positions" if isinstance(coords, list) else "no list of positions"
        raise BadInput(
            user_msg=f"route: a LineString needs 2 to {MAX_ROUTE_POINTS} positions, got {count}; "
            "simplify a longer route"
        )
    clean = []
    for i, pos in enumerate(coords):
        if not isinstance(pos, list) or len(pos) < 2:
            raise BadInput(user_msg=f"route: position {i} is not [lon, lat]")
        clean.append(
            [_coordinate(pos[0], f"route position {i} lon", 180), _coordinate(pos[1], f"route position {i} lat", 90)]
        )
        if i and abs(clean[i][0] - clean[i - 1][0]) > 180:
            raise BadInput(
                user_msg=f"route: positions {i - 1} and {i} are more than 180° of longitude apart; "
                "split a route that crosses the antimeridian"
            )
    if all(p == clean[0] for p in clean):
        raise BadInput(user_msg="route: all positions are the same point; a route needs length")
    return {"type": "LineString", "coordinates": clean}


def _plain(row) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dict(row).items()}


# --- care (issue 13): nearest-free-bed (public), request-transfer and accept-transfer (role coordinator) ---------
# They run as the restricted role (its `data` in pygeoapi-config.yml): nearest-free-bed answers without personal
# data (facility, tier, free staffed beds, distance); the other two are guarded by AuthMiddleware (role
# coordinator, gis/serve/auth.py ROLE_PROCESSES), which also puts the caller's name in the inputs as `by`.


class Conflict(ProcessorExecuteError):
    """The request is well formed but refused by the data (a transfer already accepted, no free bed); says why."""

    http_status_code = 409
    ogc_exception_code = "InvalidParameterValue"


def _input(name: str, description: str, schema: dict, required: bool = True) -> dict:
    return {
        name: {
            "title": name,
            "description": description,
            "schema": schema,
            "minOccurs": 1 if required else 0,
            "maxOccurs": 1,
        }
    }


TIER = {"type": "integer", "minimum": 1, "maximum": 3}
NEAREST_FREE_BED = {
    "version": "1.0.0",
    "id": "nearest-free-bed",
    "title": {"vi": "Giường trống gần nhất", "en": "Nearest free bed"},
    "description": {
        "vi": "Các cơ sở điều trị của một tầng còn giường có nhân lực phù hợp (loại phòng, giới tính), gần nhất "
        "trước: cơ sở, tầng, số giường trống, khoảng cách (km). Không có dữ liệu cá nhân.",
        "en": "Treatment facilities of a tier with a free staffed bed of the right room kind and sex, nearest "
        "first: facility, tier, free staffed beds, distance (km, great-circle × the detour factor). No personal data.",
    },
    "jobControlOptions": ["sync-execute"],
    "keywords": ["care", "beds", "transfer"],
    "inputs": {
        **_input("lon", "WGS 84 longitude, degrees", {"type": "number", "minimum": -180, "maximum": 180}),
        **_input("lat", "WGS 84 latitude, degrees", {"type": "number", "minimum": -90, "maximum": 90}),
        **_input("tier", "treatment tier 1, 2 or 3", TIER),
        **_input("sex", "m or f (rooms of that sex or any)", {"type": "string", "enum": ["m", "f"]}, False),
        **_input(
            "room_kind", "f0 (default) or f1 (mixed rooms take both)", {"type": "string", "enum": ["f0", "f1"]}, False
        ),  # fmt: skip
    },
    "outputs": _output("facilities", "the nearest facilities with a free staffed bed, nearest first"),
    "example": {"inputs": {"lon": 106.82, "lat": 10.95, "tier": 2}},
}
REQUEST_TRANSFER = {
    "version": "1.0.0",
    "id": "request-transfer",
    "title": {"vi": "Yêu cầu chuyển tầng", "en": "Request a transfer"},
    "description": {
        "vi": "Mở yêu cầu chuyển một người đang được điều trị hoặc cách ly lên tầng cao hơn (vai trò coordinator).",
        "en": "Open a transfer request for a person under care now to a higher tier (role coordinator).",
    },
    "jobControlOptions": ["sync-execute"],
    "keywords": ["care", "transfer", "restricted"],
    "inputs": {
        **_input("person_key", "the person's pseudonymous key (as the transfers layer shows it)", {"type": "string"}),
        **_input("tier", "the tier the person needs", TIER),
        **_input("reason", "why (kept, at most 500 characters)", {"type": "string", "maxLength": 500}),
    },
    "outputs": _output("request", "the request opened: id, from facility and tier, required tier"),
    "example": {"inputs": {"person_key": "…", "tier": 2, "reason": "SpO2 93 %"}},
}
ACCEPT_TRANSFER = {
    "version": "1.0.0",
    "id": "accept-transfer",
    "title": {"vi": "Nhận chuyển tầng", "en": "Accept a transfer"},
    "description": {
        "vi": "Nhận một yêu cầu chuyển về một cơ sở của tầng đó còn giường có nhân lực (vai trò coordinator).",
        "en": "Accept a transfer request to a facility of its tier with a free staffed bed (role coordinator).",
    },
    "jobControlOptions": ["sync-execute"],
    "keywords": ["care", "transfer", "restricted"],
    "inputs": {
        **_input("request_id", "the transfer request", {"type": "integer", "minimum": 1}),
        **_input("facility", "the receiving facility (its facility_id)", {"type": "string"}),
    },
    "outputs": _output("acceptance", "the request accepted: facility, its free staffed beds before, distance"),
    "example": {"inputs": {"request_id": 1, "facility": "BV-01"}},
}


class _CareProcessor(BaseProcessor):
    """A care process: inputs checked, the gis.care function run on the processor's engine; its refusals as 4xx
    (CareError 400, TransferRefused 409) with the reason, a cancelled statement as 503. A public one (`slotted`)
    runs in the zone processes' slots, so anonymous callers cannot hold the server's threads; the coordinators'
    ones do not (a busy server must not turn an acceptance into a 503)."""

    slotted = False

    def __init__(self, processor_def: dict, metadata: dict):
        super().__init__(processor_def, metadata)
        from gis.care.settings import CareSettings

        self.settings = ProcessSettings()
        self.care = CareSettings()  # as the CLI reads it (detour factor)
        data = processor_def["data"]
        self.engine = _engine(
            data["host"],
            data["port"],
            data["dbname"],
            data["user"],
            data.get("password"),
            self.settings.statement_timeout_seconds,
        )

    def execute(self, data: dict, outputs=None):
        from gis.care.errors import CareError
        from gis.care.transfers import TransferRefused

        data = data if isinstance(data, dict) else {}
        slots = _slots(self.settings.concurrency) if self.slotted else None
        if slots is not None and not slots.acquire(blocking=False):
            raise Unavailable(user_msg="the server is busy with other public requests; retry in a few seconds")
        try:
            return "application/json", self.answer(data)
        except TransferRefused as error:
            raise Conflict(user_msg=str(error)) from error
        except CareError as error:
            raise BadInput(user_msg=str(error)) from error
        except exc.IntegrityError as error:  # a concurrent request for the same person won
            raise Conflict(user_msg="the transfer changed meanwhile; reload and retry") from error
        except exc.OperationalError as error:
            if isinstance(error.orig, psycopg2.errors.QueryCanceled):
                seconds = self.settings.statement_timeout_seconds
                raise Unavailable(user_msg=f"the care request took too long (over {seconds:g} s); retry") from error
            raise
        finally:
            if slots is not None:
                slots.release()

    def answer(self, data: dict) -> dict:
        raise NotImplementedError


def _tier(value) -> int:
    if isinstance(value, bool) or str(value) not in ("1", "2", "3"):
        raise BadInput(user_msg=f"tier: expected 1, 2 or 3, got {_shown(value)}")
    return int(value)


def _text(value, name: str, choices: tuple[str, ...] | None = None, required: bool = False) -> str | None:
    if value in (None, ""):
        if required:
            raise BadInput(user_msg=f"{name}: required")
        return None
    if not isinstance(value, str) or (choices and value not in choices) or len(value) > 500:
        wanted = f"one of {', '.join(choices)}" if choices else "a text of at most 500 characters"
        raise BadInput(user_msg=f"{name}: expected {wanted}, got {_shown(value)}")
    return value


def _by(data: dict) -> str:
    by = data.get("by")
    if not isinstance(by, str) or not by:
        raise BadInput(user_msg="no coordinator named: send the request with a coordinator's token")
    return by


class NearestFreeBedProcessor(_CareProcessor):
    """nearest-free-bed: lon, lat, tier, optional sex and room kind → the nearest facilities with a free bed."""

    slotted = True

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, NEAREST_FREE_BED)

    def answer(self, data: dict) -> dict:
        from gis.care.transfers import nearest_free_bed

        result = nearest_free_bed(
            self.engine,
            self.care,
            _coordinate(data.get("lon"), "lon", 180),
            _coordinate(data.get("lat"), "lat", 90),
            _tier(data.get("tier")),
            sex=_text(data.get("sex"), "sex", ("m", "f")),
            room_kind=_text(data.get("room_kind"), "room_kind", ("f0", "f1")) or "f0",
        )
        return {"id": "facilities", **result.to_json()}


class RequestTransferProcessor(_CareProcessor):
    """request-transfer (role coordinator): person_key, tier, reason → the request opened."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, REQUEST_TRANSFER)

    def answer(self, data: dict) -> dict:
        from gis.care.transfers import request_transfer

        person = _text(data.get("person_key"), "person_key", required=True)
        reason = _text(data.get("reason"), "reason", required=True)
        assert person is not None and reason is not None
        summary = request_transfer(self.engine, person, _tier(data.get("tier")), reason, _by(data))
        return {"id": "request", **summary.to_json()}


class AcceptTransferProcessor(_CareProcessor):
    """accept-transfer (role coordinator): request_id, facility → accepted, or 409 with the reason."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, ACCEPT_TRANSFER)

    def answer(self, data: dict) -> dict:
        from gis.care.transfers import accept

        raw = data.get("request_id")
        if isinstance(raw, bool) or not str(raw).isdigit() or len(str(raw)) > 18:
            raise BadInput(user_msg=f"request_id: expected a request number, got {_shown(raw)}")
        facility = _text(data.get("facility"), "facility", required=True)
        assert facility is not None
        summary = accept(self.engine, self.care, int(str(raw)), facility, by=_by(data))
        return {"id": "acceptance", **summary.to_json()}
