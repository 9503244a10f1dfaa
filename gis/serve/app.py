"""`covidgis serve`: one ASGI app — pygeoapi (OGC API) per audience, auth, HTTP caching, and our own routes.

Request path: RequestLimits (too long a URL, header block or value → 414/431/400) → DatabaseOutage (503 +
Retry-After while the database cannot answer) → AuthMiddleware (who is asking; restricted collections → 401/403) →
CacheMiddleware (ETag, 304, hot responses per data version; anonymous only) → our routes (/health, /map) → the
pygeoapi app of the caller's audience (anonymous: public collections only; analyst / committee: public + their
restricted ones).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL, make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gis import sqlfiles
from gis.maps.app import map_routes
from gis.maps.settings import MapSettings
from gis.risk.settings import RiskSettings
from gis.serve import pygeoapi_fixes
from gis.serve.auth import ROLE_COLLECTIONS, USER_KEY, AuthMiddleware, TokenVerifier
from gis.serve.caching import CacheMiddleware, DataVersion
from gis.serve.limits import RequestLimits
from gis.serve.ogc import audience_config, load_config, make_api, ogc_app, restricted_collections
from gis.serve.outage import OUTAGE_ERRORS, DatabaseOutage, serving_engine, too_slow
from gis.serve.security import SecurityHeadersMiddleware
from gis.serve.settings import ServeSettings
from gis.settings import PROJECT_ROOT, Settings

PYGEOAPI_CONFIG = PROJECT_ROOT / "pygeoapi-config.yml"
SQL = sqlfiles.load(Path(__file__).parent / "sql" / "serve.sql")


def _secret(value) -> str:
    return value.get_secret_value() if value is not None else ""


def public_url(settings: Settings, serve: ServeSettings) -> URL:
    """The database URL as the public role (`pub` only), which every public path reads through."""
    return make_url(settings.url).set(username=serve.public_db_user, password=_secret(serve.public_db_password) or None)


def pygeoapi_environment(settings: Settings, serve: ServeSettings) -> dict[str, str]:
    """The variables pygeoapi-config.yml reads, derived from our settings."""
    url = make_url(settings.url)
    return {
        "COVIDGIS_HOST": settings.host,
        "COVIDGIS_PORT": str(settings.port),
        "COVIDGIS_BASE_URL": settings.base_url,
        "COVIDGIS_DB_HOST": url.host or "127.0.0.1",
        "COVIDGIS_DB_PORT": str(url.port or 5432),
        "COVIDGIS_DB_NAME": url.database or "",
        "COVIDGIS_DB_PUBLIC_USER": serve.public_db_user,
        "COVIDGIS_DB_PUBLIC_PASSWORD": _secret(serve.public_db_password),
        "COVIDGIS_DB_RESTRICTED_USER": serve.restricted_db_user,
        "COVIDGIS_DB_RESTRICTED_PASSWORD": _secret(serve.restricted_db_password),
        "COVIDGIS_SERVE_STATEMENT_TIMEOUT_SECONDS": str(serve.statement_timeout_seconds),
    }


def publish(engine: Engine, ruleset: str, suppress_below: int) -> None:
    """Record which rule set the public zones show; a change is a new snapshot, so every cache turns over."""
    with engine.begin() as conn:
        changed = conn.execute(text(SQL["publish"]), {"ruleset": ruleset, "suppress_below": suppress_below}).first()
        if changed:
            conn.execute(text(SQL["bump_snapshot"]))


class AudienceRouter:
    """Send each request to the pygeoapi app of the caller's audience."""

    def __init__(self, apps: dict[str, ASGIApp]):
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get(USER_KEY)
        await self.apps[user.role if user else "public"](scope, receive, send)


def create_app(
    settings: Settings, engine: Engine, serve: ServeSettings | None = None, risk: RiskSettings | None = None
) -> Starlette:
    """Compose the served app (the one place where deployment choices meet the library)."""
    serve = serve or ServeSettings()
    risk = risk or RiskSettings()
    pygeoapi_fixes.apply()
    publish(engine, risk.ruleset, serve.suppress_below)
    config = load_config(PYGEOAPI_CONFIG, pygeoapi_environment(settings, serve))
    restricted = restricted_collections(config, serve.public_db_user)
    apps: dict[str, ASGIApp] = {"public": ogc_app(make_api(audience_config(config, restricted)))}
    for role, readable in ROLE_COLLECTIONS.items():
        apps[role] = ogc_app(make_api(audience_config(config, restricted - readable)))

    # The server's own reads (data version, API keys, /health) and the map's (as the public role), with timeouts.
    own = serving_engine(engine.url, serve, "covidgis-serve")

    def health(request: Request) -> JSONResponse:  # sync: Starlette runs it in a thread
        try:
            with own.connect() as conn:
                areas = conn.execute(text("SELECT count(*) FROM admin.area WHERE valid_to IS NULL")).scalar_one()
        except OUTAGE_ERRORS as error:
            return JSONResponse(
                {"status": "unavailable", "database": "slow" if too_slow(error) else "down"},
                status_code=503,
                headers={"Retry-After": str(serve.retry_after_seconds)},
            )
        return JSONResponse({"status": "ok", "database": "up", "current_areas": areas})

    # Our own routes (health, the map), before pygeoapi's catch-all.
    routes: list[BaseRoute] = [
        Route("/health", health),
        *map_routes(serving_engine(public_url(settings, serve), serve, "covidgis-map")),
    ]
    return Starlette(
        routes=[*routes, Mount("/", app=AudienceRouter(apps))],
        middleware=[
            Middleware(
                SecurityHeadersMiddleware, tile_urls=[MapSettings().basemap_url, config["server"]["map"]["url"]]
            ),
            Middleware(RequestLimits, settings=serve),
            Middleware(DatabaseOutage, engine=own, settings=serve),
            Middleware(AuthMiddleware, verifier=TokenVerifier(own, serve), restricted=restricted),
            Middleware(CacheMiddleware, version=DataVersion(own, serve.version_ttl_seconds), settings=serve),
        ],
    )
