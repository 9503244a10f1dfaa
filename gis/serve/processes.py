"""OGC API Processes: `zone-at-point` and `route-risk` (pygeoapi processors, by dotted path in the config).

Both read the public views only (pub.zones, pub.zones_history) through the connection in the processor's `data`
(the public role). Bad input raises BadInput: pygeoapi answers 400 with the message, never 500.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from pathlib import Path

from pygeoapi.process.base import BaseProcessor, ProcessorExecuteError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from gis import sqlfiles

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "processes.sql")
MAX_ROUTE_POINTS = 10_000
ZONE_FIELDS = ["code", "name", "level", "colour", "label_vi", "label_en"]


class BadInput(ProcessorExecuteError):
    """The request cannot be answered as given; the message says why."""

    http_status_code = 400
    ogc_exception_code = "InvalidParameterValue"


def _output(name: str, description: str) -> dict:
    return {name: {"title": name, "description": description,
                   "schema": {"type": "object", "contentMediaType": "application/json"}}}


ZONE_AT_POINT = {
    "version": "1.0.0",
    "id": "zone-at-point",
    "title": {"en": "Zone at a point", "vi": "Vùng nguy cơ tại một điểm"},
    "description": {"en": "The area containing a point at each administrative level, with its zone (level, colour, "
                          "reasons) on a date (default: the latest computed day).",
                    "vi": "Đơn vị hành chính chứa điểm ở mỗi cấp, với cấp độ nguy cơ, màu và lý do."},
    "jobControlOptions": ["sync-execute"],
    "keywords": ["zone", "risk", "point"],
    "inputs": {
        "lon": {"title": "Longitude", "description": "WGS 84 longitude, degrees",
                "schema": {"type": "number", "minimum": -180, "maximum": 180}, "minOccurs": 1, "maxOccurs": 1},
        "lat": {"title": "Latitude", "description": "WGS 84 latitude, degrees",
                "schema": {"type": "number", "minimum": -90, "maximum": 90}, "minOccurs": 1, "maxOccurs": 1},
        "date": {"title": "Date", "description": "ISO date (YYYY-MM-DD); default the latest computed day",
                 "schema": {"type": "string", "format": "date"}, "minOccurs": 0, "maxOccurs": 1},
    },
    "outputs": _output("zones", "the point, the date and one entry per administrative level"),
    "example": {"inputs": {"lon": 106.82, "lat": 10.95}},
}

ROUTE_RISK = {
    "version": "1.0.0",
    "id": "route-risk",
    "title": {"en": "Risk along a route", "vi": "Nguy cơ dọc lộ trình"},
    "description": {"en": "The zones a route (GeoJSON LineString, WGS 84) crosses in order, the highest level met and "
                          "the length travelled in each colour.",
                    "vi": "Các vùng mà lộ trình đi qua theo thứ tự, cấp cao nhất và chiều dài trong mỗi màu."},
    "jobControlOptions": ["sync-execute"],
    "keywords": ["zone", "risk", "route", "PC-Covid"],
    "inputs": {
        "route": {"title": "Route", "description": "GeoJSON LineString in WGS 84 (lon, lat)",
                  "schema": {"type": "object", "contentMediaType": "application/geo+json"},
                  "minOccurs": 1, "maxOccurs": 1},
        "date": {"title": "Date", "description": "ISO date; default the latest computed day",
                 "schema": {"type": "string", "format": "date"}, "minOccurs": 0, "maxOccurs": 1},
        "admin_level": {"title": "Administrative level", "description": "1 province … 4 hamlet (default 4)",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 4}, "minOccurs": 0, "maxOccurs": 1},
    },
    "outputs": _output("route", "crossings in order, highest level, metres per colour"),
    "example": {"inputs": {"route": {"type": "LineString", "coordinates": [[106.80, 10.95], [106.90, 10.97]]}}},
}


@functools.cache
def _engine(host: str, port: int, dbname: str, user: str, password: str | None) -> Engine:
    url = URL.create("postgresql+psycopg2", username=user, password=password or None, host=host, port=int(port),
                     database=dbname)
    return create_engine(url, pool_pre_ping=True, connect_args={"application_name": "covidgis-processes"})


class _ZoneProcessor(BaseProcessor):
    def __init__(self, processor_def: dict, metadata: dict):
        super().__init__(processor_def, metadata)
        data = processor_def["data"]
        self.engine = _engine(data["host"], data["port"], data["dbname"], data["user"], data.get("password"))

    def _day(self, conn, data: dict) -> dt.date:
        raw = data.get("date")
        if raw in (None, ""):
            day = conn.execute(text(SQL["latest_day"])).scalar()
            if day is None:
                raise BadInput(user_msg="no zones have been computed yet")
            return day
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError:
            raise BadInput(user_msg=f"date: {raw!r} is not an ISO date (YYYY-MM-DD)")


class ZoneAtPointProcessor(_ZoneProcessor):
    """zone-at-point: lon, lat, optional date → the area at each level with its colour and reasons."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, ZONE_AT_POINT)

    def execute(self, data: dict, outputs=None):
        data = data or {}
        lon, lat = _coordinate(data.get("lon"), "lon", 180), _coordinate(data.get("lat"), "lat", 90)
        with self.engine.connect() as conn:
            day = self._day(conn, data)
            rows = conn.execute(text(SQL["zone_at_point"]), {"day": day, "lon": lon, "lat": lat}).mappings().all()
        if not rows:
            raise BadInput(user_msg=f"no zone contains ({lon}, {lat}) on {day}: the point is outside the served "
                                    "areas, or no zones were computed that day")
        return "application/json", {"id": "zones", "lon": lon, "lat": lat, "date": day.isoformat(),
                                    "areas": [_plain(row) for row in rows]}


