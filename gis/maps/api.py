"""The map's JSON API under /map/api: geometry once, light zone colours revalidated by ETag, details on click.

Everything is read from the public views (schema `pub`) as the public role, like every public path. The ETags,
304s and Cache-Control are the server's CacheMiddleware's, keyed on the same DataVersion this API keeps its memory
by, so a page that asks again with If-None-Match gets a 304 until the data changes.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gis import sqlfiles
from gis.errors import CovidGisError
from gis.levels import ADMIN_LEVEL_VI, AdminLevel
from gis.maps.search import NameIndex
from gis.maps.settings import MapSettings
from gis.serve.version import DataVersion, Version
from gis.travel.measures import measures_at

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "map.sql")
LAYERS = {"quarantine": ["quarantine"], "sites": ["testing", "vaccination"], "essential": ["essential_goods"]}
GEOJSON = "application/geo+json"
EMPTY = '{"type": "FeatureCollection", "features": []}'
MAX_QUERY = 100
MAX_CODE = 32  # area codes are short ("25996-01"); a longer one is no code
LEVEL_CHOICES = {str(int(level)): f"{int(level)} ({name})" for level, name in ADMIN_LEVEL_VI.items()}
KEPT = 256  # values kept per data version and level: versions move on, and the oldest go first
T = TypeVar("T")


class MapRequestError(CovidGisError):
    """A map API request with a parameter the server cannot use (answered with 400 and the reason)."""


class MapData:
    """Reads of the public views, with what never changes within a data version kept in memory."""

    def __init__(self, engine: Engine, settings: MapSettings, version: DataVersion, travel_ruleset: str):
        self.engine = engine
        self.travel_ruleset = travel_ruleset  # the cited travel measures shown in a zone's detail
        self.settings = settings
        self.version = version
        self._cache: LRUCache[tuple, Any] = LRUCache(KEPT)
        self._lock = threading.Lock()  # cachetools caches are not thread-safe, and routes run in threads

    def _query(self, name: str, **params):
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(SQL[name], params)

    def _cached(self, key: tuple, make: Callable[[], T]) -> T:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return cast(T, hit)
        value = make()
        with self._lock:
            self._cache[key] = value
        return value

    def published(self, version: Version) -> dict:
        """The published rule set and the first and last day it has zones for."""

        def make() -> dict:
            row = self._query("published").mappings().one()
            return {
                "ruleset_id": row["ruleset_id"],
                "first_day": _iso(row["first_day"]),
                "last_day": _iso(row["last_day"]),
            }

        return self._cached(("published", version.zones), make)

    def areas(self, level: int, version: Version) -> str:
        return self._cached(
            ("areas", level, version.boundaries), lambda: self._query("areas_geojson", level=level).scalar_one()
        )

    def zones(self, level: int, day: dt.date) -> dict:
        rows = self._query("zones_for_day", level=level, day=day).all()
        counts: dict[str, int] = {}
        for _, _, colour in rows:
            counts[colour] = counts.get(colour, 0) + 1
        return {"zones": {code: [lvl, colour] for code, lvl, colour in rows}, "counts": counts}

    def zone(self, code: str, day: dt.date) -> dict | None:
        row = self._query("zone_detail", code=code, day=day).mappings().one_or_none()
        area = self._query("area", code=code).mappings().one_or_none()
        if row is None and area is None:
            return None
        strip = self._query("zone_strip", code=code, day=day, days=self.settings.history_days).mappings().all()
        detail = (
            dict(row)
            if row
            else {
                "code": code,
                "name": area["name"],
                "admin_level": area["level"],
                "parent_name": area["parent_name"],
                "day": day,
            }
        )
        detail["day"] = _iso(detail["day"])
        detail["history"] = [{**dict(s), "day": _iso(s["day"])} for s in strip]
        if area is not None:
            detail["bbox"] = [area["xmin"], area["ymin"], area["xmax"], area["ymax"]]
        if row is not None and row["level"] is not None:
            detail["measures"] = measures_at(row["level"], row["ruleset_id"], self.travel_ruleset)
        return detail

    def names(self, version: Version) -> NameIndex:
        return self._cached(
            ("names", version.boundaries),
            lambda: NameIndex([dict(r) for r in self._query("names").mappings()]),
        )

    def locate(self, lon: float, lat: float) -> str | None:
        return self._query("locate", lon=lon, lat=lat).scalar_one_or_none()

    def locations(self, day: dt.date, version: Version) -> str:
        """The published locations of interest of the history_days days up to `day` (GeoJSON), per trace run."""
        return self._cached(
            ("locations", day, version.trace),
            lambda: self._query(
                "locations_geojson", day=day, days=self.settings.history_days, tz=self.settings.timezone
            ).scalar_one(),
        )

    def layer(self, name: str, version: Version) -> str:
        if name == "data-quality":
            return self._cached(("dq", version.boundaries), lambda: self._query("data_quality_geojson").scalar_one())
        return self._cached(
            ("facilities", name, version.facilities),
            lambda: self._query("facilities_geojson", kinds=LAYERS[name]).scalar_one(),
        )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _level(request: Request) -> int:
    raw = request.query_params.get("level", str(int(AdminLevel.commune)))
    if raw not in LEVEL_CHOICES:
        raise MapRequestError(f"level must be {', '.join(LEVEL_CHOICES.values())}")
    return int(raw)


def _day(request: Request, default: str | None) -> dt.date | None:
    raw = request.query_params.get("date") or default
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        shown = raw if len(raw) <= 20 else raw[:20] + "…"
        raise MapRequestError(f"date must look like 2021-09-05, not {shown!r}") from exc


def _code(request: Request) -> str:
    code = request.path_params["code"]
    if len(code) > MAX_CODE or not code.isprintable():
        raise MapRequestError(f"an area code has at most {MAX_CODE} printable characters, e.g. 25996 or 25996-01")
    return code


def _float(request: Request, name: str, low: float, high: float) -> float:
    try:
        value = float(request.query_params[name])
    except (KeyError, ValueError) as exc:
        raise MapRequestError(f"{name} must be a number") from exc
    if not low <= value <= high:
        raise MapRequestError(f"{name} must be between {low} and {high}")
    return value


def _json(content: object) -> Response:
    return Response(json.dumps(content, ensure_ascii=False, default=str), media_type="application/json")


def _handles_errors(handler):
    def wrapped(request: Request) -> Response:
        try:
            return handler(request)
        except MapRequestError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return wrapped


def api_routes(data: MapData) -> list[Route]:
    """The /api routes of the map (relative to the map's prefix)."""

    def meta(request: Request) -> Response:
        version = data.version.current()
        return _json({**data.published(version), "snapshot": version.zones})

    def areas(request: Request) -> Response:
        level = _level(request)
        return Response(data.areas(level, data.version.current()), media_type=GEOJSON)

    def zones(request: Request) -> Response:
        level, asked, version = _level(request), _day(request, None), data.version.current()
        day = asked or _day(request, data.published(version)["last_day"])
        out: dict[str, object] = {
            "day": _iso(day),
            "level": level,
            "snapshot": version.zones,
            "zones": {},
            "counts": {},
        }
        return _json({**out, **data.zones(level, day)} if day else out)

    def zone(request: Request) -> Response:
        code, version = _code(request), data.version.current()
        day = _day(request, data.published(version)["last_day"])
        if day is None:
            return JSONResponse({"error": "no zones have been computed yet"}, status_code=404)
        detail = data.zone(code, day)
        if detail is None:
            return JSONResponse({"error": f"no area with code {code}"}, status_code=404)
        return _json(detail)

    def search(request: Request) -> Response:
        query = request.query_params.get("q", "")[:MAX_QUERY]
        index = data.names(data.version.current())
        return JSONResponse({"query": query, "results": [p.as_json() for p in index.search(query)]})

    def locate(request: Request) -> Response:
        lon, lat = _float(request, "lon", -180, 180), _float(request, "lat", -90, 90)
        code = data.locate(lon, lat)
        if code is None:
            return JSONResponse({"error": "this place is outside the province's units"}, status_code=404)
        place = next(p for p in data.names(data.version.current()).places if p.code == code)
        return JSONResponse(place.as_json())

    def layer(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in LAYERS and name != "data-quality":
            return JSONResponse(
                {"error": f"no layer {name}; layers: {', '.join([*LAYERS, 'data-quality'])}"}, status_code=404
            )
        return Response(data.layer(name, data.version.current()), media_type=GEOJSON)

    def locations(request: Request) -> Response:
        version = data.version.current()
        day = _day(request, data.published(version)["last_day"])
        if day is None:
            return Response(EMPTY, media_type=GEOJSON)
        return Response(data.locations(day, version), media_type=GEOJSON)

    return [
        Route(path, _handles_errors(handler))
        for path, handler in [
            ("/api/meta", meta),
            ("/api/areas", areas),
            ("/api/zones", zones),
            ("/api/zone/{code}", zone),
            ("/api/search", search),
            ("/api/locate", locate),
            ("/api/layers/{name}", layer),
            ("/api/locations", locations),
        ]
    ]
