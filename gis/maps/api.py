"""The map's JSON API under /map/api: geometry once, light zone colours revalidated by ETag, details on click.

Everything is read from the public views (schema `pub`) as the public role, like every public path; responses carry
an ETag made of the data version (pub.data_version), so a page that asks again with If-None-Match gets a 304 until
the zone snapshot changes.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gis import sqlfiles
from gis.errors import CovidGisError
from gis.maps.search import NameIndex
from gis.maps.settings import MapSettings

SQL = sqlfiles.load(Path(__file__).parent / "sql" / "map.sql")
LAYERS = {"quarantine": ["quarantine"], "sites": ["testing", "vaccination"], "essential": ["essential_goods"]}
GEOJSON = "application/geo+json"
MAX_QUERY = 100
MAX_CODE = 32  # area codes are short ("25996-01"); a longer one is no code


class MapRequestError(CovidGisError):
    """A map API request with a parameter the server cannot use (answered with 400 and the reason)."""


class MapData:
    """Reads of the public views, with what never changes between data versions kept in memory."""

    def __init__(self, engine: Engine, settings: MapSettings):
        self.engine = engine
        self.settings = settings
        self._cache: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def _query(self, name: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(SQL[name]), params)

    def _cached(self, key: tuple, make: Callable[[], object]) -> object:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = make()
        with self._lock:
            if len(self._cache) > 256:  # versions move on; old entries are never asked for again
                self._cache.clear()
            self._cache[key] = value
        return value

    def version(self) -> dict:
        """The data version: zone snapshot, boundary load and facility batch."""
        row = self._query("data_version").mappings().one()
        return {k: (v or 0) for k, v in row.items()}

    def published(self, zones_version: int) -> dict:
        """The published rule set and the first and last day it has zones for."""

        def make():
            row = self._query("published").mappings().one()
            return {
                "ruleset_id": row["ruleset_id"],
                "first_day": _iso(row["first_day"]),
                "last_day": _iso(row["last_day"]),
            }

        return self._cached(("published", zones_version), make)

    def areas(self, level: int, boundaries_version: int) -> str:
        return self._cached(
            ("areas", level, boundaries_version), lambda: self._query("areas_geojson", level=level).scalar_one()
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
        return detail

    def names(self, boundaries_version: int) -> NameIndex:
        return self._cached(
            ("names", boundaries_version), lambda: NameIndex([dict(r) for r in self._query("names").mappings()])
        )

    def locate(self, lon: float, lat: float) -> str | None:
        return self._query("locate", lon=lon, lat=lat).scalar_one_or_none()

    def layer(self, name: str, version: dict) -> str:
        if name == "data-quality":
            return self._cached(("dq", version["boundaries"]), lambda: self._query("data_quality_geojson").scalar_one())
        return self._cached(
            ("facilities", name, version["facilities"]),
            lambda: self._query("facilities_geojson", kinds=LAYERS[name]).scalar_one(),
        )


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _level(request: Request) -> int:
    raw = request.query_params.get("level", "3")
    if raw not in {"1", "2", "3", "4"}:
        raise MapRequestError("level must be 1 (tỉnh), 2 (huyện), 3 (xã) or 4 (ấp)")
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


def conditional(request: Request, etag: str, body: Callable[[], object], media_type: str) -> Response:
    """304 when the client already holds this version, else the body with its ETag; always revalidate."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    content = body()
    if not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False, default=str)
    return Response(content, media_type=media_type, headers=headers)


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
        version = data.version()
        return conditional(
            request,
            f'W/"meta-{version["zones"]}"',
            lambda: {**data.published(version["zones"]), "snapshot": version["zones"]},
            "application/json",
        )

    def areas(request: Request) -> Response:
        level, version = _level(request), data.version()
        return conditional(
            request,
            f'W/"areas-{level}-{version["boundaries"]}"',
            lambda: data.areas(level, version["boundaries"]),
            GEOJSON,
        )

    def zones(request: Request) -> Response:
        level, version = _level(request), data.version()
        asked = _day(request, None)
        etag = f'W/"zones-{version["zones"]}-{level}-{asked or "latest"}"'

        def body() -> dict:
            day = asked or _day(request, data.published(version["zones"])["last_day"])
            out = {"day": _iso(day), "level": level, "snapshot": version["zones"], "zones": {}, "counts": {}}
            return {**out, **data.zones(level, day)} if day else out

        return conditional(request, etag, body, "application/json")

    def zone(request: Request) -> Response:
        code, version = _code(request), data.version()
        day = _day(request, data.published(version["zones"])["last_day"])
        if day is None:
            return JSONResponse({"error": "no zones have been computed yet"}, status_code=404)
        detail = data.zone(code, day)
        if detail is None:
            return JSONResponse({"error": f"no area with code {code}"}, status_code=404)
        return conditional(request, f'W/"zone-{version["zones"]}-{code}-{day}"', lambda: detail, "application/json")

    def search(request: Request) -> Response:
        query = request.query_params.get("q", "")[:MAX_QUERY]
        index = data.names(data.version()["boundaries"])
        return JSONResponse({"query": query, "results": [p.as_json() for p in index.search(query)]})

    def locate(request: Request) -> Response:
        lon, lat = _float(request, "lon", -180, 180), _float(request, "lat", -90, 90)
        code = data.locate(lon, lat)
        if code is None:
            return JSONResponse({"error": "this place is outside the province's units"}, status_code=404)
        place = next(p for p in data.names(data.version()["boundaries"]).places if p.code == code)
        return JSONResponse(place.as_json())

    def layer(request: Request) -> Response:
        name, version = request.path_params["name"], data.version()
        if name not in LAYERS and name != "data-quality":
            return JSONResponse(
                {"error": f"no layer {name}; layers: {', '.join([*LAYERS, 'data-quality'])}"}, status_code=404
            )
        key = version["boundaries"] if name == "data-quality" else version["facilities"]
        return conditional(request, f'W/"layer-{name}-{key}"', lambda: data.layer(name, version), GEOJSON)

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
        ]
    ]