class RouteRiskProcessor(_ZoneProcessor):
    """route-risk: a LineString → the zones crossed in order, the highest level, the length in each colour."""

    def __init__(self, processor_def: dict):
        super().__init__(processor_def, ROUTE_RISK)

    def execute(self, data: dict, outputs=None):
        data = data or {}
        route = _linestring(data.get("route"))
        admin_level = data.get("admin_level", 4)
        if isinstance(admin_level, bool) or not isinstance(admin_level, (int, str)) \
                or str(admin_level) not in ("1", "2", "3", "4"):
            raise BadInput(user_msg=f"admin_level: expected 1, 2, 3 or 4, got {admin_level!r}")
        params = {"route": json.dumps(route), "admin_level": int(admin_level)}
        with self.engine.connect() as conn:
            params["day"] = self._day(conn, data)
            pieces = conn.execute(text(SQL["route_pieces"]), params).mappings().all()
            total = conn.execute(text(SQL["route_length"]), params).scalar_one()
        if not pieces:
            raise BadInput(user_msg=f"the route crosses no zone on {params['day']}: it is outside the served areas, "
                                    "or no zones were computed that day")
        crossings: list[dict] = []
        per_colour: dict[str, float] = {}
        for piece in pieces:
            per_colour[piece["colour"]] = per_colour.get(piece["colour"], 0.0) + piece["length_m"]
            if crossings and crossings[-1]["code"] == piece["code"]:
                crossings[-1]["length_m"] += piece["length_m"]
                continue
            crossings.append({**{k: piece[k] for k in ZONE_FIELDS}, "length_m": piece["length_m"]})
        for crossing in crossings:
            crossing["length_m"] = round(crossing["length_m"], 1)
        inside = sum(per_colour.values())
        highest = max(crossings, key=lambda c: c["level"])
        return "application/json", {
            "id": "route", "date": params["day"].isoformat(), "admin_level": int(admin_level),
            "crossings": crossings, "highest_level": highest["level"], "highest_colour": highest["colour"],
            "length_m_by_colour": {k: round(v, 1) for k, v in per_colour.items()},
            "length_m": round(total, 1), "outside_m": round(max(total - inside, 0.0), 1)}


def _coordinate(value, name: str, bound: float) -> float:
    if value is None or isinstance(value, bool):
        raise BadInput(user_msg=f"{name}: required, a number of degrees")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadInput(user_msg=f"{name}: {value!r} is not a number")
    if not math.isfinite(number) or abs(number) > bound:
        raise BadInput(user_msg=f"{name}: {value!r} is outside -{bound}..{bound}")
    return number


def _linestring(value) -> dict:
    """A GeoJSON LineString (object, Feature or JSON text) with finite lon/lat positions, or BadInput."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise BadInput(user_msg="route: not valid JSON; send a GeoJSON LineString")
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict) or value.get("type") != "LineString":
        kind = value.get("type") if isinstance(value, dict) else type(value).__name__
        raise BadInput(user_msg=f"route: expected a GeoJSON LineString, got {kind!r}")
    coords = value.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2 or len(coords) > MAX_ROUTE_POINTS:
        raise BadInput(user_msg=f"route: a LineString needs 2 to {MAX_ROUTE_POINTS} positions")
    clean = []
    for i, pos in enumerate(coords):
        if not isinstance(pos, list) or len(pos) < 2:
            raise BadInput(user_msg=f"route: position {i} is not [lon, lat]")
        clean.append([_coordinate(pos[0], f"route position {i} lon", 180),
                      _coordinate(pos[1], f"route position {i} lat", 90)])
    if all(p == clean[0] for p in clean):
        raise BadInput(user_msg="route: all positions are the same point; a route needs length")
    return {"type": "LineString", "coordinates": clean}


def _plain(row) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dict(row).items()}
