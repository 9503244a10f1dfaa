"""`covidgis serve`: one ASGI app — pygeoapi (OGC API) per audience, auth, HTTP caching, and our own routes.

Request path: RequestLimits (too long a URL, header block or value → 414/431/400) → DatabaseOutage (503 +
Retry-After while the database cannot answer) → AuthMiddleware (who is asking; restricted collections → 401/403) →
CacheMiddleware (ETag, 304, hot responses per data version; anonymous only) → our routes (/health, /map) → the
pygeoapi app of the caller's audience (anonymous: public collections only; analyst / committee: public + their
restricted ones).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gis.care.api import care_routes
from gis.context import AppContext
from gis.db.replica import LagWatch, replay_position
from gis.hotline.open311 import hotline_routes
from gis.maps.app import map_routes
from gis.risk.publish import published
from gis.risk.settings import RiskSettings
from gis.serve import pygeoapi_fixes
from gis.serve.auth import ROLE_COLLECTIONS, USER_KEY, AuthMiddleware, TokenVerifier
from gis.serve.caching import CacheMiddleware
from gis.serve.fasttiles import zone_tile_routes
from gis.serve.limits import RequestLimits
from gis.serve.ogc import audience_config, load_config, make_api, ogc_app, restricted_collections
from gis.serve.outage import OUTAGE_ERRORS, DatabaseOutage, serving_engine, too_slow
from gis.serve.security import SecurityHeadersMiddleware
from gis.serve.settings import ServeSettings
from gis.serve.version import DataVersion
from gis.settings import PROJECT_ROOT, Settings, _sqlalchemy_url
from gis.travel.rules import load_travel_rules
from gis.welfare.api import welfare_routes

log = logging.getLogger(__name__)

PYGEOAPI_CONFIG = PROJECT_ROOT / "pygeoapi-config.yml"


def _secret(value) -> str:
    return value.get_secret_value() if value is not None else ""


def serving_url(settings: Settings, serve: ServeSettings) -> URL:
    """The database the server reads: COVIDGIS_SERVE_DATABASE_URL (a replica) when set, else the primary."""
    return make_url(_sqlalchemy_url(serve.database_url) if serve.database_url else settings.url)


def public_url(settings: Settings, serve: ServeSettings) -> URL:
    """The database URL as the public role (`pub` only), which every public path reads through."""
    password = _secret(serve.public_db_password) or None
    return serving_url(settings, serve).set(username=serve.public_db_user, password=password)


def pygeoapi_environment(settings: Settings, serve: ServeSettings) -> dict[str, str]:
    """The variables pygeoapi-config.yml reads, derived from our settings."""
    url = serving_url(settings, serve)
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
        "COVIDGIS_SERVE_VERSION_TTL_SECONDS": str(serve.version_ttl_seconds),
    }


class AudienceRouter:
    """Send each request to the pygeoapi app of the caller's audience."""

    def __init__(self, apps: dict[str, ASGIApp]):
        self.apps = apps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get(USER_KEY)
        await self.apps[user.role if user else "public"](scope, receive, send)


def warn_unpublished(engine: Engine, risk: RiskSettings, serve: ServeSettings) -> None:
    """One warning when the public zones do not show what the settings say (the server only reads; publishing is
    `covidgis zones publish`)."""
    shown = published(engine)
    wanted = (risk.ruleset, serve.suppress_below)
    if shown is None:
        log.warning("no zones are published yet: the public zones are empty; run `covidgis zones publish`")
    elif (shown.ruleset_id, shown.suppress_below) != wanted:
        log.warning(
            "the public zones show %s (counts below %d suppressed), the settings say %s (below %d); "
            "run `covidgis zones publish` to show them",
            shown.ruleset_id,
            shown.suppress_below,
            *wanted,
        )


def create_app(ctx: AppContext) -> Starlette:
    """Compose the served app (the one place where deployment choices meet the library); it writes nothing."""
    settings, serve, maps = ctx.settings, ctx.serve, ctx.maps
    load_travel_rules(ctx.travel.ruleset)  # a bad COVIDGIS_TRAVEL_RULESET fails at start, not at a request
    # A replica is read alone (the primary is not started or touched); otherwise the context's engine starts it.
    url = serving_url(settings, serve) if serve.database_url else ctx.engine.url
    pygeoapi_fixes.apply()
    config = load_config(PYGEOAPI_CONFIG, pygeoapi_environment(settings, serve))
    restricted = restricted_collections(config, serve.public_db_user)
    apps: dict[str, ASGIApp] = {"public": ogc_app(make_api(audience_config(config, restricted)))}
    for role, readable in ROLE_COLLECTIONS.items():
        apps[role] = ogc_app(make_api(audience_config(config, restricted - readable)))

    # The server's own reads (data version, API keys, /health) and the map's (as the public role), with timeouts.
    own = serving_engine(url, serve, "covidgis-serve")
    warn_unpublished(own, ctx.risk, serve)
    version = DataVersion(own, serve.version_ttl_seconds)  # one per server: the cache and the map key on it
    lag = LagWatch()  # on a replica: how long WAL received has waited to be replayed, over /health's looks

    def health(request: Request) -> JSONResponse:  # sync: Starlette runs it in a thread
        try:
            with own.connect() as conn:
                areas = conn.exec_driver_sql("SELECT count(*) FROM admin.area WHERE valid_to IS NULL").scalar_one()
                replica = replay_position(conn)
        except OUTAGE_ERRORS as error:
            return JSONResponse(
                {"status": "unavailable", "database": "slow" if too_slow(error) else "down"},
                status_code=503,
                headers={"Retry-After": str(serve.retry_after_seconds)},
            )
        body = {"status": "ok", "database": "up", "current_areas": areas}
        if replica is not None:  # a hot standby: stale answers are still answers (200), but say so
            behind = lag.look(replica)
            body["replica"] = {
                "lag_seconds": round(behind, 3),
                "unreplayed_bytes": replica.received - replica.replayed,
                "receiving": replica.receiving,
            }
            if behind > serve.max_lag_seconds or not replica.receiving:
                body["status"] = "degraded"
        return JSONResponse(body)

    audiences = AudienceRouter(apps)
    # Our own routes (health, the map, the zones' tiles), before pygeoapi's catch-all.
    routes: list[BaseRoute] = [
        Route("/health", health),
        *zone_tile_routes(audiences, serving_engine(public_url(settings, serve), serve, "covidgis-tiles"), config),
        *welfare_routes(ctx),
        *care_routes(ctx),
        *hotline_routes(ctx),
        *map_routes(
            serving_engine(public_url(settings, serve), serve, "covidgis-map"), maps, version, ctx.travel.ruleset
        ),
    ]
    return Starlette(
        routes=[*routes, Mount("/", app=audiences)],
        middleware=[
            Middleware(SecurityHeadersMiddleware, tile_urls=[maps.basemap_url, config["server"]["map"]["url"]]),
            Middleware(RequestLimits, settings=serve),
            Middleware(DatabaseOutage, engine=own, settings=serve),
            Middleware(AuthMiddleware, verifier=TokenVerifier(own, serve), restricted=restricted),
            Middleware(CacheMiddleware, version=version, settings=serve),
        ],
    )
