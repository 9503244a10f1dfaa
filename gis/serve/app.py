"""`covidgis serve`: one ASGI app — pygeoapi (OGC API) plus our own routes (/health)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from gis.settings import PROJECT_ROOT, Settings

PYGEOAPI_CONFIG = PROJECT_ROOT / "pygeoapi-config.yml"


def pygeoapi_environment(settings: Settings) -> dict[str, str]:
    """The variables pygeoapi-config.yml reads, derived from our settings."""
    url = make_url(settings.url)
    return {
        "COVIDGIS_HOST": settings.host,
        "COVIDGIS_PORT": str(settings.port),
        "COVIDGIS_BASE_URL": settings.base_url,
        "COVIDGIS_DB_HOST": url.host or "127.0.0.1",
        "COVIDGIS_DB_PORT": str(url.port or 5432),
        "COVIDGIS_DB_NAME": url.database or "",
        "COVIDGIS_DB_USER": url.username or "",
        "COVIDGIS_DB_PASSWORD": url.password or "",
        "PYGEOAPI_CONFIG": str(PYGEOAPI_CONFIG),
        "PYGEOAPI_OPENAPI": str(settings.var_dir / "openapi.yml"),
    }


def write_openapi(path: Path) -> None:
    """pygeoapi serves a pre-generated OpenAPI document; regenerate it from the config on every start."""
    from pygeoapi.openapi import generate_openapi_document

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate_openapi_document(PYGEOAPI_CONFIG, "yaml"), encoding="utf-8")


def create_app(settings: Settings, engine: Engine) -> Starlette:
    """Compose the served app. pygeoapi reads its config at import, so the environment is set first."""
    os.environ.update(pygeoapi_environment(settings))
    write_openapi(Path(os.environ["PYGEOAPI_OPENAPI"]))
    from pygeoapi.starlette_app import APP as pygeoapi_app

    def health(request: Request) -> JSONResponse:  # sync: Starlette runs it in a thread
        with engine.connect() as conn:
            areas = conn.execute(text("SELECT count(*) FROM admin.area WHERE valid_to IS NULL")).scalar_one()
        return JSONResponse({"status": "ok", "current_areas": areas})

    return Starlette(routes=[Route("/health", health), Mount("/", app=pygeoapi_app)])
