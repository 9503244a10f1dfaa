"""Settings of the server (prefix COVIDGIS_SERVE_); host, port and the database URL are in gis/settings.py."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServeSettings(BaseSettings):
    """Database roles, privacy, HTTP caching, request limits, outages and credentials of `covidgis serve`."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_SERVE_", env_file=".env", extra="ignore")

    # Where every read of the server goes: a hot-standby replica (`covidgis db replica init`), libpq or SQLAlchemy
    # URL; unset: the primary (DATABASE_URL or the local cluster). Ingest and recompute always write the primary.
    database_url: str | None = None
    # /health says "degraded" (still 200) when the replica's replay is further behind than this, or it receives no WAL.
    max_lag_seconds: float = 30.0

    # Roles created by migration 0004. Public collections read through the first, restricted ones through the second.
    public_db_user: str = "covidgis_public"
    public_db_password: SecretStr | None = None
    restricted_db_user: str = "covidgis_restricted"
    restricted_db_password: SecretStr | None = None

    # Counts of people above 0 and below this are never shown publicly (`covidgis zones publish` writes it to
    # risk.published).
    suppress_below: int = 5

    # HTTP caching: clients may reuse a public response this long, then revalidate (ETag/Last-Modified → 304).
    max_age_seconds: int = 5
    # How long the data version (zone snapshot, boundary load, facility batch) is reused before it is read again.
    version_ttl_seconds: float = 1.0
    # Hot public responses are kept in memory per data version, up to this many MB counted as the memory they hold
    # (bodies, headers, bookkeeping; 0 turns the cache off), none bigger than the second (a whole province's zones
    # is ~2.5 MB, a 10,000-feature page of zone history ~10 MB): part of the server's memory, which stays ≤ 500 MB.
    response_cache_mb: int = 64
    response_cache_entry_mb: int = 8

    # Request limits (gis/serve/limits.py), checked before anything else reads the request: a longer URL (path and
    # query, in bytes) answers 414, more header bytes (names and values together) 431, a longer path segment or query
    # value (characters, after decoding) 400. QGIS, OWSLib and GDAL stay far below; a CQL polygon of ~150 vertices fits.
    max_url_bytes: int = 8192
    max_header_bytes: int = 16384
    max_value_chars: int = 4096
    # Nothing the server logs is longer than this (message, argument, traceback line): user values are cut.
    max_log_chars: int = 1000

    # The server's own connections (data version, API keys, /health, the map API): a statement is cancelled after
    # this, and connecting gives up after that; while the database cannot answer, every path is a 503 with this
    # Retry-After (gis/serve/outage.py).
    statement_timeout_seconds: float = 10.0
    connect_timeout_seconds: int = 5
    retry_after_seconds: int = 10

    # API keys are looked up again after this many seconds (so a revoked key stops working within it).
    token_ttl_seconds: float = 5.0

    # Optional OIDC: bearer JWTs signed by this issuer's keys are accepted too; the role comes from `oidc_role_claim`.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_role_claim: str = "roles"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_jwks_url)
