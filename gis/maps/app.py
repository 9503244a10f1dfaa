"""The map's routes for `covidgis serve`: the page at /map, its static files and its JSON API."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gis.maps.api import MapData, api_routes
from gis.maps.page import build_page
from gis.maps.settings import MapSettings
from gis.risk.ruleset import DEFAULT_RULESET, load_ruleset
from gis.serve.version import DataVersion

STATIC = Path(__file__).parent / "static"


def map_routes(engine: Engine, settings: MapSettings, version: DataVersion, travel_ruleset: str) -> list[BaseRoute]:
    """Routes to add to the served app; `engine` connects as the public role (the API reads only the views of `pub`),
    `version` is the server's one data version (shared with the HTTP cache)."""
    data = MapData(engine, settings, version, travel_ruleset)
    pages: dict[str, str] = {}

    def page(request: Request) -> HTMLResponse:
        ruleset_id = data.published(version.current())["ruleset_id"] or DEFAULT_RULESET
        if ruleset_id not in pages:  # the page is static but for the published rule set's legend
            pages[ruleset_id] = build_page(settings, load_ruleset(ruleset_id))
        return HTMLResponse(pages[ruleset_id], headers={"Cache-Control": "no-cache"})

    prefix = settings.prefix.rstrip("/")
    return [
        Route(prefix, page),
        Mount(f"{prefix}/static", app=StaticFiles(directory=STATIC), name="map-static"),
        *[Route(prefix + r.path, r.endpoint) for r in api_routes(data)],
    ]
