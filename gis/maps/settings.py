"""Settings of the map page (prefix COVIDGIS_MAP_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://openstreetmap.org/copyright">OpenStreetMap</a>'


class MapSettings(BaseSettings):
    """Where the page lives, how often it revalidates the zones, and the optional basemap."""

    model_config = SettingsConfigDict(env_prefix="COVIDGIS_MAP_", env_file=".env", extra="ignore")

    # URL prefix of the page, its static files and its API.
    prefix: str = "/map"
    # The page revalidates the zones (If-None-Match) this often; `?refresh=S` on the page URL overrides it.
    refresh_seconds: float = 60.0
    # Basemap tiles, used only when one tile loads (offline, the boundaries alone make the map); empty: never.
    basemap_url: str = OSM_TILES
    basemap_attribution: str = OSM_ATTRIBUTION
    # Days of history in a unit's popup strip; also the days of locations of interest shown up to the map's day.
    history_days: int = 14
    # The province's time zone: locations of interest show their window in it.
    timezone: str = "Asia/Ho_Chi_Minh"
    # Restricted OGC collections the page offers after sign-in (the server decides whether a token may read them).
    restricted_layers: list[str] = ["quarantine-facilities", "cases", "exposure-venues"]
    restricted_limit: int = 5000
